//! What happens to an invitation nobody acted on: one reminder to the invited person, and a
//! note to the admin who issued it once it expires unused.

use super::templates::html_shell;
use super::Email;
use crate::views::format_time;
use maud::html;

/// The reminder to someone who has not opened their invitation.
#[derive(Debug, Clone)]
pub struct Reminder<'a> {
    /// Recipient (where the invitation went).
    pub to: &'a str,
    /// The user's first name.
    pub first_name: &'a str,
    /// The instance's name.
    pub instance: &'a str,
    /// When the invitation was sent, unix seconds.
    pub sent: i64,
    /// When it stops working, unix seconds.
    pub expires: i64,
}

/// "Your invitation is waiting". It carries no link: the token lives only in the original
/// email, which this one points to.
pub fn reminder_email(r: &Reminder<'_>) -> Email {
    let (sent, expires) = (format_time(r.sent), format_time(r.expires));
    let subject = format!("Reminder: your {} account is waiting for you", r.instance);
    let text = format!(
        "Hello {first},\n\nOn {sent} we sent you an invitation to set up your {instance} account, \
         and it has not been opened yet. Look for the email \"Your {instance} account is ready: \
         finish setting it up\" and follow its link.\n\nThe invitation works until {expires}. \
         Cannot find it? Ask your administrator for a new one.\n",
        first = r.first_name,
        instance = r.instance,
    );
    let html = html_shell(
        &subject,
        html! {
            h1 { "Hello " (r.first_name) "," }
            p { "On " (sent) " we sent you an invitation to set up your " strong { (r.instance) } " account, and it has not been opened yet." }
            p { "Look for the email \"Your " (r.instance) " account is ready: finish setting it up\" and follow its link." }
            p { "The invitation works until " (expires) ". Cannot find it? Ask your administrator for a new one." }
        },
    );
    Email {
        to: r.to.to_owned(),
        subject,
        text,
        html,
    }
}

/// The note to the admin who issued an invitation that expired unused.
#[derive(Debug, Clone)]
pub struct Expired<'a> {
    /// The admin's address.
    pub to: &'a str,
    /// The instance's name.
    pub instance: &'a str,
    /// Whose invitation.
    pub username: &'a str,
    /// When it expired, unix seconds.
    pub expired: i64,
    /// The users page.
    pub users_url: &'a str,
}

/// "anna.nowak's invitation expired unused".
pub fn expired_email(e: &Expired<'_>) -> Email {
    let expired = format_time(e.expired);
    let subject = format!(
        "{}: the invitation of {} expired unused",
        e.instance, e.username
    );
    let text = format!(
        "The invitation you issued to {user} expired on {expired} without being used, so {user} \
         has not set up their account.\n\nTo invite them again, choose Start enrollment for {user} \
         on {url}\n",
        user = e.username,
        url = e.users_url,
    );
    let html = html_shell(
        &subject,
        html! {
            p { "The invitation you issued to " strong { (e.username) } " expired on " (expired) " without being used, so " (e.username) " has not set up their account." }
            p { "To invite them again, choose Start enrollment for " (e.username) " on " a href=(e.users_url) { "the users page" } "." }
        },
    );
    Email {
        to: e.to.to_owned(),
        subject,
        text,
        html,
    }
}
