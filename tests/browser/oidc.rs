//! Signing in to another app with the onramp account, in a real browser: a tiny relying party
//! served by the test sends the browser to onramp, the user signs in with a password and an
//! authenticator code, consents, and lands back at the app signed in.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used)]

use crate::support::{Browser, Js, Server, ADMIN_PASSWORD};
use base64::Engine as _;
use sha2::Digest as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-for-rfc-7636-rules";

/// Unix seconds on the wall clock: authenticator codes follow real time.
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The tiny app: `/` sends the browser to onramp; `/callback` exchanges the code on the back
/// channel and greets whoever the ID token names.
struct RelyingParty {
    listener: tokio::net::TcpListener,
    url: String,
}

impl RelyingParty {
    /// Listens, so its callback address is known before it is registered.
    async fn bind() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        Self { listener, url }
    }

    /// Serves with the client ID and secret onramp gave it.
    fn serve(self, onramp: String, client_id: String, secret: String) {
        let (listener, callback) = (self.listener, format!("{}/callback", self.url));
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = if let Some(query) = target.strip_prefix("/callback?") {
                    let page = finish(&onramp, &client_id, &secret, &callback, query).await;
                    format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len())
                } else if target == "/" {
                    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
                    let query = serde_urlencoded::to_string([
                        ("client_id", client_id.as_str()),
                        ("redirect_uri", &callback),
                        ("response_type", "code"),
                        ("scope", "openid profile email"),
                        ("state", "st4te"),
                        ("nonce", "n0nce"),
                        ("code_challenge", &challenge),
                        ("code_challenge_method", "S256"),
                    ])
                    .expect("query");
                    format!("HTTP/1.1 303 See Other\r\nlocation: {onramp}/oidc/authorize?{query}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                } else {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
    }
}

/// The back channel: the code for tokens, then the greeting from the ID token's claims.
async fn finish(
    onramp: &str,
    client_id: &str,
    secret: &str,
    callback: &str,
    query: &str,
) -> String {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("state") != "st4te" {
        return "<h1>Wrong state</h1>".into();
    }
    let res = reqwest::Client::new()
        .post(format!("{onramp}/oidc/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &get("code")),
            ("redirect_uri", callback),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token request");
    let body: serde_json::Value = res.json().await.expect("token json");
    let Some(id_token) = body["id_token"].as_str() else {
        return format!("<h1>No token</h1><p>{body}</p>");
    };
    let payload = id_token.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("claims");
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    format!(
        "<!doctype html><title>Team wiki</title><h1>Welcome, {}</h1><p>nonce {} · amr {}</p>",
        claims["preferred_username"].as_str().unwrap_or("?"),
        claims["nonce"].as_str().unwrap_or("?"),
        amr.join(" ")
    )
}

/// The next authenticator code that was not used yet: waits for a new 30-second step after
/// `after` (the step whose code set the app up).
async fn fresh_code(secret: &str, after: u64) -> String {
    while onramp::domain::totp::step_of(wall_clock()) == onramp::domain::totp::step_of(after) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    onramp::domain::totp::code_at(secret, wall_clock()).expect("code")
}

#[tokio::test]
async fn signing_in_to_another_app_with_an_authenticator_code() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;

    // The admin turns on an authenticator app for their own account.
    browser.open("/me/two-factor").await;
    browser.click_button("Set up an authenticator app").await;
    browser.wait_for_text("Cannot scan?").await;
    let secret = browser
        .text_of("#totp-secret")
        .await
        .expect("the key is shown");
    let set_up_at = wall_clock();
    let code = onramp::domain::totp::code_at(&secret, set_up_at).expect("code");
    browser.fill("Code from the app", &code).await;
    browser.click_button("Turn on").await;
    browser.wait_for_text("recovery").await;

    // And registers the app.
    let rp = RelyingParty::bind().await;
    let rp_url = rp.url.clone();
    browser.open("/admin/apps").await;
    browser.fill("Name", "Team wiki").await;
    browser
        .fill("Redirect URIs", &format!("{rp_url}/callback"))
        .await;
    browser.click_button("Register app").await;
    browser.wait_for_text("shown only this once").await;
    let codes = browser
        .client
        .find_all(fantoccini::Locator::Css("dd code"))
        .await
        .expect("client ID and secret");
    let client_id = codes[0].text().await.expect("client id");
    let client_secret = codes[1].text().await.expect("secret");
    rp.serve(server.url.clone(), client_id, client_secret);
    browser.click_button("Log out").await;
    browser.wait_for_text("You are logged out").await;

    // At the app: sent to onramp, password, code, consent, back at the app signed in.
    browser.client.goto(&rp_url).await.expect("open the app");
    browser.fill("Username", "admin").await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.click_button("Log in").await;
    let code = fresh_code(&secret, set_up_at).await;
    browser.fill("Code", &code).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("Sign in to Team wiki with").await;
    browser.click_button("Allow").await;
    browser.wait_for_text("Welcome, admin").await;
    let text = browser.page_text().await;
    assert!(text.contains("nonce n0nce"), "{text}");
    assert!(text.contains("amr pwd mfa otp"), "{text}");
    assert!(browser.url().await.starts_with(&rp_url));

    // A second visit asks nothing: onramp remembers the session and the consent.
    browser
        .client
        .goto(&rp_url)
        .await
        .expect("open the app again");
    browser.wait_for_text("Welcome, admin").await;
    browser.close().await;
}
