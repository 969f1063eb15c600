//! Emails about a user's own account: sign-in codes, password reset links, "your password was
//! changed" and "your two-factor was reset". Secrets appear as [`super::SECRET_MARKER`] and are
//! put in only when the outbox sends the mail.

use super::templates::{duration_words, html_shell};
use super::{Email, SECRET_MARKER};
use maud::html;

/// A one-time sign-in code.
pub fn email_code(to: &str, instance: &str, first_name: &str, ttl: i64) -> Email {
    let subject = format!("Your {instance} sign-in code");
    let valid = duration_words(ttl);
    let text = format!(
        "Hello {first_name},\n\nyour sign-in code for {instance} is:\n\n    {SECRET_MARKER}\n\n\
         It works once, within {valid}. If you did not try to sign in, change your password: \
         someone knows it.\n"
    );
    let html = html_shell(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "your sign-in code for " strong { (instance) } " is:" }
            p style="font-size: 1.5rem; letter-spacing: .2em; font-family: monospace" { (SECRET_MARKER) }
            p { "It works once, within " (valid) ". If you did not try to sign in, change your password: someone knows it." }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// A password reset link.
pub fn password_reset(
    to: &str,
    instance: &str,
    first_name: &str,
    url: &str,
    ttl: i64,
    window: i64,
) -> Email {
    let subject = format!("Reset your {instance} password");
    let link = format!("{url}/reset?token={SECRET_MARKER}");
    let valid = duration_words(ttl);
    let window = duration_words(window);
    let text = format!(
        "Hello {first_name},\n\nsomeone (hopefully you) asked to reset the password of your \
         {instance} account. To choose a new password, open:\n\n{link}\n\n\
         The link works for {valid}; once opened, finish within {window}. \
         If you did not ask for this, ignore this email: your password stays as it is.\n"
    );
    let html = html_shell(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { "someone (hopefully you) asked to reset the password of your " strong { (instance) } " account." }
            p { a href=(link) style="display: inline-block; padding: .6rem 1rem; background: #1d4ed8; color: #fff; border-radius: .3rem; text-decoration: none" { "Choose a new password" } }
            p { "The link works for " (valid) "; once opened, finish within " (window) "." }
            p { "If you did not ask for this, ignore this email: your password stays as it is." }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// Something changed in how the user signs in.
pub fn account_notice(to: &str, instance: &str, first_name: &str, what: &str) -> Email {
    let subject = format!("{what} ({instance})");
    let text = format!(
        "Hello {first_name},\n\n{what} on your {instance} account. If this was not you, \
         tell your administrator now.\n"
    );
    let html = html_shell(
        &subject,
        html! {
            p { "Hello " (first_name) "," }
            p { (what) " on your " strong { (instance) } " account. If this was not you, tell your administrator now." }
        },
    );
    Email {
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}
