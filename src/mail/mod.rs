//! Email: building multipart messages and sending them over SMTP with lettre.
//! Nothing is sent directly by a request: services queue rows in the outbox and the worker
//! in `services::outbox` hands them to [`send`].

pub mod account;
pub mod followups;
pub mod invitations;
pub mod templates;

use crate::config::{SmtpConfig, SmtpSecurity};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Stands in an outbox body for a secret (a token) that is stored sealed and put in only
/// when the email is sent. Control characters never come from user input, so no text can
/// forge it.
pub const SECRET_MARKER: &str = "\u{1}secret\u{1}";

/// How the outbox pages show [`SECRET_MARKER`].
pub const SECRET_SHOWN_AS: &str = "[token: sealed, added only when the email is delivered]";

/// An email ready to queue: every value in it already escaped for its part.
#[derive(Debug, Clone)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// Why a delivery failed, with a hint for the admin.
#[derive(Debug, Clone)]
pub struct SendError {
    /// The error as the SMTP client saw it.
    pub error: String,
    /// What to check, when we can tell.
    pub hint: Option<String>,
    /// Retrying cannot help (e.g. the recipient address is refused).
    pub permanent: bool,
}

/// The From address: the configured sender, or `onramp@<host of the public URL>`.
pub fn sender(smtp: &SmtpConfig, public_url: &str) -> Result<Mailbox, SendError> {
    let text = match &smtp.sender {
        Some(s) => s.clone(),
        None => {
            let host = public_url
                .split("://")
                .nth(1)
                .unwrap_or("localhost")
                .split(['/', ':'])
                .next()
                .unwrap_or("localhost");
            format!("onramp <onramp@{host}>")
        }
    };
    text.parse().map_err(|e| SendError {
        error: format!("invalid sender {text}: {e}"),
        hint: Some(
            "Set a valid sender address on the settings page (or from= in ONRAMP_SMTP_URL).".into(),
        ),
        permanent: true,
    })
}

/// Builds the MIME message: multipart/alternative with the text and HTML parts.
pub fn build_message(from: Mailbox, email: &Email) -> Result<Message, SendError> {
    let to: Mailbox = email.to.parse().map_err(|e| SendError {
        error: format!("invalid recipient {}: {e}", email.to),
        hint: Some("Correct the user's email address and send again.".into()),
        permanent: true,
    })?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(email.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(email.html.clone()),
                ),
        )
        .map_err(|e| SendError {
            error: format!("cannot build the message: {e}"),
            hint: None,
            permanent: true,
        })
}

fn transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let tls_error = |e: lettre::transport::smtp::Error| SendError {
        error: e.to_string(),
        hint: Some("The TLS settings could not be prepared for this host name.".into()),
        permanent: false,
    };
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(tls_error)?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(tls_error)?
        }
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
    if let Some(user) = &smtp.username {
        let pass = smtp
            .password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), pass));
    }
    Ok(builder.build())
}

/// What an admin should check for a given failure (lldap-style hints).
fn hint_for(smtp: &SmtpConfig, e: &lettre::transport::smtp::Error) -> Option<String> {
    let text = format!("{e:#}").to_lowercase();
    let chain = {
        let mut s = text.clone();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            s.push_str(&cause.to_string().to_lowercase());
            source = cause.source();
        }
        s
    };
    let mode = match smtp.security {
        SmtpSecurity::None => "None",
        SmtpSecurity::Starttls => "STARTTLS",
        SmtpSecurity::Tls => "TLS",
    };
    if chain.contains("connection refused") {
        return Some(format!("Nothing accepted a connection at {}:{}. Check the host and port, and that the mail server is running.", smtp.host, smtp.port));
    }
    if e.is_timeout() || chain.contains("timed out") {
        return Some(format!("{}:{} did not answer in time. A firewall may block the port, or the TLS mode ({mode}) may not match the port.", smtp.host, smtp.port));
    }
    if chain.contains("failed to lookup")
        || chain.contains("name or service not known")
        || chain.contains("dns")
    {
        return Some(format!(
            "The host name {} could not be resolved.",
            smtp.host
        ));
    }
    if e.is_tls()
        || chain.contains("tls")
        || chain.contains("ssl")
        || chain.contains("certificate")
        || chain.contains("corrupt message")
        || chain.contains("invalid content type")
    {
        let suggestion = match (smtp.security, smtp.port) {
            (SmtpSecurity::Tls, 587 | 25) => " Port 587 and 25 usually want STARTTLS, not TLS.",
            (SmtpSecurity::Starttls, 465) => " Port 465 usually wants TLS, not STARTTLS.",
            _ => "",
        };
        return Some(format!("The TLS handshake failed with mode {mode} on port {}.{suggestion} Also check the server's certificate.", smtp.port));
    }
    if chain.contains("starttls")
        || (smtp.security == SmtpSecurity::Starttls && chain.contains("not supported"))
    {
        return Some(
            "The server does not offer STARTTLS. Try TLS (port 465), or None on a trusted network."
                .into(),
        );
    }
    if chain.contains("authentication") || chain.contains("535") || chain.contains("credentials") {
        return Some("The server refused the username or password.".into());
    }
    if e.is_permanent() {
        return Some(
            "The server refused the message for good; check the sender and recipient addresses."
                .into(),
        );
    }
    None
}

/// Sends one email over SMTP.
pub async fn send(smtp: &SmtpConfig, public_url: &str, email: &Email) -> Result<(), SendError> {
    let message = build_message(sender(smtp, public_url)?, email)?;
    let transport = transport(smtp)?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(SendError {
            error: {
                let mut s = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    // lettre's messages often repeat their cause; add only what is new.
                    let text = cause.to_string();
                    if !s.contains(&text) {
                        s.push_str(": ");
                        s.push_str(&text);
                    }
                    source = cause.source();
                }
                s
            },
            hint: hint_for(smtp, &e),
            permanent: e.is_permanent() && !e.is_tls(),
        }),
    }
}
