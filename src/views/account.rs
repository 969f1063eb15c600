//! "My account" (`/me`): what every signed-in user sees of their own account: profile,
//! devices, the desktop client, password and two-factor.

use super::components::{error_summary, field, flash, flash_error, qr_svg, Input};
use super::layout::{csrf_field, Viewer};
use super::user_page::{add_device_form, devices_section, AddValues, Renaming};
use crate::domain::FieldError;
use crate::services::account::{Editable, Me};
use crate::services::devices::admin::UserOverview;
use crate::services::mfa::{Factors, TotpSetup};
use crate::services::tokens::IssuedToken;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The shell of the account pages: the instance's name, "My account", the admin pages for an
/// admin, and "Log out".
pub fn account_page(
    title: &str,
    instance: &str,
    viewer: &Viewer,
    is_admin: bool,
    content: Markup,
) -> Markup {
    let headers = format!(r#"{{"X-CSRF-Token":"{}"}}"#, viewer.csrf_token);
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (super::layout::head_with_keygen(title, instance))
            body hx-headers=(headers) {
                a class="sr-only" href="#main" { "Skip to content" }
                header class="topbar" {
                    a class="brand" href="/me" { (instance) }
                    nav class="mainnav" aria-label="Main" {
                        a href="/me" aria-current=[(title == "My account").then_some("page")] { "My account" }
                        @if is_admin { a href="/admin/users" { "Admin" } }
                    }
                    form method="post" action="/logout" class="logout" {
                        (csrf_field(&viewer.csrf_token))
                        span class="muted" { "Signed in as " (viewer.username) }
                        " "
                        button type="submit" class="linklike" { "Log out" }
                    }
                }
                main id="main" class="container" {
                    div id="flash-area" role="status" {}
                    (content)
                }
            }
        }
    }
}

/// Everything the account page shows.
#[derive(Debug)]
pub struct MeView<'a> {
    /// The profile.
    pub me: &'a Me,
    /// Apps the user signed in to with this account.
    pub apps: &'a [crate::services::oidc::ConnectedApp],
    /// Which fields the user may edit.
    pub editable: Editable,
    /// Devices (the same overview the admin's page uses).
    pub overview: &'a UserOverview,
    /// Second factors.
    pub factors: Factors,
    /// A notice after a redirect.
    pub notice: Option<&'a str>,
    /// An error after a redirect.
    pub error: Option<&'a str>,
    /// A device being renamed.
    pub renaming: Option<Renaming<'a>>,
    /// The add-device form.
    pub add: &'a AddValues,
    /// Its errors.
    pub add_errors: &'a [FieldError],
    /// The profile form's errors.
    pub profile_errors: &'a [FieldError],
    /// The password form's errors.
    pub password_errors: &'a [FieldError],
}

/// `/me`.
pub fn me_page(instance: &str, viewer: &Viewer, is_admin: bool, v: &MeView<'_>) -> Markup {
    let me = v.me;
    account_page(
        "My account",
        instance,
        viewer,
        is_admin,
        html! {
            h1 { "My account" }
            (flash(v.notice))
            (flash_error(v.error))
            (profile_section(viewer, me, v.editable, v.profile_errors))
            (devices_section(viewer, "/me", v.overview, v.renaming))
            (add_device_form(viewer, "/me", "Add a device", v.add, v.add_errors))
            section class="card stack" aria-labelledby="desktop-title" {
                h2 id="desktop-title" { "Set up the desktop client" }
                p {
                    "The desktop client connects to every location you may use and keeps them up to date. "
                    "Install it from " a href="https://defguard.net/download/" { "defguard.net/download" }
                    ", then get a one-time activation token here. A new token replaces one you had not used yet."
                }
                form method="post" action="/me/desktop" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-primary" { "Get an activation token" }
                }
            }
            (password_section(viewer, v.password_errors))
            (connected_apps(viewer, v.apps))
            section class="card stack" aria-labelledby="mfa-title" {
                h2 id="mfa-title" { "Two-factor sign-in" }
                @if v.factors.any() {
                    p {
                        "On: "
                        @if v.factors.totp { "authenticator app" }
                        @if v.factors.totp && v.factors.email { " and " }
                        @if v.factors.email { "codes by email" }
                        ". " (v.factors.recovery_left) " recovery codes left."
                    }
                } @else {
                    p { "Off. A second factor keeps your account safe even if someone learns your password." }
                }
                p { a class="button button-secondary" href="/me/two-factor" { "Manage two-factor sign-in" } }
            }
        },
    )
}

