//! The emails onramp sends, each as a text part and an HTML part built with maud (escaped).

use super::Email;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Wraps an email's HTML body in the page every onramp email shares.
pub(super) fn html_shell(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } }
            body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2933; max-width: 40rem; margin: 0 auto; padding: 1rem" {
                (body)
            }
        }
    }
    .into_string()
}

/// "Send test email" from the settings page.
pub fn test_email(to: &str, instance: &str, public_url: &str, admin: &str) -> Email {
    let subject = format!("Test email from {instance}");
    let text = format!(
        "This is a test email from {instance} ({public_url}), sent by {admin}.\n\nIf you can read it, onramp's SMTP settings work.\n"
    );
    let html = html_shell(
        &subject,
        html! {
            h1 { "It works" }
            p { "This is a test email from " strong { (instance) } " (" a href=(public_url) { (public_url) } "), sent by " (admin) "." }
            p { "If you can read it, onramp's SMTP settings work." }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// Wraps already-sanitised HTML (rendered markdown) in the email shell.
pub fn markdown_email(to: &str, subject: &str, text: &str, safe_html: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: text.to_owned(),
        html: html_shell(subject, html! { (PreEscaped(safe_html)) }),
    }
}

/// A duration in words: "24 hours", "10 minutes", "1 hour 30 minutes", "45 seconds".
pub fn duration_words(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    // Whole days only from two days up: "24 hours" reads better than "1 day" for a token.
    let d = if seconds >= 2 * 86_400 && seconds % 86_400 == 0 {
        seconds / 86_400
    } else {
        0
    };
    let rest = seconds - d * 86_400;
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(plural(d, "day"));
    }
    if h > 0 {
        parts.push(plural(h, "hour"));
    }
    if m > 0 {
        parts.push(plural(m, "minute"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(plural(s, "second"));
    }
    parts.join(" ")
}

/// The admin a user can turn to.
#[derive(Debug, Clone)]
pub struct Contact {
    /// First and last name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone, if known.
    pub phone: Option<String>,
}

/// What an enrollment or desktop-activation email says.
#[derive(Debug, Clone)]
pub struct TokenEmail<'a> {
    /// Recipient.
    pub to: &'a str,
    /// The user's first name.
    pub first_name: &'a str,
    /// The instance's name.
    pub instance: &'a str,
    /// The public URL.
    pub url: &'a str,
    /// Token lifetime, seconds.
    pub token_ttl: i64,
    /// Enrollment window, seconds.
    pub session_ttl: i64,
    /// The issuing admin.
    pub admin: &'a Contact,
}

fn deeplink(url: &str) -> String {
    let q = serde_urlencoded::to_string([("token", super::SECRET_MARKER), ("url", url)])
        .unwrap_or_default();
    // The marker must survive URL encoding so the worker can fill it in.
    let encoded_marker =
        serde_urlencoded::to_string([("t", super::SECRET_MARKER)]).unwrap_or_default();
    let encoded_marker = encoded_marker.trim_start_matches("t=");
    format!(
        "defguard://addinstance?{}",
        q.replace(encoded_marker, super::SECRET_MARKER)
    )
}

/// The admin's contact line in a text part.
pub(super) fn contact_text(c: &Contact) -> String {
    let phone = c
        .phone
        .as_deref()
        .map(|p| format!(", {p}"))
        .unwrap_or_default();
    format!("{} <{}>{phone}", c.name, c.email)
}

/// The admin's contact line in an HTML part.
pub(super) fn contact_html(c: &Contact) -> Markup {
    html! {
        p { "Questions? Your administrator is " strong { (c.name) } ": "
            a href=(format!("mailto:{}", c.email)) { (c.email) }
            @if let Some(p) = &c.phone { ", " (p) } "." }
    }
}

/// Where people download the defguard desktop client.
pub const CLIENT_DOWNLOAD_URL: &str = "https://defguard.net/download/";

const BUTTON_STYLE: &str = "display:inline-block;padding:.5rem 1rem;background:#1d4ed8;color:#fff;border-radius:.375rem;text-decoration:none";

/// "Acme VPN" for both "Acme" and "Acme VPN", so sentences naming the VPN never double it.
fn vpn_name(instance: &str) -> String {
    let trimmed = instance.trim_end();
    let ends_in_vpn = trimmed
        .len()
        .checked_sub(3)
        .filter(|at| trimmed.is_char_boundary(*at))
        .is_some_and(|at| {
            trimmed[at..].eq_ignore_ascii_case("vpn")
                && trimmed[..at]
                    .chars()
                    .last()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
    if ends_in_vpn {
        trimmed.to_owned()
    } else {
        format!("{trimmed} VPN")
    }
}

/// The enrollment email: the browser first (what most new people need), the desktop client
/// as the alternative with where to get it; the token is held by [`super::SECRET_MARKER`].
pub fn enrollment_email(e: &TokenEmail<'_>) -> Email {
    let token = super::SECRET_MARKER;
    let link = format!("{}/enroll?token={token}", e.url);
    let deeplink = deeplink(e.url);
    let lifetime = duration_words(e.token_ttl);
    let window = duration_words(e.session_ttl);
    let subject = format!("Your {} account is ready: finish setting it up", e.instance);
    let text = format!(
        "Hello {first},\n\nAn account on {instance} has been created for you. Finish setting it up in your browser:\n\n\
         Start enrollment in your browser: {link}\n\n\
         Or use the desktop VPN client (download it from {download}):\n  Add an instance with\n    URL:   {url}\n    Token: {token}\n  or open {deeplink}\n\n\
         The token works for {lifetime}. Once you start, you have {window} to finish.\n\n\
         Questions? Your administrator is {contact}.\n",
        first = e.first_name,
        instance = e.instance,
        url = e.url,
        download = CLIENT_DOWNLOAD_URL,
        contact = contact_text(e.admin),
    );
    let html = html_shell(
        &subject,
        html! {
            h1 { "Hello " (e.first_name) "," }
            p { "An account on " strong { (e.instance) } " has been created for you. Finish setting it up in your browser:" }
            p { a href=(link) style=(BUTTON_STYLE) { "Start enrollment in your browser" } }
            h2 { "Or use the desktop VPN client" }
            p { "Download it from " a href=(CLIENT_DOWNLOAD_URL) { (CLIENT_DOWNLOAD_URL) } ", then add an instance with this URL and token:" }
            p { "URL: " code { (e.url) } br; "Token: " code { (token) } }
            p { "With the client installed, " a href=(deeplink) { "open it in the desktop client" } "." }
            p { "The token works for " (lifetime) ". Once you start, you have " (window) " to finish." }
            (contact_html(e.admin))
        },
    );
    Email {
        to: e.to.to_owned(),
        subject,
        text,
        html,
    }
}

/// The desktop activation email: URL, token, the client link and where to get the client.
pub fn desktop_email(e: &TokenEmail<'_>) -> Email {
    let token = super::SECRET_MARKER;
    let deeplink = deeplink(e.url);
    let lifetime = duration_words(e.token_ttl);
    let subject = format!("Set up {} on your desktop", vpn_name(e.instance));
    let text = format!(
        "Hello {first},\n\nTo configure the desktop VPN client for {instance}, add an instance with\n  URL:   {url}\n  Token: {token}\nor open {deeplink}\n\n\
         No client yet? Download it from {download}.\n\nThe token works for {lifetime}.\n\nQuestions? Your administrator is {contact}.\n",
        first = e.first_name,
        instance = e.instance,
        url = e.url,
        download = CLIENT_DOWNLOAD_URL,
        contact = contact_text(e.admin),
    );
    let html = html_shell(
        &subject,
        html! {
            h1 { "Hello " (e.first_name) "," }
            p { "To configure the desktop VPN client for " strong { (e.instance) } ", add an instance with this URL and token:" }
            p { "URL: " code { (e.url) } br; "Token: " code { (token) } }
            p { a href=(deeplink) style=(BUTTON_STYLE) { "Open in the desktop client" } }
            p { "No client yet? Download it from " a href=(CLIENT_DOWNLOAD_URL) { (CLIENT_DOWNLOAD_URL) } "." }
            p { "The token works for " (lifetime) "." }
            (contact_html(e.admin))
        },
    );
    Email {
        to: e.to.to_owned(),
        subject,
        text,
        html,
    }
}

/// Text someone other than the admin chose (a device name), made unable to become a link:
/// mail clients turn `https://…`, `www.…` and `host.tld` into links even in plain text, so
/// `://` becomes `[:]//` and a dot inside a word becomes `[.]`. The HTML part escapes it too.
pub fn inert(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        match c {
            ':' if next == Some('/') => out.push_str("[:]"),
            '.' if prev.is_some_and(|p| !p.is_whitespace())
                && next.is_some_and(|n| !n.is_whitespace()) =>
            {
                out.push_str("[.]");
            }
            c => out.push(*c),
        }
    }
    out
}

/// "<First Last> completed enrollment", to the issuing admin.
pub fn admin_notification(
    to: &str,
    full_name: &str,
    username: &str,
    instance: &str,
    device: Option<&str>,
) -> Email {
    let subject = format!("{full_name} completed enrollment");
    let device_line = device
        .map(|d| format!(" and added the device {}", inert(d)))
        .unwrap_or_default();
    let text =
        format!("{full_name} ({username}) completed enrollment on {instance}{device_line}.\n");
    let html = html_shell(
        &subject,
        html! { p { strong { (full_name) } " (" (username) ") completed enrollment on " (instance) (device_line) "." } },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// One location a new device can reach.
#[derive(Debug, Clone)]
pub struct DeviceLocation {
    /// Location name.
    pub name: String,
    /// The device's addresses there.
    pub addresses: String,
}

/// "New device added", to the device's owner.
pub fn new_device_email(
    to: &str,
    instance: &str,
    device: &str,
    public_key: &str,
    locations: &[DeviceLocation],
) -> Email {
    let subject = format!("New device added to your {instance} account");
    let device = &inert(device);
    let mut text = format!("A device was added to your account on {instance}.\n\nName: {device}\nPublic key: {public_key}\n");
    for l in locations {
        text.push_str(&format!("Location {}: {}\n", l.name, l.addresses));
    }
    text.push_str("\nIf this was not you, tell your administrator now.\n");
    let html = html_shell(
        &subject,
        html! {
            p { "A device was added to your account on " strong { (instance) } "." }
            ul {
                li { "Name: " (device) }
                li { "Public key: " code { (public_key) } }
                @for l in locations { li { "Location " (l.name) ": " code { (l.addresses) } } }
            }
            p { "If this was not you, tell your administrator now." }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// "A new VPN location", to a user who has a device and may connect to it.
pub fn new_location_email(to: &str, first_name: &str, instance: &str, location: &str) -> Email {
    let subject = format!("New VPN location on {instance}: {location}");
    let desktop = "If you use the VPN desktop client, you need to do nothing: it adds the new location by itself.";
    let browser = "If you set up WireGuard with a configuration file from the enrollment page, that file does not include the new location, and the private key it needs was never stored: ask your administrator to add a new device for you.";
    let text = format!(
        "Hello {first_name},\n\n{instance} now has a new VPN location, {location}, that you can connect to.\n\n{desktop}\n\n{browser}\n"
    );
    let html = html_shell(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { (instance) " now has a new VPN location, " strong { (location) } ", that you can connect to." }
            p { (desktop) }
            p { (browser) }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::{admin_notification, duration_words, inert, new_device_email, vpn_name};

    #[test]
    fn vpn_is_never_doubled() {
        assert_eq!(vpn_name("Acme VPN"), "Acme VPN");
        assert_eq!(vpn_name("Acme"), "Acme VPN");
        assert_eq!(vpn_name("VPN"), "VPN");
        assert_eq!(vpn_name("AcmeVPN"), "AcmeVPN VPN");
        assert_eq!(vpn_name("Zażółć"), "Zażółć VPN");
    }

    #[test]
    fn device_names_cannot_become_links() {
        assert_eq!(
            inert("https://evil.example/login"),
            "https[:]//evil[.]example/login"
        );
        assert_eq!(inert("www.evil.example"), "www[.]evil[.]example");
        assert_eq!(inert("Jan's laptop. Old one."), "Jan's laptop. Old one.");
        for mail in [
            admin_notification(
                "a@example.com",
                "Jan Nowak",
                "jnowak",
                "Acme",
                Some("https://evil.example/x"),
            ),
            new_device_email("j@example.com", "Acme", "www.evil.example", "key", &[]),
        ] {
            for part in [&mail.text, &mail.html] {
                assert!(
                    !part.contains("://evil") && !part.contains("evil.example"),
                    "{part}"
                );
                assert!(!part.contains("<a "), "{part}");
            }
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_words(86_400), "24 hours");
        assert_eq!(duration_words(600), "10 minutes");
        assert_eq!(duration_words(5400), "1 hour 30 minutes");
        assert_eq!(duration_words(45), "45 seconds");
        assert_eq!(duration_words(7 * 86_400), "7 days");
    }
}
