//! The enrollment wizard's pages, for a new employee, often on a phone.

use super::components::{error_summary, field, Input};
use super::layout::{csrf_field, public_page};
use crate::domain::FieldError;
use crate::services::enrollment::{Done, Step, Wizard};
use maud::{html, Markup, PreEscaped};
use time::OffsetDateTime;

fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The page the emailed link opens: it changes nothing until the button is pressed.
pub fn landing_page(instance: &str, token: &str) -> Markup {
    public_page(
        "Start enrollment",
        instance,
        html! {
            div class="card stack" {
                h1 { "Welcome to " (instance) }
                p { "This link sets up your account: check your details, choose a password and add a VPN device. It takes a few minutes." }
                form method="post" action="/enroll/start" {
                    input type="hidden" name="token" value=(token);
                    button type="submit" class="button-primary" { "Start enrollment" }
                }
            }
        },
    )
}

/// `/enroll` without a token.
pub fn token_entry_page(instance: &str, errors: &[FieldError]) -> Markup {
    public_page(
        "Enter your token",
        instance,
        html! {
            div class="card stack" {
                h1 { "Start enrollment" }
                p { "Enter the token from your enrollment email." }
                (error_summary(errors))
                form class="form stack" method="post" action="/enroll/start" {
                    (field(Input { maxlength: 64, autocomplete: "one-time-code", ..Input::new("token", "Enrollment token", "") }, errors))
                    button type="submit" class="button-primary" { "Start enrollment" }
                }
            }
        },
    )
}

/// The one answer for unknown, expired, revoked and used tokens.
pub fn invalid_link_page(instance: &str) -> Markup {
    public_page(
        "Invalid or expired link",
        instance,
        html! {
            div class="card stack" {
                h1 { "This link is invalid or has expired" }
                p { "Enrollment links work once, for a limited time. Ask your administrator to send you a new one." }
            }
        },
    )
}

/// A desktop token opened in a browser: how to use it in the desktop client instead.
pub fn desktop_token_page(instance: &str, url: &str, token: &str) -> Markup {
    let deeplink = format!(
        "defguard://addinstance?{}",
        serde_urlencoded::to_string([("token", token), ("url", url)]).unwrap_or_default()
    );
    public_page(
        "Use the desktop client",
        instance,
        html! {
            div class="card stack" {
                h1 { "This token is for the desktop client" }
                p { "Open the VPN desktop client, choose " strong { "Add instance" } " and enter:" }
                dl { dt { "Instance URL" } dd { code { (url) } } dt { "Token" } dd { code { (token) } } }
                p { a class="button button-primary" href=(deeplink) { "Open in the desktop client" } }
            }
        },
    )
}

/// The wizard's session ended: time ran out, or it was replaced or revoked.
pub fn session_ended_page(instance: &str, expired: bool) -> Markup {
    public_page(
        "Enrollment ended",
        instance,
        html! {
            div class="card stack" {
                @if expired {
                    h1 { "Time is up" }
                    p { "The time to finish enrollment has run out, and nothing was saved. Ask your administrator for a new link." }
                } @else {
                    h1 { "This enrollment session has ended" }
                    p { "It was opened again elsewhere, replaced or revoked. Open your enrollment link again, or ask your administrator for a new one." }
                }
            }
        },
    )
}

fn shell(w: &Wizard, content: Markup) -> Markup {
    let deadline_text = super::format_time(w.deadline);
    public_page(
        w.step.title(),
        &w.instance,
        html! {
            div class="wizard" {
                nav class="steps" aria-label="Enrollment steps" {
                    ol {
                        @for s in Step::ALL {
                            li class=(if s < w.step { "done" } else if s == w.step { "current" } else { "todo" })
                                aria-current=[(s == w.step).then_some("step")] { (s.title()) }
                        }
                    }
                }
                @if w.step != Step::Done {
                    p class="time-left" {
                        "Time left: "
                        time data-countdown datetime=(iso(w.deadline)) { "until " (deadline_text) }
                    }
                }
                div class="card stack" { (content) }
                @if let Some(a) = &w.admin {
                    aside class="card contact" aria-label="Your administrator" {
                        h2 { "Need help?" }
                        p { strong { (a.name) } br; a href=(format!("mailto:{}", a.email)) { (a.email) }
                            @if let Some(p) = &a.phone { br; (p) } }
                    }
                }
            }
        },
    )
}

