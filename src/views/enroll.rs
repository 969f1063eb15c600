//! The enrollment wizard's pages, for a new employee, often on a phone.

use super::components::{error_summary, field, Input};
use super::layout::{csrf_field, public_page};
use crate::domain::password::{Assessment, Strength};
use crate::domain::FieldError;
use crate::mail::templates::{duration_words, Contact};
use crate::services::enrollment::{Done, Step, TwoFactorStep, Wizard};
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

/// Where the defguard desktop client is downloaded.
const CLIENT_DOWNLOAD: &str = "https://defguard.net/download/";
/// Where WireGuard apps are downloaded.
const WIREGUARD_INSTALL: &str = "https://www.wireguard.com/install/";

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
                ol class="stack" {
                    li { "Install the VPN desktop client: " a href=(CLIENT_DOWNLOAD) { "download it from defguard.net" } "." }
                    li { "Open it, choose " strong { "Add instance" } " and enter:" }
                }
                (super::tokens::copy_row("instance-url", "Instance URL", url))
                (super::tokens::copy_row("desktop-token", "Token", token))
                p { a class="button button-primary" href=(deeplink) { "Open in the desktop client" } }
            }
        },
    )
}

/// Why a wizard session ended.
#[derive(Debug, Clone, Copy)]
pub enum Ended<'a> {
    /// The window ran out; who to ask, when known.
    Expired(Option<&'a Contact>),
    /// The done page's time ran out after a completed enrollment; who to ask.
    Closed(Option<&'a Contact>),
    /// An admin disabled the user or revoked the token.
    Cancelled,
    /// Opened again elsewhere (only the newest session goes on).
    Replaced,
    /// This browser never started one.
    Missing,
}

fn contact_card(a: &Contact) -> Markup {
    html! {
        aside class="card contact" aria-label="Your administrator" {
            h2 { "Need help?" }
            p { strong { (a.name) } br; a href=(format!("mailto:{}", a.email)) { (a.email) }
                @if let Some(p) = &a.phone { br; (p) } }
        }
    }
}

/// The wizard's session ended: time ran out, an admin cancelled it, or it was replaced.
pub fn session_ended_page(instance: &str, why: Ended<'_>) -> Markup {
    public_page(
        "Enrollment ended",
        instance,
        html! {
            div class="wizard" {
                div class="card stack" {
                    @match why {
                        Ended::Expired(_) => {
                            h1 { "Time is up" }
                            p { "The time to finish enrollment has run out, and nothing was saved. Ask your administrator for a new link." }
                        }
                        Ended::Closed(_) => {
                            h1 { "Your enrollment is complete" }
                            p { "Your account is set up. This page was open only for the enrollment's time, and that has run out." }
                            p { "If you did not save your VPN configuration, it cannot be shown again: ask your administrator to add a new device for you." }
                        }
                        Ended::Cancelled => {
                            h1 { "Your administrator cancelled this enrollment" }
                            p { "Your administrator called this enrollment off or paused your account, so this page cannot go on. If they sent you a new link, open that one; otherwise ask them what to do next." }
                        }
                        Ended::Missing => {
                            h1 { "No enrollment in progress" }
                            p { "This browser has no enrollment going on. Open the link from your enrollment email, or ask your administrator for a new one." }
                        }
                        Ended::Replaced => {
                            h1 { "This enrollment session has ended" }
                            p { "Your enrollment link was opened again, in another tab or browser, and only the newest one can continue. Go on there, or open your enrollment link again here." }
                        }
                    }
                }
                @if let Ended::Expired(Some(a)) | Ended::Closed(Some(a)) = why { (contact_card(a)) }
            }
        },
    )
}

/// "Step 2 of 6: Verify your data".
fn step_count(step: Step) -> String {
    format!(
        "Step {} of {}: {}",
        step as usize + 1,
        Step::ALL.len(),
        step.title()
    )
}

/// The page around a step: the step list (pills, or "Step 2 of 5" on a phone), the clock with
/// its last-minute warning and time-up banner, the step's card under a heading that takes
/// focus, and whom to ask.
fn shell(w: &Wizard, heading: &str, content: Markup) -> Markup {
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
                                aria-current=[(s == w.step).then_some("step")] {
                                @if s < w.step { span class="step-mark" aria-hidden="true" { "✓ " } }
                                (s.title())
                                @if s < w.step { span class="sr-only" { " (completed)" } }
                            }
                        }
                    }
                    p class="step-count" { (step_count(w.step)) }
                }
                @if w.step != Step::Done {
                    div class="timer stack" {
                        p class="time-left" {
                            time data-countdown datetime=(iso(w.deadline)) { "Time left: until " (deadline_text) }
                        }
                        p class="time-warning" data-time-warning role="status" {}
                        div class="flash flash-error" data-time-up role="alert" hidden {
                            strong { "Time is up." }
                            " Nothing more can be saved on this page. Ask your administrator for a new enrollment link"
                            @if let Some(a) = &w.admin { ": " (a.name) ", " a href=(format!("mailto:{}", a.email)) { (a.email) } }
                            "."
                        }
                    }
                }
                div class="card stack" {
                    h1 tabindex="-1" data-step-heading { (heading) }
                    (content)
                }
                @if let Some(a) = &w.admin { (contact_card(a)) }
            }
        },
    )
}

