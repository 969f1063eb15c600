//! The only layer that knows HTTP: routes, extractors, and the choice between a full page,
//! an htmx fragment and a redirect.

mod account;
mod admin_api;
mod api;
mod api_tokens;
mod apps;
mod assets;
mod audit;
mod auth;
mod bulk;
mod devices;
mod enroll;
pub mod errors;
mod flash;
pub mod gateway;
mod groups;
mod health;
mod import;
mod invitations;
mod locations;
mod mfa;
mod middleware;
mod oidc;
mod outbox;
pub mod request;
mod reset;
pub mod session;
mod settings;
mod setup;
mod sign_in_admin;
mod tokens;
mod users;

use crate::error::AppError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;

/// Largest form body accepted (docs/security.md, item 18).
pub const FORM_LIMIT: usize = 16 * 1024;

/// The answer to a form that cannot be decoded into the page's fields.
const UNKNOWN_FIELDS: &str =
    "The form contained fields this page does not know. Reload the page and try again.";

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|err, _req| {
                let message = match &err {
                    actix_web::error::UrlencodedError::Overflow { .. } => {
                        "The form is too large. Shorten the text you entered and try again."
                            .to_owned()
                    }
                    actix_web::error::UrlencodedError::ContentType => {
                        "The form was not sent as a form.".to_owned()
                    }
                    actix_web::error::UrlencodedError::Parse(_) => UNKNOWN_FIELDS.to_owned(),
                    _ => "The form could not be read. Reload the page and try again.".to_owned(),
                };
                AppError::BadRequest(message).into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|_, _| {
        AppError::BadRequest("The address contains parameters this page does not know.".into())
            .into()
    }))
    // The default answer quotes the input and the parser (`can not parse "…" to a i64`).
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
    .route("/", web::get().to(|| async { see_other("/admin/users") }))
    .route("/health", web::get().to(health::show_health))
    .route(
        "/api/docs/openapi.json",
        web::get().to(admin_api::show_openapi),
    )
    .configure(oidc::configure)
    .configure(apps::configure)
    .service(api::scope())
    .service(gateway::scope())
    .route(
        "/assets/{hash}/{path:.*}",
        web::get().to(assets::show_asset),
    )
    .route(
        "/admin",
        web::get().to(|| async { see_other("/admin/users") }),
    )
    .route(
        "/admin/",
        web::get().to(|| async { see_other("/admin/users") }),
    )
    .service(
        web::resource("/admin/login")
            .route(web::get().to(auth::show_login))
            .route(web::post().to(auth::submit_login)),
    )
    .service(web::resource("/admin/logout").route(web::post().to(auth::submit_logout)))
    .service(
        web::resource("/login")
            .route(web::get().to(auth::show_login))
            .route(web::post().to(auth::submit_login)),
    )
    .service(
        web::resource("/login/code")
            .route(web::get().to(auth::show_code))
            .route(web::post().to(auth::submit_code)),
    )
    .service(web::resource("/login/code/email").route(web::post().to(auth::submit_email_code)))
    .service(web::resource("/logout").route(web::post().to(auth::submit_logout)))
    .service(
        web::resource("/reset/request")
            .route(web::get().to(reset::show_request))
            .route(web::post().to(reset::submit_request)),
    )
    .service(web::resource("/reset").route(web::get().to(reset::show_link)))
    .service(web::resource("/reset/start").route(web::post().to(reset::submit_start)))
    .service(
        web::resource("/reset/password")
            .route(web::get().to(reset::show_password))
            .route(web::post().to(reset::submit_password)),
    )
    .service(web::resource("/admin/setup").route(web::get().to(setup::show)))
    .service(web::resource("/admin/setup/hide").route(web::post().to(setup::submit_hide)))
    .service(web::resource("/admin/setup/show").route(web::post().to(setup::submit_show)))
    .service(web::resource("/me").route(web::get().to(account::show_me)))
    .service(web::resource("/me/profile").route(web::post().to(account::submit_profile)))
    .service(web::resource("/me/password").route(web::post().to(account::submit_password)))
    .service(web::resource("/me/devices").route(web::post().to(account::submit_add_device)))
    .service(
        web::resource("/me/devices/{device_id}/rename")
            .route(web::get().to(account::show_rename_device))
            .route(web::post().to(account::submit_rename_device)),
    )
    .service(
        web::resource("/me/devices/{device_id}/delete")
            .route(web::get().to(account::show_delete_device))
            .route(web::post().to(account::submit_delete_device)),
    )
    .service(web::resource("/me/desktop").route(web::post().to(account::submit_desktop)))
    .service(web::resource("/me/desktop/{card}").route(web::get().to(account::show_desktop_card)))
    .service(web::resource("/me/two-factor").route(web::get().to(mfa::show)))
    .service(web::resource("/me/two-factor/totp").route(web::post().to(mfa::submit_start_totp)))
    .service(
        web::resource("/me/two-factor/totp/confirm")
            .route(web::post().to(mfa::submit_confirm_totp)),
    )
    .service(web::resource("/me/two-factor/recovery").route(web::post().to(mfa::submit_recovery)))
    .service(web::resource("/me/two-factor/email").route(web::post().to(mfa::submit_email)))
    .service(
        web::resource("/me/two-factor/email/confirm")
            .route(web::post().to(mfa::submit_confirm_email)),
    )
    .service(web::resource("/me/two-factor/disable").route(web::post().to(mfa::submit_disable)))
    .service(
        web::resource("/admin/users")
            .route(web::get().to(users::show_users))
            .route(web::post().to(users::submit_new_user)),
    )
    .service(web::resource("/admin/users/new").route(web::get().to(users::show_new_user)))
    .service(
        web::resource(import::UPLOAD_PATH)
            .route(web::get().to(import::show_import))
            .route(web::post().to(import::submit_import)),
    )
    .service(web::resource("/admin/users/bulk").route(web::post().to(bulk::submit_bulk)))
    .service(
        web::resource("/admin/users/import/confirm").route(web::post().to(import::submit_confirm)),
    )
    .service(web::resource("/admin/users/{id}").route(web::get().to(devices::show_user)))
    .service(web::resource("/admin/users/{id}/devices").route(web::post().to(devices::submit_add)))
    .service(
        web::resource("/admin/users/{id}/devices/{device_id}/rename")
            .route(web::get().to(devices::show_rename))
            .route(web::post().to(devices::submit_rename)),
    )
    .service(
        web::resource("/admin/users/{id}/devices/{device_id}/delete")
            .route(web::get().to(devices::show_delete))
            .route(web::post().to(devices::submit_delete)),
    )
    .service(
        web::resource("/admin/settings/accounts")
            .route(web::get().to(sign_in_admin::show_account_rules))
            .route(web::post().to(sign_in_admin::submit_account_rules)),
    )
    .service(
        web::resource("/admin/users/{id}/password-reset")
            .route(web::get().to(sign_in_admin::show_password_reset))
            .route(web::post().to(sign_in_admin::submit_password_reset)),
    )
    .service(
        web::resource("/admin/users/{id}/two-factor/reset")
            .route(web::get().to(sign_in_admin::show_reset_two_factor))
            .route(web::post().to(sign_in_admin::submit_reset_two_factor)),
    )
    .service(
        web::resource("/admin/users/{id}/admin").route(web::post().to(sign_in_admin::submit_admin)),
    )
    .service(
        web::resource("/admin/users/{id}/actions").route(web::get().to(users::show_user_actions)),
    )
    .service(
        web::resource("/admin/users/{id}/edit")
            .route(web::get().to(users::show_edit_user))
            .route(web::post().to(users::submit_edit_user)),
    )
    .service(
        web::resource("/admin/users/{id}/disable")
            .route(web::post().to(users::submit_disable_user)),
    )
    .service(
        web::resource("/admin/users/{id}/enable").route(web::post().to(users::submit_enable_user)),
    )
    .service(
        web::resource("/admin/users/{id}/delete")
            .route(web::get().to(users::show_delete_user))
            .route(web::post().to(users::submit_delete_user)),
    )
    .service(
        web::resource("/admin/groups")
            .route(web::get().to(groups::show_groups))
            .route(web::post().to(groups::submit_new_group)),
    )
    .service(web::resource("/admin/groups/{id}").route(web::get().to(groups::show_group)))
    .service(
        web::resource("/admin/groups/{id}/members")
            .route(web::post().to(groups::submit_add_member)),
    )
    .service(
        web::resource("/admin/groups/{id}/members/{user_id}/remove")
            .route(web::post().to(groups::submit_remove_member)),
    )
    .service(
        web::resource("/admin/groups/{id}/edit")
            .route(web::get().to(groups::show_rename_group))
            .route(web::post().to(groups::submit_rename_group)),
    )
    .service(
        web::resource("/admin/groups/{id}/delete")
            .route(web::get().to(groups::show_delete_group))
            .route(web::post().to(groups::submit_delete_group)),
    )
    .service(
        web::resource("/admin/locations")
            .route(web::get().to(locations::show_locations))
            .route(web::post().to(locations::submit_new_location)),
    )
    .service(
        web::resource("/admin/locations/new").route(web::get().to(locations::show_new_location)),
    )
    .service(
        web::resource("/admin/locations/{id}/edit")
            .route(web::get().to(locations::show_edit_location))
            .route(web::post().to(locations::submit_edit_location)),
    )
    .service(
        web::resource("/admin/locations/{id}/delete")
            .route(web::get().to(locations::show_delete_location))
            .route(web::post().to(locations::submit_delete_location)),
    )
    .service(
        web::resource("/admin/locations/{id}/gateway.conf")
            .route(web::get().to(locations::show_gateway_config)),
    )
    .service(
        web::resource("/admin/locations/{id}/gateway-token")
            .route(web::post().to(locations::submit_gateway_token)),
    )
    .service(
        web::resource("/admin/settings")
            .route(web::get().to(settings::show_settings))
            .route(web::post().to(settings::submit_settings)),
    )
    .service(
        web::resource("/admin/settings/invitations")
            .route(web::get().to(invitations::show))
            .route(web::post().to(invitations::submit)),
    )
    .service(
        web::resource("/admin/settings/preview").route(web::post().to(settings::submit_preview)),
    )
    .service(
        web::resource("/admin/settings/test-email")
            .route(web::post().to(settings::submit_test_email)),
    )
    .service(web::resource("/admin/outbox").route(web::get().to(outbox::show_outbox)))
    .service(web::resource("/admin/outbox/{id}").route(web::get().to(outbox::show_mail)))
    .service(web::resource("/admin/outbox/{id}/retry").route(web::post().to(outbox::submit_retry)))
    .service(web::resource("/admin/audit").route(web::get().to(audit::show_audit)))
    .service(
        web::resource("/admin/api-tokens")
            .route(web::get().to(api_tokens::show_tokens))
            .route(web::post().to(api_tokens::submit_new_token)),
    )
    .service(
        web::resource("/admin/api-tokens/{id}/revoke")
            .route(web::post().to(api_tokens::submit_revoke)),
    )
    .service(web::resource("/enroll").route(web::get().to(enroll::show_enroll)))
    .service(web::resource("/enroll/start").route(web::post().to(enroll::submit_start)))
    .service(web::resource("/enroll/wizard").route(web::get().to(enroll::show_wizard)))
    .service(web::resource("/enroll/wizard/welcome").route(web::post().to(enroll::submit_welcome)))
    .service(web::resource("/enroll/wizard/verify").route(web::post().to(enroll::submit_verify)))
    .service(
        web::resource("/enroll/wizard/password").route(web::post().to(enroll::submit_password)),
    )
    .service(
        web::resource("/enroll/wizard/password/strength")
            .route(web::post().to(enroll::password_strength)),
    )
    .service(web::resource("/enroll/wizard/vpn").route(web::post().to(enroll::submit_vpn)))
    .service(
        web::resource("/enroll/wizard/two-factor")
            .route(web::post().to(enroll::submit_two_factor_start)),
    )
    .service(
        web::resource("/enroll/wizard/two-factor/confirm")
            .route(web::post().to(enroll::submit_two_factor_confirm)),
    )
    .service(
        web::resource("/enroll/wizard/two-factor/skip")
            .route(web::post().to(enroll::submit_two_factor_skip)),
    )
    .service(web::resource("/enroll/done").route(web::get().to(enroll::show_done)))
    .service(web::resource("/enroll/done/{file}").route(web::get().to(enroll::show_done_config)))
    .service(
        web::resource("/admin/users/{id}/enrollment")
            .route(web::get().to(tokens::show_enrollment_dialog))
            .route(web::post().to(tokens::submit_enrollment_dialog)),
    )
    .service(
        web::resource("/admin/users/{id}/desktop")
            .route(web::get().to(tokens::show_desktop_dialog))
            .route(web::post().to(tokens::submit_desktop_dialog)),
    )
    .service(
        web::resource("/admin/users/{id}/revoke-token")
            .route(web::post().to(tokens::submit_revoke_token)),
    )
    .service(
        web::resource("/admin/users/{id}/token/{card}")
            .route(web::get().to(tokens::show_token_card)),
    );
}

