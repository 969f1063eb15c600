//! The done page: the onboarding message and the new device's configs.

use super::{tag_values, Step, Wizard, WizardError};
use crate::db::{tokens, users};
use crate::error::AppError;
use crate::services::devices::{client_config, device_locations};
use crate::services::settings::{load as load_settings, render_welcome};
use crate::state::AppState;

/// One location's config on the done page.
#[derive(Debug, Clone)]
pub struct DoneConfig {
    /// Location id.
    pub location_id: i64,
    /// Location name.
    pub name: String,
    /// wg-quick text with the private key placeholder.
    pub config: String,
    /// Safe file name.
    pub file_name: String,
}

/// What the done page shows.
#[derive(Debug, Clone)]
pub struct Done {
    /// The welcome message, rendered and sanitised.
    pub welcome_html: String,
    /// The device's name, when one was added.
    pub device_name: Option<String>,
    /// The device's public key (the browser finds its private key by it).
    pub device_key: Option<String>,
    /// One config per location.
    pub configs: Vec<DoneConfig>,
    /// Whether any location is open to the user.
    pub has_locations: bool,
}

/// The onboarding message and the device's configs.
pub async fn done(state: &AppState, w: &Wizard) -> Result<Done, WizardError> {
    if w.step != Step::Done {
        return Err(WizardError::WrongStep(w.step));
    }
    let w = w.clone();
    let url = state.config.public_url.clone();
    Ok(state
        .db
        .read(move |c| {
            let settings = load_settings(c)?;
            let token = tokens::get(c, w.token_id)?.ok_or(AppError::NotFound)?;
            let admin = match token.admin_id {
                Some(id) => users::get(c, id)?,
                None => None,
            };
            let welcome_html = render_welcome(
                &settings.welcome_message,
                &tag_values(&w.user, admin.as_ref(), &url, &settings.instance_name),
            );
            let mut configs = Vec::new();
            let mut device_name = None;
            let mut device_key = None;
            if let Some(device_id) = w.device_id {
                let found: Option<(String, String)> = c
                    .query_row(
                        "SELECT name, public_key FROM device WHERE id = ?1",
                        [device_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .ok();
                if let Some((name, key)) = found {
                    device_name = Some(name);
                    device_key = Some(key);
                }
                for (l, addrs) in device_locations(c, device_id)? {
                    configs.push(DoneConfig {
                        location_id: l.id,
                        file_name: crate::services::locations::config_file_name(&l.name),
                        config: client_config(&l, &addrs)?,
                        name: l.name,
                    });
                }
            }
            Ok(Done {
                welcome_html,
                device_name,
                device_key,
                configs,
                has_locations: crate::db::locations::any_accessible_to(c, w.user.id)?,
            })
        })
        .await?)
}
