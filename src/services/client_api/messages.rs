//! The JSON shapes the desktop client reads, exactly as its decoder wants them: every key
//! present, enums as integers, `null` only where a field is optional.

use crate::db::{devices as device_repo, users};
use crate::error::AppError;
use crate::services::devices::{client_config, device_locations, PRIVATE_KEY_PLACEHOLDER};
use crate::services::settings::{load as load_settings, Settings};
use crate::state::AppState;
use rusqlite::Connection;
use serde::Serialize;

/// `InstanceInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceInfo {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) url: String,
    pub(super) proxy_url: String,
    pub(super) username: String,
    pub(super) enterprise_enabled: bool,
    pub(super) disable_all_traffic: bool,
    pub(super) openid_display_name: Option<String>,
    pub(super) client_traffic_policy: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct AdminInfo {
    pub(super) name: String,
    pub(super) phone_number: Option<String>,
    pub(super) email: String,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct UserInfo {
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) login: String,
    pub(super) email: String,
    pub(super) phone_number: Option<String>,
    pub(super) is_active: bool,
    pub(super) device_names: Vec<String>,
    pub(super) enrolled: bool,
    pub(super) is_admin: bool,
    /// Newer clients read it; every onramp user has a local password.
    pub(super) password_management_disabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct StartSettings {
    pub(super) vpn_setup_optional: bool,
    pub(super) only_client_activation: bool,
    pub(super) admin_device_management: bool,
    pub(super) smtp_configured: bool,
    pub(super) mfa_required: bool,
}

/// `EnrollmentStartResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct StartResponse {
    pub(super) admin: Option<AdminInfo>,
    pub(super) user: UserInfo,
    pub(super) deadline_timestamp: i64,
    pub(super) final_page_content: String,
    pub(super) instance: InstanceInfo,
    pub(super) settings: StartSettings,
}

/// `CodeMfaSetupStartResponse`: the authenticator secret (base32, no padding), `null` when
/// the code went by email.
#[derive(Debug, Clone, Serialize)]
pub struct MfaStartResponse {
    pub(super) totp_secret: Option<String>,
}

/// `CodeMfaSetupFinishResponse`: the recovery codes, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct MfaFinishResponse {
    pub(super) recovery_codes: Vec<String>,
}

/// `DeviceConfig`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceConfig {
    pub(super) network_id: i64,
    pub(super) network_name: String,
    pub(super) config: String,
    pub(super) endpoint: String,
    pub(super) assigned_ip: String,
    pub(super) pubkey: String,
    pub(super) allowed_ips: String,
    pub(super) dns: Option<String>,
    pub(super) mfa_enabled: bool,
    pub(super) keepalive_interval: i64,
    pub(super) location_mfa_mode: Option<i64>,
    pub(super) service_location_mode: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct DeviceInfo {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) pubkey: String,
    pub(super) user_id: i64,
    pub(super) created_at: i64,
}

/// `DeviceConfigResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceConfigResponse {
    pub(super) device: Option<DeviceInfo>,
    pub(super) configs: Vec<DeviceConfig>,
    pub(super) instance: Option<InstanceInfo>,
    pub(super) token: Option<String>,
}

/// `InstanceInfoResponse` (poll).
#[derive(Debug, Clone, Serialize)]
pub struct PollResponse {
    pub(super) device_config: Option<DeviceConfigResponse>,
}

/// The instance as the client stores it.
pub(super) fn instance_info(settings: &Settings, state: &AppState, username: &str) -> InstanceInfo {
    let url = format!("{}/", state.config.public_url);
    InstanceInfo {
        id: settings.instance_id.clone(),
        name: settings.instance_name.clone(),
        url: url.clone(),
        proxy_url: url,
        username: username.to_owned(),
        enterprise_enabled: true,
        disable_all_traffic: false,
        openid_display_name: None,
        client_traffic_policy: Some(0),
    }
}

/// One device's configuration in every location it has an address in, with the polling
/// token to hand out (`None` for `poll`).
pub(super) fn device_config_response(
    c: &Connection,
    state: &AppState,
    device_id: i64,
    polling_token: Option<String>,
) -> Result<DeviceConfigResponse, AppError> {
    let device = device_repo::get(c, device_id)?.ok_or(AppError::NotFound)?;
    let user = users::get(c, device.user_id)?.ok_or(AppError::NotFound)?;
    let settings = load_settings(c)?;
    let mut configs = Vec::new();
    for (l, addrs) in device_locations(c, device_id)? {
        // The desktop client ignores this text; other clients show it with the placeholder.
        let config =
            client_config(&l, &addrs)?.replace(PRIVATE_KEY_PLACEHOLDER, "YOUR_PRIVATE_KEY");
        let list = |raw: &str| -> Vec<String> {
            raw.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let dns = list(&l.dns);
        configs.push(DeviceConfig {
            network_id: l.id,
            network_name: l.name.clone(),
            config,
            endpoint: crate::domain::wireguard::endpoint(&l.endpoint, l.port),
            assigned_ip: addrs.join(","),
            pubkey: l.public_key.clone(),
            allowed_ips: list(&l.allowed_ips).join(","),
            dns: (!dns.is_empty()).then(|| dns.join(",")),
            mfa_enabled: false,
            keepalive_interval: i64::from(l.keepalive),
            location_mfa_mode: Some(1),
            service_location_mode: Some(1),
        });
    }
    Ok(DeviceConfigResponse {
        device: Some(DeviceInfo {
            id: device.id,
            name: device.name,
            pubkey: device.public_key,
            user_id: device.user_id,
            created_at: device.created_at,
        }),
        configs,
        instance: Some(instance_info(&settings, state, &user.username)),
        token: polling_token,
    })
}