/// Response for anything no route matched.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// `303 See Other`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// An HTML response that may be a page or a fragment of it, so caches key on `HX-Request`.
pub fn html(status: actix_web::http::StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "HX-Request"))
        .body(markup.into_string())
}

/// The shell's view of the logged-in admin.
pub fn viewer(session: &crate::services::auth::AdminSession) -> crate::views::layout::Viewer {
    crate::views::layout::Viewer {
        username: session.username.clone(),
        csrf_token: session.csrf_token.clone(),
        checklist_link: session.checklist_link,
    }
}

/// A form whose only field is the CSRF token.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    /// The synchronizer token (htmx sends it as a header instead).
    #[serde(default)]
    pub csrf_token: Option<String>,
}

/// A posted form as its raw pairs, for forms with a field that may repeat.
pub type PairsForm = web::Form<Vec<(String, String)>>;

/// Decodes a form whose field `repeated` may appear any number of times (checkboxes, a
/// multiple select; `serde_urlencoded` cannot decode those into a struct): the other fields
/// as `T`, which may deny unknown fields, and the repeated field's values in order.
pub fn with_repeated<T: serde::de::DeserializeOwned>(
    pairs: Vec<(String, String)>,
    repeated: &str,
) -> Result<(T, Vec<String>), AppError> {
    let (values, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == repeated);
    let encoded = serde_urlencoded::to_string(&rest).map_err(AppError::internal)?;
    let form = serde_urlencoded::from_str(&encoded)
        .map_err(|_| AppError::BadRequest(UNKNOWN_FIELDS.to_owned()))?;
    Ok((form, values.into_iter().map(|(_, v)| v).collect()))
}