/// Step 1.
pub fn welcome_step(w: &Wizard, minutes: i64) -> Markup {
    shell(
        w,
        html! {
            h1 { "Hello, " (w.user.first_name) }
            p { "Welcome to " (w.instance) ". In the next steps you will:" }
            ol { li { "check your details," } li { "create a password," } li { "set up a VPN device." } }
            p { "You have " (minutes) " minutes from the start; the clock above shows what is left." }
            form method="post" action="/enroll/wizard/welcome" {
                (csrf_field(&w.csrf_token))
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// Step 2.
pub fn verify_step(w: &Wizard, phone: &str, errors: &[FieldError]) -> Markup {
    let u = &w.user;
    shell(
        w,
        html! {
            h1 { "Verify your data" }
            (error_summary(errors))
            form class="form stack" method="post" action="/enroll/wizard/verify" novalidate {
                (csrf_field(&w.csrf_token))
                (field(Input { readonly: true, required: false, ..Input::new("first_name", "First name", &u.first_name) }, errors))
                (field(Input { readonly: true, required: false, ..Input::new("last_name", "Last name", &u.last_name) }, errors))
                (field(Input { readonly: true, required: false, kind: "email", ..Input::new("email", "Email", &u.email) }, errors))
                (field(Input { kind: "tel", required: false, maxlength: 32, autocomplete: "tel", hint: Some("For example +48 123 456 789."), ..Input::new("phone", "Phone", phone) }, errors))
                p class="hint" { "Is something wrong? Tell your administrator; they can correct it." }
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// Step 3.
pub fn password_step(w: &Wizard, errors: &[FieldError]) -> Markup {
    shell(
        w,
        html! {
            h1 { "Create password" }
            (error_summary(errors))
            form class="form stack" method="post" action="/enroll/wizard/password" novalidate {
                (csrf_field(&w.csrf_token))
                input type="text" name="username" value=(w.user.username) autocomplete="username" hidden readonly;
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 512,
                    hint: Some("12 to 128 characters. A few unrelated words make a strong password; common passwords and your own name are refused."),
                    ..Input::new("password", "Password", "") }, errors))
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 512, ..Input::new("password_repeat", "Repeat password", "") }, errors))
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// Step 4.
pub fn vpn_step(w: &Wizard, device_name: &str, public_key: &str, errors: &[FieldError]) -> Markup {
    shell(
        w,
        html! {
            h1 { "Configure VPN" }
            p { "Add the device you will connect from. Its private key is made here, in your browser, and never sent anywhere." }
            (error_summary(errors))
            form class="form stack" method="post" action="/enroll/wizard/vpn" id="vpn-form" novalidate {
                (csrf_field(&w.csrf_token))
                (field(Input { maxlength: 64, hint: Some("For example \"work laptop\"."), required: !w.vpn_optional, ..Input::new("device_name", "Device name", device_name) }, errors))
                div class="keygen stack" data-keygen {
                    button type="button" class="button-secondary" data-keygen-button hidden { "Generate key pair" }
                    p class="hint" data-keygen-status role="status" {
                        "Key generation needs JavaScript in a secure page (https or localhost). Without it, make a key pair on your computer with "
                        code { "wg genkey | tee private.key | wg pubkey" } " and paste the public key below; keep private.key to yourself."
                    }
                }
                (field(Input { maxlength: 64, required: !w.vpn_optional, autocomplete: "off",
                    hint: Some("Use my own public key: 44 characters ending in =, as printed by wg pubkey. Filled in for you when you generate a key pair above."),
                    ..Input::new("public_key", "Public key", public_key) }, errors))
                div class="actions" {
                    button type="submit" class="button-primary" name="action" value="add" { "Add device and finish" }
                    @if w.vpn_optional {
                        button type="submit" class="button-secondary" name="action" value="skip" formnovalidate { "Skip and finish" }
                    }
                }
            }
        },
    )
}

/// Step 5: the onboarding message and the configs.
pub fn done_step(w: &Wizard, done: &Done) -> Markup {
    shell(
        w,
        html! {
            h1 { "You are all set" }
            div class="welcome-message" { (PreEscaped(&done.welcome_html)) }
            @if let Some(device) = &done.device_name {
              div class="stack" data-device-key=[done.device_key.as_deref()] {
                h2 { "Your VPN configuration for " (device) }
                @if done.configs.is_empty() {
                    p { "No VPN location is open to you yet. Your administrator will tell you when one is ready." }
                }
                @for c in &done.configs {
                    section class="stack config" data-config-for=(c.file_name) {
                        h3 { (c.name) }
                        p class="row" {
                            a class="button button-primary" href=(format!("/enroll/done/{}.conf", c.location_id)) download=(c.file_name) data-config-download { "Download " (c.file_name) }
                        }
                        div class="qr" data-qr hidden {}
                        p class="hint" data-key-missing {
                            "Replace " code { "PASTE_YOUR_PRIVATE_KEY_HERE" } " with the private key you made with wg genkey."
                        }
                        details { summary { "Show the configuration" } pre class="mail-text" data-config-text { (c.config) } }
                    }
                }
                h3 { "Quick guide" }
                ol {
                    li { "Install WireGuard on this device (wireguard.com/install)." }
                    li { "Import the downloaded file, or scan the QR code with the WireGuard mobile app." }
                    li { "Turn the tunnel on." }
                }
              }
            }
            p class="muted" { "Enrollment is complete. You can close this page." }
        },
    )
}
