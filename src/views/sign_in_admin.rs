//! The admin's sign-in actions on a user: send a password reset link, reset two-factor.

use super::components::flash_error;
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use super::tokens::copy_row;
use maud::{html, Markup};

/// "Send password reset": emailed, or a link for the admin to hand over.
#[allow(clippy::too_many_arguments)]
pub fn password_reset_page(
    instance: &str,
    viewer: &Viewer,
    user_id: i64,
    username: &str,
    email: &str,
    smtp: bool,
    valid_words: &str,
    error: Option<&str>,
) -> Markup {
    let action = format!("/admin/users/{user_id}/password-reset");
    admin_page(
        &format!("Password reset for {username}"),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" {
                h1 { "Send a password reset link to " (username) }
                (flash_error(error))
                p { "The link lets " (username) " choose a new password. It works once, for " (valid_words) ", and replaces any earlier link." }
                @if !smtp {
                    div class="flash flash-warning" role="note" { "Email is not set up yet, so hand the link over yourself." }
                }
                form class="form stack" method="post" action=(action) {
                    (csrf_field(&viewer.csrf_token))
                    fieldset class="field" {
                        legend { "Delivery" }
                        label class="checkbox" {
                            input type="radio" name="delivery" value="email" checked[smtp] disabled[!smtp];
                            span { "Email it to " (super::components::breakable(email)) }
                        }
                        label class="checkbox" {
                            input type="radio" name="delivery" value="card" checked[!smtp];
                            " Show me the link to hand over"
                        }
                    }
                    div class="actions" {
                        button type="submit" class="button-primary" { "Send password reset" }
                        a class="button button-secondary" href=(format!("/admin/users/{user_id}")) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// The reset link, shown once.
pub fn password_reset_card(
    instance: &str,
    viewer: &Viewer,
    user_id: i64,
    username: &str,
    link: &str,
    expires: &str,
) -> Markup {
    admin_page(
        &format!("Password reset link for {username}"),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" hx-history="false" {
                h1 { "Password reset link for " (username) }
                div class="flash flash-error" role="note" {
                    "This link is shown only now. Hand it to " (username) " in person or over a channel you trust."
                }
                (copy_row("reset-link", "Reset link", link))
                p class="copy-status muted" role="status" {}
                p { "Expires " (expires) "." }
                p { a href=(format!("/admin/users/{user_id}")) { "Back to " (username) } }
            }
        },
    )
}

/// Asks before resetting a user's two-factor.
pub fn reset_two_factor_page(
    instance: &str,
    viewer: &Viewer,
    user_id: i64,
    username: &str,
) -> Markup {
    admin_page(
        &format!("Reset two-factor of {username}"),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack confirm" {
                h1 { "Reset the two-factor sign-in of " (username) "?" }
                p { "Their authenticator app, email codes and recovery codes stop working, and they get an email saying so. They can then sign in with the password alone and set up a new second factor (they must, if two-factor is required)." }
                form method="post" action=(format!("/admin/users/{user_id}/two-factor/reset")) class="actions" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-danger" { "Reset two-factor" }
                    a class="button button-secondary" href=(format!("/admin/users/{user_id}")) { "Cancel" }
                }
            }
        },
    )
}

/// `/admin/settings/accounts`: what users may edit on their account page, and whether
/// two-factor is required for everyone.
pub fn account_rules_page(
    instance: &str,
    viewer: &Viewer,
    r: crate::services::account::AccountRules,
    notice: Option<&str>,
) -> Markup {
    let e = r.editable;
    admin_page(
        "Account rules",
        instance,
        Nav::Settings,
        viewer,
        html! {
            p { a href="/admin/settings" { "← Settings" } }
            h1 { "Account rules" }
            @if let Some(n) = notice { div class="flash" role="status" { (n) } }
            form class="form stack card" method="post" action="/admin/settings/accounts" {
                (csrf_field(&viewer.csrf_token))
                fieldset class="field" {
                    legend { "Users may change on their account page" }
                    label class="checkbox" { input type="checkbox" name="edit_name" value="on" checked[e.name]; " Their first and last name" }
                    label class="checkbox" { input type="checkbox" name="edit_email" value="on" checked[e.email]; " Their email address" }
                    label class="checkbox" { input type="checkbox" name="edit_phone" value="on" checked[e.phone]; " Their phone number" }
                }
                fieldset class="field" {
                    legend { "Two-factor sign-in" }
                    label class="checkbox" {
                        input type="checkbox" name="mfa_required" value="on" checked[r.mfa_required];
                        " Require two-factor for everyone"
                    }
                    div class="hint" { "Users without a second factor must set one up right after signing in, before anything else; the enrollment wizard asks for it too." }
                }
                div class="actions" { button type="submit" class="button-primary" { "Save account rules" } }
            }
        },
    )
}
