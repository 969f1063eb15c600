//! The pages a person sees while signing in to another app with their onramp account.

use super::layout::{csrf_field, public_page};
use maud::{html, Markup};

/// What the consent page shows.
#[derive(Debug)]
pub struct ConsentView<'a> {
    /// The app's name.
    pub app: &'a str,
    /// Who is signed in.
    pub username: &'a str,
    /// What the app will learn, one sentence each.
    pub shares: Vec<&'static str>,
    /// The request, carried through the form as hidden fields.
    pub hidden: Vec<(&'static str, String)>,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// A sentence per scope for the consent page.
pub fn share_sentence(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Your account's identifier (it never changes and reveals nothing else)"),
        "profile" => Some("Your name, username and groups"),
        "email" => Some("Your email address"),
        "groups" => Some("The groups you are in"),
        "offline_access" => Some("Staying signed in until you disconnect it"),
        _ => None,
    }
}

/// "Allow <app> to use your account?"
pub fn consent_page(instance: &str, v: &ConsentView<'_>) -> Markup {
    public_page(
        "Allow access",
        instance,
        html! {
            div class="card stack" {
                h1 { "Sign in to " (v.app) " with " (instance) "?" }
                p { "You are signed in as " strong { (v.username) } ". " (v.app) " will receive:" }
                ul { @for s in &v.shares { li { (s) } } }
                p class="muted" { "You can disconnect it at any time under My account → Connected apps." }
                form class="form stack" method="post" action="/oidc/authorize" {
                    (csrf_field(v.csrf))
                    @for (name, value) in &v.hidden { input type="hidden" name=(name) value=(value); }
                    div class="actions" {
                        button type="submit" name="decision" value="allow" class="button-primary" { "Allow" }
                        button type="submit" name="decision" value="deny" class="button-secondary" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// A page that goes on to `to` by itself (and by its button without a refresh): a fresh
/// navigation from onramp, which sends the session cookie other sites' links do not get
/// (`SameSite=Strict`) and leaves a form's redirect chain, which the CSP's `form-action`
/// would stop at another site.
fn onward_page(instance: &str, heading: &str, button: &str, to: &str) -> Markup {
    public_page(
        heading,
        instance,
        html! {
            meta http-equiv="refresh" content=(format!("0;url={to}"));
            div class="card stack" {
                h1 { (heading) }
                p { a class="button button-primary" href=(to) { (button) } }
            }
        },
    )
}

/// On to the rest of a sign-in.
pub fn continue_page(instance: &str, to: &str) -> Markup {
    onward_page(instance, "Continuing to sign in…", "Continue", to)
}

/// Back to the app with its answer.
pub fn return_page(instance: &str, app: &str, to: &str) -> Markup {
    onward_page(
        instance,
        &format!("Returning to {app}…"),
        &format!("Continue to {app}"),
        to,
    )
}

/// "Sign out of <instance>?" for an app's logout request.
pub fn logout_page(
    instance: &str,
    app: Option<&str>,
    csrf: &str,
    hidden: &[(&'static str, String)],
) -> Markup {
    public_page(
        "Sign out",
        instance,
        html! {
            div class="card stack" {
                h1 { "Sign out of " (instance) "?" }
                @if let Some(app) = app { p { (app) " asked to sign you out. You stay signed in to other apps until their own sessions end." } }
                form class="form stack" method="post" action="/oidc/logout" {
                    (csrf_field(csrf))
                    @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
                    div class="actions" { button type="submit" class="button-primary" { "Sign out" } }
                }
            }
        },
    )
}

/// After a logout with nowhere registered to return to.
pub fn signed_out_page(instance: &str) -> Markup {
    public_page(
        "Signed out",
        instance,
        html! {
            div class="card stack" {
                h1 { "You are signed out" }
                p { a href="/login" { "Sign in again" } }
            }
        },
    )
}