/// Application state from the request.
pub fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))
}

pub use middleware::{catch_panics, head_as_get, read_body_in_time, security_headers};

/// Decodes `body` as every form, query and JSON body the server accepts, the way the
/// extractors do; for the fuzzers (`make fuzz`), which check that no input panics.
#[doc(hidden)]
pub fn decode_bodies_for_fuzzing(body: &[u8]) {
    macro_rules! form {
        ($($t:ty),* $(,)?) => { $( let _ = serde_urlencoded::from_bytes::<$t>(body); )* };
    }
    macro_rules! json {
        ($($t:ty),* $(,)?) => { $( let _ = serde_json::from_slice::<$t>(body); )* };
    }
    form!(
        auth::LoginForm,
        auth::LogoutForm,
        users::ListQuery,
        users::NewUserForm,
        users::EditUserForm,
        import::ConfirmForm,
        bulk::BulkForm,
        api_tokens::NewTokenForm,
        invitations::InvitationSettingsForm,
        tokens::TokenDialogForm,
        devices::RenameForm,
        devices::AddDeviceForm,
        CsrfOnly,
        locations::LocationForm,
        groups::NameForm,
        groups::MemberForm,
        Vec<(String, String)>,
        settings::SettingsForm,
        settings::PreviewForm,
        outbox::OutboxQuery,
        audit::AuditQuery,
        enroll::LinkQuery,
        enroll::StartForm,
        enroll::StepForm,
        enroll::VerifyForm,
        enroll::PasswordForm,
        enroll::VpnForm,
    );
    json!(
        api::StartRequest,
        api::ActivateRequest,
        api::NewDeviceRequest,
        api::ExistingDeviceRequest,
        api::PollRequest,
        admin_api::AddUserData,
        admin_api::StartEnrollmentRequest
    );
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = crate::domain::user::Profile::parse(text, text, text, text);
        let _ = crate::config::parse_duration(text);
        let _ = crate::config::parse_smtp_url(text);
    }
}