fn profile_section(viewer: &Viewer, me: &Me, editable: Editable, errors: &[FieldError]) -> Markup {
    let phone = me.phone.clone().unwrap_or_default();
    html! {
        section id="profile" class="card stack" aria-labelledby="profile-title" {
            h2 id="profile-title" { "Profile" }
            dl {
                dt { "Username" } dd { (me.username) }
                @if !editable.name { dt { "Name" } dd { (me.first_name) " " (me.last_name) } }
                @if !editable.email { dt { "Email" } dd { (me.email) } }
                @if !editable.phone { dt { "Phone" } dd { (me.phone.as_deref().unwrap_or("—")) } }
            }
            @if editable.any() {
                (error_summary(errors))
                form class="form stack" method="post" action="/me/profile" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    @if editable.name {
                        (field(Input { autocomplete: "given-name", maxlength: 64, ..Input::new("first_name", "First name", &me.first_name) }, errors))
                        (field(Input { autocomplete: "family-name", maxlength: 64, ..Input::new("last_name", "Last name", &me.last_name) }, errors))
                    }
                    @if editable.email {
                        (field(Input { kind: "email", autocomplete: "email", ..Input::new("email", "Email", &me.email) }, errors))
                    }
                    @if editable.phone {
                        (field(Input { kind: "tel", autocomplete: "tel", required: false, maxlength: 32, ..Input::new("phone", "Phone", &phone) }, errors))
                    }
                    div class="actions" { button type="submit" class="button-primary" { "Save profile" } }
                }
            } @else {
                p class="muted" { "Ask your administrator to change these." }
            }
        }
    }
}

