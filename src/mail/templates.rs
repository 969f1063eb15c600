//! The emails onramp sends, each as a text part and an HTML part built with maud (escaped).

use super::Email;
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn html_shell(title: &str, body: Markup) -> String {
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
