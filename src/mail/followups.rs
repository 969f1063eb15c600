//! Emails for what the desktop client cannot show: it hides some of the server's answers
//! from its user, so when onramp refuses something there, a person hears of it by email.

use super::templates::{contact_html, contact_text, duration_words, html_shell, Contact};
use super::Email;
use maud::html;

/// What the "finish setting up" email says.
#[derive(Debug, Clone)]
pub struct UnfinishedEnrollment<'a> {
    /// Recipient.
    pub to: &'a str,
    /// The user's first name.
    pub first_name: &'a str,
    /// The instance's name.
    pub instance: &'a str,
    /// The public URL.
    pub url: &'a str,
    /// Why the enrollment did not finish, a full sentence.
    pub reason: &'a str,
    /// The new link's lifetime, seconds.
    pub token_ttl: i64,
    /// The enrollment window, seconds.
    pub session_ttl: i64,
    /// Who to ask.
    pub admin: Option<&'a Contact>,
}

/// To a user whose enrollment in the desktop client ended without a password: the client
/// said "completed", so this email says what is missing and links to the browser wizard,
/// with the token held by [`super::SECRET_MARKER`].
pub fn unfinished_enrollment_email(e: &UnfinishedEnrollment<'_>) -> Email {
    let link = format!("{}/enroll?token={}", e.url, super::SECRET_MARKER);
    let lifetime = duration_words(e.token_ttl);
    let window = duration_words(e.session_ttl);
    let subject = format!("Finish setting up your {} account", e.instance);
    let contact = e
        .admin
        .map(|c| format!("\nQuestions? Your administrator is {}.\n", contact_text(c)))
        .unwrap_or_default();
    let text = format!(
        "Hello {first},\n\nYour {instance} account is not finished yet. {reason}\n\n\
         The VPN may already work on your computer, but your account has no password, so you cannot sign in. \
         Set your password in your browser:\n  {link}\n\n\
         The link works for {lifetime}. Once you open it, you have {window} to finish.\n{contact}",
        first = e.first_name,
        instance = e.instance,
        reason = e.reason,
    );
    let html = html_shell(
        &subject,
        html! {
            h1 { "Hello " (e.first_name) "," }
            p { "Your " strong { (e.instance) } " account is not finished yet. " (e.reason) }
            p { "The VPN may already work on your computer, but your account has no password, so you cannot sign in." }
            p { a href=(link) style="display:inline-block;padding:.5rem 1rem;background:#1d4ed8;color:#fff;border-radius:.375rem;text-decoration:none" { "Set your password" } }
            p { "The link works for " (lifetime) ". Once you open it, you have " (window) " to finish." }
            @if let Some(c) = e.admin { (contact_html(c)) }
        },
    );
    Email {
        to: e.to.to_owned(),
        subject,
        text,
        html,
    }
}

/// What the "could not add a device" email says.
#[derive(Debug, Clone)]
pub struct DeviceRefused<'a> {
    /// The admin who issued the token.
    pub to: &'a str,
    /// The user's full name.
    pub full_name: &'a str,
    /// The user's username.
    pub username: &'a str,
    /// The instance's name.
    pub instance: &'a str,
    /// The public URL.
    pub url: &'a str,
    /// The device name the client asked for.
    pub device: &'a str,
    /// Why it was refused, a full sentence.
    pub reason: &'a str,
    /// What the admin can do, a full sentence.
    pub remedy: &'a str,
}

/// To the admin who issued a token, when the desktop client's device was refused: the
/// client does not show its user the server's error.
pub fn device_refused_email(e: &DeviceRefused<'_>) -> Email {
    let subject = format!("{} could not add a VPN device", e.full_name);
    let users = format!("{}/admin/users", e.url);
    let text = format!(
        "{full} ({user}) tried to add the device \"{device}\" to {instance} in the desktop client, and onramp refused it:\n\n  {reason}\n\n\
         The desktop client does not show this message, so {user} may not know. {remedy}\n\n{users}\n",
        full = e.full_name,
        user = e.username,
        device = e.device,
        instance = e.instance,
        reason = e.reason,
        remedy = e.remedy,
    );
    let html = html_shell(
        &subject,
        html! {
            p { strong { (e.full_name) } " (" (e.username) ") tried to add the device " q { (e.device) } " to " (e.instance) " in the desktop client, and onramp refused it:" }
            blockquote { (e.reason) }
            p { "The desktop client does not show this message, so " (e.username) " may not know. " (e.remedy) }
            p { a href=(users) { "Open the users list" } }
        },
    );
    Email {
        to: e.to.to_owned(),
        subject,
        text,
        html,
    }
}