fn connected_apps(viewer: &Viewer, apps: &[crate::services::oidc::ConnectedApp]) -> Markup {
    html! {
        section id="apps" class="card stack" aria-labelledby="apps-title" {
            h2 id="apps-title" { "Connected apps" }
            @if apps.is_empty() {
                p { "You have not signed in to other apps with this account." }
            } @else {
                p class="muted" { "Apps you allowed to sign you in. Disconnecting one signs you out of it; it asks again next time." }
                ul {
                    @for a in apps {
                        li class="row" {
                            span { (a.name) }
                            form method="post" action=(format!("/me/apps/{}/disconnect", a.id)) {
                                (csrf_field(&viewer.csrf_token))
                                button type="submit" class="linklike" aria-label=(format!("Disconnect {}", a.name)) { "Disconnect" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn password_section(viewer: &Viewer, errors: &[FieldError]) -> Markup {
    html! {
        section id="password" class="card stack" aria-labelledby="password-title" {
            h2 id="password-title" { "Change password" }
            p class="muted" { "At least 12 characters, hard to guess. Your other sessions end when it changes." }
            (error_summary(errors))
            form class="form stack" method="post" action="/me/password" novalidate {
                (csrf_field(&viewer.csrf_token))
                // A hidden username helps password managers file the new password.
                input type="text" name="username" value=(viewer.username) autocomplete="username" hidden;
                (field(Input { kind: "password", autocomplete: "current-password", maxlength: 1024, ..Input::new("current_password", "Current password", "") }, errors))
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 1024, ..Input::new("password", "New password", "") }, errors))
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 1024, ..Input::new("password_repeat", "Repeat the new password", "") }, errors))
                div class="actions" { button type="submit" class="button-primary" { "Change password" } }
            }
        }
    }
}

/// What the two-factor page shows.
#[derive(Debug)]
pub struct TwoFactorView<'a> {
    /// Current factors.
    pub factors: Factors,
    /// An authenticator app being set up.
    pub setup: Option<&'a TotpSetup>,
    /// A code was just emailed to turn email codes on.
    pub email_sent: bool,
    /// Whether onramp can send email.
    pub smtp: bool,
    /// Everyone must have a second factor (and this user has none yet).
    pub required: bool,
    /// Notice.
    pub notice: Option<&'a str>,
    /// Error.
    pub error: Option<&'a str>,
}

/// `/me/two-factor`.
pub fn two_factor_page(
    instance: &str,
    viewer: &Viewer,
    is_admin: bool,
    v: &TwoFactorView<'_>,
) -> Markup {
    account_page(
        "Two-factor sign-in",
        instance,
        viewer,
        is_admin,
        html! {
            p { a href="/me" { "← My account" } }
            h1 { "Two-factor sign-in" }
            @if v.required && !v.factors.any() {
                div class="flash flash-error" role="alert" {
                    "Your organisation requires a second factor. Set one up to continue."
                }
            }
            (flash(v.notice))
            (flash_error(v.error))
            section class="card stack" aria-labelledby="totp-title" {
                h2 id="totp-title" { "Authenticator app" }
                @if v.factors.totp {
                    p { "On. Sign-ins ask for the 6-digit code your app shows." }
                } @else if let Some(setup) = v.setup {
                    (totp_setup(setup, "/me/two-factor/totp/confirm", &viewer.csrf_token, &[], html! {}))
                } @else {
                    p { "Use an app on your phone that shows a new 6-digit code every 30 seconds." }
                    form method="post" action="/me/two-factor/totp" {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class="button-primary" { "Set up an authenticator app" }
                    }
                }
            }
            section class="card stack" aria-labelledby="email-title" {
                h2 id="email-title" { "Codes by email" }
                @if v.factors.email {
                    p { "On. At sign-in you can ask for a code by email." }
                } @else if !v.smtp {
                    p class="muted" { "Not available: this instance cannot send email yet." }
                } @else if v.email_sent {
                    p { "We emailed you a code. Type it here to turn email codes on." }
                    form class="form stack" method="post" action="/me/two-factor/email/confirm" novalidate {
                        (csrf_field(&viewer.csrf_token))
                        (field(Input { autocomplete: "one-time-code", maxlength: 16, ..Input::new("code", "Code from the email", "") }, &[]))
                        div class="actions" { button type="submit" class="button-primary" { "Turn on" } }
                    }
                } @else {
                    form method="post" action="/me/two-factor/email" {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class="button-secondary" { "Use codes by email" }
                    }
                }
            }
            @if v.factors.any() {
                section class="card stack" aria-labelledby="recovery-title" {
                    h2 id="recovery-title" { "Recovery codes" }
                    p { "If you lose your phone, each recovery code signs you in once. " (v.factors.recovery_left) " left." }
                    form method="post" action="/me/two-factor/recovery" {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class="button-secondary" { "Make new recovery codes" }
                    }
                }
                section class="card stack" aria-labelledby="off-title" {
                    h2 id="off-title" { "Turn two-factor off" }
                    @if v.required {
                        p class="muted" { "Your organisation requires a second factor, so it cannot be turned off." }
                    } @else {
                        form class="form stack" method="post" action="/me/two-factor/disable" novalidate {
                            (csrf_field(&viewer.csrf_token))
                            (field(Input { autocomplete: "one-time-code", maxlength: 64, hint: Some("A code from your app or email, or a recovery code."), ..Input::new("code", "Current code", "") }, &[]))
                            div class="actions" { button type="submit" class="button-danger" { "Turn two-factor off" } }
                        }
                    }
                }
            }
        },
    )
}

/// Setting up an authenticator app: the QR code of the otpauth URI, the secret as text, and
/// the form that confirms it with a code (`extra` goes beside its submit button).
pub fn totp_setup(
    setup: &TotpSetup,
    action: &str,
    csrf_token: &str,
    errors: &[FieldError],
    extra: Markup,
) -> Markup {
    html! {
        ol class="stack" {
            li { "Open your authenticator app (for example Aegis, Google Authenticator, 1Password) and scan this code." }
        }
        figure class="qr" {
            @match qr_svg(&setup.uri) {
                Ok(svg) => (PreEscaped(svg)),
                Err(_) => p { "The QR code could not be drawn; type the key below instead." },
            }
            figcaption { "QR code for your authenticator app" }
        }
        p { "Cannot scan? Type this key: " code class="mono" id="totp-secret" { (setup.secret) } }
        form class="form stack" method="post" action=(action) novalidate {
            (csrf_field(csrf_token))
            (field(Input { autocomplete: "one-time-code", maxlength: 16, hint: Some("The 6-digit code the app shows now."), ..Input::new("code", "Code from the app", "") }, errors))
            div class="actions" { button type="submit" class="button-primary" { "Turn on" } (extra) }
        }
    }
}

/// Fresh recovery codes with their download, and the warning that they are shown only now.
pub fn recovery_codes(codes: &[String]) -> Markup {
    let text = codes.join("\n") + "\n";
    let data = format!(
        "data:text/plain;charset=utf-8,{}",
        serde_urlencoded::to_string([("", text.as_str())])
            .unwrap_or_default()
            .trim_start_matches('=')
    );
    html! {
        div class="flash flash-error" role="note" {
            "These codes are shown only now. Download or write them down and keep them somewhere safe: each one signs you in once if you lose your phone."
        }
        ul class="mono recovery-codes" aria-label="Recovery codes" {
            @for c in codes { li { (c) } }
        }
        p { a class="button button-primary" href=(data) download="recovery-codes.txt" { "Download the codes" } }
    }
}

/// Fresh recovery codes, shown once.
pub fn recovery_codes_page(
    instance: &str,
    viewer: &Viewer,
    is_admin: bool,
    codes: &[String],
) -> Markup {
    account_page(
        "Recovery codes",
        instance,
        viewer,
        is_admin,
        html! {
            div class="card stack" hx-history="false" {
                h1 { "Your recovery codes" }
                (recovery_codes(codes))
                p { a href="/me/two-factor" { "Done" } }
            }
        },
    )
}

/// The user's own desktop activation token, shown once.
pub fn desktop_card_page(
    instance: &str,
    viewer: &Viewer,
    is_admin: bool,
    t: &IssuedToken,
    qr_svg: &str,
) -> Markup {
    account_page(
        "Desktop activation",
        instance,
        viewer,
        is_admin,
        html! {
            div class="card stack" hx-history="false" {
                h1 { "Activate the desktop client" }
                div class="flash flash-error" role="note" {
                    "This token is shown only now and works once. If you leave this page before using it, get a new one."
                }
                ol class="stack" {
                    li { "Install the desktop client from " a href="https://defguard.net/download/" { "defguard.net/download" } "." }
                    li { "Open the link below, or in the client choose “Add instance” and paste the URL and the token." }
                }
                (super::tokens::copy_row("token-url", "Instance URL", &t.url))
                (super::tokens::copy_row("token-value", "Token", &t.secret))
                p { a class="button button-primary" href=(t.deeplink()) { "Open in the desktop client" } }
                p class="copy-status muted" role="status" {}
                figure class="qr" {
                    (PreEscaped(qr_svg))
                    figcaption { "For the mobile client: scan to add this instance." }
                }
                p { "Expires " (super::time_tag(t.expires_at)) "." }
                p { a href="/me" { "Back to my account" } }
            }
        },
    )
}

/// The desktop card after it was shown: nothing is issued again.
pub fn desktop_card_gone_page(instance: &str, viewer: &Viewer, is_admin: bool) -> Markup {
    account_page(
        "Token already shown",
        instance,
        viewer,
        is_admin,
        html! {
            div class="card stack" {
                h1 tabindex="-1" data-autofocus { "Token already shown" }
                p { "This activation token was already shown, so reloading or going back does not show it again. Get a new one if you did not use it; it replaces the old one." }
                form method="post" action="/me/desktop" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-primary" { "Get a new activation token" }
                }
                p { a href="/me" { "Back to my account" } }
            }
        },
    )
}