/// Step 1.
pub fn welcome_step(w: &Wizard, ttl_seconds: i64) -> Markup {
    let heading = format!("Hello, {}", w.user.first_name);
    shell(
        w,
        &heading,
        html! {
            p { "Welcome to " (w.instance) ". In the next steps you will:" }
            ol {
                li { "check your details," }
                li { "create a password," }
                @if w.has_locations { li { "set up a VPN device," } } @else { li { "skip the VPN: there is none to set up yet," } }
                li { "protect your account with an authenticator app" @if !w.mfa_required { " (you may do it later)" } "." }
            }
            p { "You have " (duration_words(ttl_seconds)) " from the start; the clock above shows what is left." }
            form method="post" action="/enroll/wizard/welcome" {
                (csrf_field(&w.csrf_token))
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// Step 2: the account's data as text; only the phone can be changed here.
pub fn verify_step(w: &Wizard, phone: &str, errors: &[FieldError]) -> Markup {
    let u = &w.user;
    shell(
        w,
        "Verify your data",
        html! {
            (error_summary(errors))
            dl class="account" {
                dt { "Username" } dd { strong { (u.username) } span class="hint" { " (you sign in with it)" } }
                dt { "First name" } dd { (u.first_name) }
                dt { "Last name" } dd { (u.last_name) }
                dt { "Email" } dd { (u.email) }
            }
            p class="hint" { "Is something wrong? Tell your administrator; they can correct it." }
            form class="form stack" method="post" action="/enroll/wizard/verify" novalidate {
                (csrf_field(&w.csrf_token))
                (field(Input { kind: "tel", required: false, maxlength: 32, autocomplete: "tel", hint: Some("For example +48 123 456 789."), ..Input::new("phone", "Phone", phone) }, errors))
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// The strength meter's content: the one fragment for the password step and for the live
/// meter's htmx answer. `None` shows nothing.
pub fn strength_meter(a: Option<&Assessment>) -> Markup {
    let Some(a) = a else { return html! {} };
    let (level, word) = match a.strength {
        Strength::Empty => return html! {},
        Strength::Weak => (1, "too weak"),
        Strength::Good => (2, "good"),
        Strength::Strong => (3, "strong"),
    };
    html! {
        meter min="0" max="3" low="2" high="3" optimum="3" value=(level) aria-hidden="true" {}
        p class=(format!("strength-text strength-{level}")) {
            "Strength: " strong { (word) } ". "
            @match &a.verdict {
                Ok(()) => { "This password will be accepted." }
                Err(e) => { (e.0) }
            }
        }
    }
}

/// Step 3. `password` is what was typed before an error (kept, so only the repeat is typed
/// again), and `meter` its strength.
pub fn password_step(
    w: &Wizard,
    password: &str,
    meter: Option<&Assessment>,
    errors: &[FieldError],
) -> Markup {
    shell(
        w,
        "Create password",
        html! {
            (error_summary(errors))
            form class="form stack" method="post" action="/enroll/wizard/password" novalidate {
                (csrf_field(&w.csrf_token))
                input type="text" name="username" value=(w.user.username) autocomplete="username" hidden readonly;
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 512,
                    hint: Some("12 to 128 characters. A few unrelated words make a strong password; common passwords and your own name are refused."),
                    ..Input::new("password", "Password", password) }, errors))
                // The meter follows the first field as it is typed (the form's fields go along).
                div id="password-strength" class="strength" aria-live="polite"
                    hx-post="/enroll/wizard/password/strength" hx-trigger="input delay:400ms from:#password"
                    hx-swap="innerHTML" hx-sync="this:replace" { (strength_meter(meter)) }
                (field(Input { kind: "password", autocomplete: "new-password", maxlength: 512, ..Input::new("password_repeat", "Repeat password", "") }, errors))
                p class="js-only" {
                    button type="button" class="button-secondary" data-reveal-toggle aria-controls="password password_repeat" aria-pressed="false" { "Show password" }
                }
                button type="submit" class="button-primary" { "Continue" }
            }
        },
    )
}

/// Step 4. Without a location open to the user there is nothing to connect to: no device,
/// no key pair, only the way to finish.
pub fn vpn_step(w: &Wizard, device_name: &str, public_key: &str, errors: &[FieldError]) -> Markup {
    if !w.has_locations {
        return shell(
            w,
            "Configure VPN",
            html! {
                p { strong { "There is no VPN to connect to yet." } " Your administrator has not set up a VPN location for you, so there is no device to add now." }
                p { "Finish your enrollment; your account works without it. When a location is ready, ask your administrator to activate the VPN desktop client for you, or to add a device for you." }
                form method="post" action="/enroll/wizard/vpn" {
                    (csrf_field(&w.csrf_token))
                    button type="submit" class="button-primary" name="action" value="skip" { "Finish enrollment" }
                }
            },
        );
    }
    let suggested = format!("{}'s laptop", w.user.first_name);
    let name = if device_name.is_empty() && errors.is_empty() {
        suggested.as_str()
    } else {
        device_name
    };
    shell(
        w,
        "Configure VPN",
        html! {
            p {
                "Add the device you will connect from: name it, and give it a key pair."
                span class="js-only" { " The private key is made here, in your browser, and never sent anywhere." }
            }
            (error_summary(errors))
            form class="form stack" method="post" action="/enroll/wizard/vpn" id="vpn-form" novalidate {
                (csrf_field(&w.csrf_token))
                (field(Input { maxlength: 64, hint: Some("Change it if you like, for example \"work phone\"."), ..Input::new("device_name", "Device name", name) }, errors))
                div class="keygen stack" data-keygen {
                    button type="button" class="button-secondary" data-keygen-button hidden { "Generate key pair" }
                    p class="hint" data-keygen-status role="status" {
                        "Make a key pair on your computer with "
                        code { "wg genkey | tee private.key | wg pubkey" } " and paste the public key below; keep private.key to yourself."
                    }
                }
                (field(Input { maxlength: 64, autocomplete: "off",
                    hint: Some("44 characters ending in =, as printed by wg pubkey."),
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

/// Step 5: an authenticator app for two-factor sign-in. The account exists now; "Later" only
/// when two-factor is not required.
pub fn two_factor_step(w: &Wizard, tf: &TwoFactorStep, errors: &[FieldError]) -> Markup {
    let later = html! {
        @if !w.mfa_required {
            button type="submit" class="button-secondary" form="two-factor-later" formnovalidate { "Later" }
        }
    };
    shell(
        w,
        "Set up two-factor sign-in",
        html! {
            (error_summary(errors))
            @if tf.factors.any() {
                p { "Two-factor sign-in is already on for your account." }
                form method="post" action="/enroll/wizard/two-factor/skip" {
                    (csrf_field(&w.csrf_token))
                    button type="submit" class="button-primary" { "Continue" }
                }
            } @else {
                p {
                    "Your account is ready. A second factor keeps it safe even if someone learns your password: "
                    "when you sign in, you also type the 6-digit code an authenticator app on your phone shows."
                }
                @if w.mfa_required {
                    p { strong { "Your organisation requires it" } ", so set it up now to finish." }
                }
                @if let Some(setup) = &tf.setup {
                    (super::account::totp_setup(setup, "/enroll/wizard/two-factor/confirm", &w.csrf_token, errors, later))
                } @else {
                    div class="actions" {
                        form method="post" action="/enroll/wizard/two-factor" {
                            (csrf_field(&w.csrf_token))
                            button type="submit" class="button-primary" { "Set up now" }
                        }
                        (later)
                    }
                }
                @if !w.mfa_required {
                    form id="two-factor-later" method="post" action="/enroll/wizard/two-factor/skip" {
                        (csrf_field(&w.csrf_token))
                    }
                }
            }
        },
    )
}

/// After the app was confirmed: the recovery codes, shown once, then on to the done page.
pub fn two_factor_codes_step(w: &Wizard, codes: &[String]) -> Markup {
    shell(
        w,
        "Save your recovery codes",
        html! {
            p { "Two-factor sign-in is on." }
            (super::account::recovery_codes(codes))
            p { a class="button button-secondary" href="/enroll/done" { "Continue" } }
        },
    )
}

/// Step 6: the configs first (their private key exists only in this browser tab), then the
/// onboarding message.
pub fn done_step(w: &Wizard, done: &Done) -> Markup {
    let contact = w
        .admin
        .as_ref()
        .map(|a| a.name.as_str())
        .unwrap_or("your administrator");
    shell(
        w,
        "You are all set",
        html! {
            @if let Some(device) = &done.device_name {
              div class="stack" data-device-key=[done.device_key.as_deref()] {
                h2 { "Your VPN configuration for " (device) }
                @if done.configs.is_empty() {
                    p { "No VPN location is open to you yet. When one is, you get an email; then ask your administrator to add a new device for you, since the private key made here cannot be shown again." }
                } @else {
                    div class="key-warning" data-key-warning role="note" hidden {
                        p { strong { "Download or scan now; this key is shown only once." } }
                        p { "Your private key exists only in this browser tab. Once you leave this page it is gone, and you would need your administrator to add a new device for you." }
                    }
                    div class="key-gone flash flash-error" data-key-gone role="note" hidden {
                        p { strong { "This browser no longer has your private key." } }
                        p { "It was made in the browser tab where you added this device and was never sent anywhere, so nobody can show it again, and the configuration below cannot connect without it. Ask your administrator ("
                            (contact) ") to add a new device for you; they can do it from your user page." }
                    }
                }
                @for c in &done.configs {
                    section class="stack config" data-config-for=(c.file_name) {
                        h3 { (c.name) }
                        p class="row" data-config-actions {
                            a class="button button-primary" href=(format!("/enroll/done/{}.conf", c.location_id)) download=(c.file_name) data-config-download { "Download " (c.file_name) }
                            button type="button" class="button-secondary js-only" data-copy-target=(format!("#config-{}", c.location_id)) aria-label=(format!("Copy the configuration for {}", c.name)) { "Copy configuration" }
                            span class="copy-status" role="status" {}
                        }
                        div class="qr" data-qr hidden {}
                        p class="hint" data-key-missing {
                            "Replace " code { "PASTE_YOUR_PRIVATE_KEY_HERE" } " with the private key you made with " code { "wg genkey" } "."
                            span class="js-only" { " If this browser made the key pair for you and you left that tab, the key is gone: ask your administrator to add a new device for you." }
                        }
                        details { summary { "Show the configuration" } pre class="mail-text" id=(format!("config-{}", c.location_id)) data-config-text { (c.config) } }
                    }
                }
                @if !done.configs.is_empty() {
                  div class="stack" data-quick-guide {
                    h3 { "Quick guide" }
                    ol {
                        li { "Install WireGuard on this device: " a href=(WIREGUARD_INSTALL) { "wireguard.com/install" } "." }
                        li { "Import the downloaded file into WireGuard" span class="js-only" { ", or scan the QR code with the WireGuard mobile app" } "." }
                        li { "Turn the tunnel on." }
                    }
                  }
                }
              }
            } @else if !done.has_locations {
                div class="stack" {
                    h2 { "No VPN yet" }
                    p { "There is no VPN location for you yet, so no device was added. When your administrator sets one up, ask them to activate the VPN desktop client for you, or to add a device for you." }
                }
            } @else {
                div class="stack" {
                    h2 { "VPN later" }
                    p { "You skipped the VPN device. When you need the VPN, ask your administrator ("
                        (contact) ") to activate the VPN desktop client for you, or to add a device for you." }
                }
            }
            div class="welcome-message" { (PreEscaped(&done.welcome_html)) }
            p class="muted" data-done-note { "Enrollment is complete." }
        },
    )
}
