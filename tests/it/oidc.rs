//! onramp as an OpenID Connect provider, checked by a relying party nobody here wrote: the
//! `openidconnect` crate does discovery, the code flow with PKCE, ID token validation against
//! the JWKS, userinfo, refresh and revocation. The browser's part (login, consent) is the test
//! HTTP client.

use crate::helpers::{Page, TestApp};
use onramp::services::oidc::apps::{register, Issued, NewApp};
use onramp::services::Actor;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthType, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use reqwest::StatusCode;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const PASSWORD: &str = "plum orbit velvet river";

async fn add_app(
    app: &TestApp,
    name: &str,
    kind: &str,
    groups: Vec<String>,
    require_mfa: bool,
) -> Issued {
    let input = NewApp {
        name: name.into(),
        redirect_uris: REDIRECT.into(),
        post_logout_redirect_uris: "http://127.0.0.1:9/bye".into(),
        kind: kind.into(),
        groups,
        require_mfa,
    };
    register(&app.state, &Actor::default(), &input)
        .await
        .expect("register")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn fake_now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(app.state.now().unix_timestamp(), 0).expect("time")
}

/// The value of `name` in the query of a redirect.
fn query_value(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Where a page that goes on by itself (`<meta http-equiv="refresh">`) leads.
fn onward(page: &Page) -> Option<String> {
    let at = page.body.find(r#"http-equiv="refresh" content="0;url="#)?
        + r#"http-equiv="refresh" content="0;url="#.len();
    let rest = &page.body[at..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

/// A page that goes on by itself, read as the redirect it stands for.
fn as_redirect(page: Page) -> Page {
    let Some(to) = onward(&page) else { return page };
    let mut headers = page.headers.clone();
    headers.insert("location", to.parse().unwrap());
    Page {
        status: StatusCode::SEE_OTHER,
        headers,
        body: page.body,
    }
}

/// The browser's part: follows the authorization URL, logs in when sent to the login page,
/// consents when asked. Returns the final redirect's Location.
async fn sign_in(app: &TestApp, auth_url: &str, username: &str) -> Page {
    let path = auth_url.strip_prefix(&app.address).expect("our URL");
    let mut page = app.get(path).await;
    if page.status == StatusCode::SEE_OTHER && page.location().starts_with("/login?next=") {
        let next = query_value(page.location(), "next").expect("next");
        let form = app.get(page.location()).await;
        let csrf = form.csrf_field().expect("login form");
        let res = app
            .post_raw(
                "/login",
                &[
                    ("csrf_token", &csrf),
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(
            onward(&res).as_deref(),
            Some(next.as_str()),
            "the login continues where it was asked to: {}",
            res.body
        );
        page = app.get(&next).await;
    }
    if page.status == StatusCode::OK && page.body.contains("decision") {
        let csrf = page.csrf_field().expect("consent form");
        let query = path.split_once('?').expect("query").1;
        let mut fields: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
        fields.push(("csrf_token".into(), csrf));
        fields.push(("decision".into(), "allow".into()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = as_redirect(app.post_raw("/oidc/authorize", &pairs).await);
    }
    page
}

struct Rp {
    client: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    http: reqwest::Client,
}

async fn relying_party(app: &TestApp, issued: &Issued, auth: AuthType) -> Rp {
    let http = http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(issued.client_id.clone()),
        issued.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_auth_type(auth);
    Rp { client, http }
}

type Tokens = openidconnect::core::CoreTokenResponse;

/// A refresh token grant.
async fn refresh(rp: &Rp, token: &RefreshToken) -> Result<Tokens, String> {
    rp.client
        .exchange_refresh_token(token)
        .unwrap()
        .request_async(&rp.http)
        .await
        .map_err(|e| e.to_string())
}

/// The code exchange with the PKCE verifier, as the app's backend does it.
async fn exchange(rp: &Rp, code: String, verifier: openidconnect::PkceCodeVerifier) -> Tokens {
    rp.client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp.http)
        .await
        .expect("code exchange")
}

/// A server with an admin signed in, the user ada and the group ops (id 1), ada not in it.
async fn ada_and_group_ops() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app.add_enrolled_user("ada", "Ada", "Lovelace").await;
    let res = app.post("/admin/groups", &[("name", "ops")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    app
}

/// A server with an admin signed in, the user ada, one app and its relying party.
async fn ada_and_app(name: &str, kind: &str, auth: AuthType) -> (TestApp, Issued, Rp) {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app.add_enrolled_user("ada", "Ada", "Lovelace").await;
    let issued = add_app(&app, name, kind, vec![], false).await;
    let rp = relying_party(&app, &issued, auth).await;
    (app, issued, rp)
}

struct Started {
    url: String,
    state: CsrfToken,
    nonce: Nonce,
    verifier: openidconnect::PkceCodeVerifier,
}

fn start(rp: &Rp) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();
    Started {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

#[tokio::test]
async fn a_relying_party_signs_in_refreshes_and_revokes() {
    let app = ada_and_group_ops().await;
    let res = app
        .post("/admin/groups/1/members", &[("username", "ada")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let issued = add_app(&app, "Grafana", "confidential", vec![], false).await;

    let rp = relying_party(&app, &issued, AuthType::BasicAuth).await;
    let started = start(&rp);
    let browser = app.another_browser();
    let back = sign_in(&browser, &started.url, "ada").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(back.location().starts_with(REDIRECT), "{}", back.location());
    assert_eq!(
        query_value(back.location(), "state").as_deref(),
        Some(started.state.secret().as_str())
    );
    let code = query_value(back.location(), "code").expect("code");

    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(started.verifier)
        .request_async(&rp.http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let verifier = rp.client.id_token_verifier().set_time_fn(|| fake_now(&app));
    let claims = id_token
        .claims(&verifier, &started.nonce)
        .expect("valid ID token");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("ada"));
    assert_eq!(
        claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Ada")
    );
    let sub = claims.subject().clone();
    let user_id = app.user_id("ada").unwrap();
    assert_ne!(sub.as_str(), user_id.to_string(), "sub is not the row id");
    assert_eq!(
        claims.auth_time().map(|t| t.timestamp()),
        Some(app.state.now().unix_timestamp())
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(amr, ["pwd"]);

    // The raw ID token also carries the groups.
    let payload = id_token.to_string();
    let body = payload.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["groups"], serde_json::json!(["ops"]));
    assert_eq!(json["name"], "Ada Lovelace");

    let info: openidconnect::core::CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("ada@example.com"));
    // POST works too.
    assert_eq!(
        userinfo_status(&app, reqwest::Method::POST, tokens.access_token().secret()).await,
        StatusCode::OK
    );

    // The code works once; its replay ends what it issued.
    let again = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&rp.http)
        .await;
    assert!(again.is_err(), "a used code is refused");
    assert_eq!(
        userinfo_status(&app, reqwest::Method::GET, tokens.access_token().secret()).await,
        StatusCode::UNAUTHORIZED,
        "replaying the code revoked its tokens"
    );

    // A second sign-in: no consent asked this time; refresh rotates; revocation ends it.
    let started = start(&rp);
    let back = browser
        .get(started.url.strip_prefix(&app.address).unwrap())
        .await;
    let code = query_value(back.location(), "code").expect("code without a second consent");
    let tokens = exchange(&rp, code, started.verifier).await;
    let first_refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = refresh(&rp, &first_refresh).await.expect("refresh");
    let second = refreshed
        .refresh_token()
        .expect("a new refresh token")
        .clone();
    assert_ne!(second.secret(), first_refresh.secret());
    let id = refreshed.id_token().expect("id token on refresh");
    id.claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("valid refreshed ID token");
    // RFC 7009 by hand: the crate's revocation request insists on https.
    let res = rp
        .http
        .post(format!("{}/oidc/revoke", app.address))
        .basic_auth(&issued.client_id, issued.secret.as_deref())
        .form(&[
            ("token", second.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after = refresh(&rp, &second).await;
    assert!(after.is_err(), "a revoked refresh token is refused");
    let actions = app.audit_actions();
    for a in [
        "oidc.consent",
        "oidc.sign_in",
        "oidc.token",
        "oidc.token_refused",
        "oidc.revoked",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

#[tokio::test]
async fn client_secret_post_works_and_a_wrong_secret_is_401() {
    let (app, issued, rp) = ada_and_app("Portainer", "confidential", AuthType::RequestBody).await;
    let started = start(&rp);
    let back = sign_in(&app.another_browser(), &started.url, "ada").await;
    let code = query_value(back.location(), "code").expect("code");
    let wrong = http()
        .post(format!("{}/oidc/token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &issued.client_id),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    exchange(&rp, code, started.verifier).await;
}

/// The `error` of a code exchange that must fail with 400.
async fn exchange_error(
    app: &TestApp,
    issued: &Issued,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> String {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    fields.extend(verifier.map(|v| ("code_verifier", v)));
    let e = token_error(app, issued, &fields).await;
    e["error"].as_str().unwrap_or_default().to_owned()
}

async fn token_error(app: &TestApp, issued: &Issued, fields: &[(&str, &str)]) -> serde_json::Value {
    let res = http()
        .post(format!("{}/oidc/token", app.address))
        .basic_auth(&issued.client_id, issued.secret.as_deref())
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    res.json().await.unwrap()
}

#[tokio::test]
async fn refusals_issue_nothing() {
    let (app, issued, rp) = ada_and_app("Vault", "confidential", AuthType::BasicAuth).await;

    // A redirect URI the app did not register: onramp's own page, no redirect.
    let started = start(&rp);
    let evil = started
        .url
        .replace("127.0.0.1%3A9%2Fcallback", "evil.example%2Fcallback");
    let page = app.get(evil.strip_prefix(&app.address).unwrap()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("has not registered"), "{}", page.body);
    // An unknown app, the same.
    let page = app.get("/oidc/authorize?client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&response_type=code&scope=openid").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location().is_empty());
    // plain PKCE goes back to the app as an error.
    let plain = started
        .url
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let page = app.get(plain.strip_prefix(&app.address).unwrap()).await;
    assert_eq!(
        query_value(page.location(), "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query_value(page.location(), "state").as_deref(),
        Some(started.state.secret().as_str())
    );

    // A wrong PKCE verifier.
    let back = sign_in(&app.another_browser(), &started.url, "ada").await;
    let code = query_value(back.location(), "code").expect("code");
    assert_eq!(
        exchange_error(&app, &issued, &code, REDIRECT, Some(&"x".repeat(43))).await,
        "invalid_grant"
    );
    // A wrong redirect URI at the token endpoint.
    assert_eq!(
        exchange_error(&app, &issued, &code, "http://127.0.0.1:9/other", None).await,
        "invalid_grant"
    );
    // An expired code (60 s).
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        exchange_error(
            &app,
            &issued,
            &code,
            REDIRECT,
            Some(started.verifier.secret())
        )
        .await,
        "invalid_grant"
    );
    let dump = app.dump_database();
    assert!(!dump.contains(&code), "codes are stored hashed");
    assert!(
        !dump.contains(issued.secret.as_deref().unwrap()),
        "secrets are stored hashed"
    );
}

#[tokio::test]
async fn refresh_token_reuse_ends_the_family_and_disabling_ends_the_rest() {
    let (app, _, rp) = ada_and_app("MinIO", "confidential", AuthType::BasicAuth).await;
    let ada = app.user_id("ada").unwrap();
    let browser = app.another_browser();
    let mut refresh_tokens = Vec::new();
    for _ in 0..2 {
        let started = start(&rp);
        let back = sign_in(&browser, &started.url, "ada").await;
        let code = query_value(back.location(), "code").expect("code");
        let t = exchange(&rp, code, started.verifier).await;
        refresh_tokens.push(t.refresh_token().unwrap().clone());
    }
    let first = refresh_tokens[0].clone();
    let rotated = refresh(&rp, &first).await.unwrap();
    let next = rotated.refresh_token().unwrap().clone();
    // The old one comes back: refused, and the token it was rotated into dies too.
    assert!(refresh(&rp, &first).await.is_err());
    assert!(refresh(&rp, &next).await.is_err(), "the family is revoked");
    assert_eq!(
        userinfo_status(&app, reqwest::Method::GET, rotated.access_token().secret()).await,
        StatusCode::UNAUTHORIZED
    );

    // The other sign-in's refresh token still works until the user is disabled.
    let other = refresh(&rp, &refresh_tokens[1])
        .await
        .expect("the other family lives");
    let third: RefreshToken = other.refresh_token().unwrap().clone();
    let res = app.post(&format!("/admin/users/{ada}/disable"), &[]).await;
    assert!(
        res.status.is_redirection() || res.status.is_success(),
        "{}",
        res.body
    );
    assert!(!app.user("ada").unwrap().is_active);
    assert!(
        refresh(&rp, &third).await.is_err(),
        "disabling ends refresh tokens"
    );
}

#[tokio::test]
async fn groups_two_factor_and_consent_refusals_are_clear_pages() {
    let app = ada_and_group_ops().await;
    let ops = add_app(&app, "Proxmox", "confidential", vec!["1".into()], false).await;
    let strict = add_app(&app, "Synapse", "confidential", vec![], true).await;
    let browser = app.another_browser();

    let rp = relying_party(&app, &ops, AuthType::BasicAuth).await;
    let page = sign_in(&browser, &start(&rp).url, "ada").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("not in a group that may use Proxmox"),
        "{}",
        page.body
    );

    let rp = relying_party(&app, &strict, AuthType::BasicAuth).await;
    let page = sign_in(&browser, &start(&rp).url, "ada").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("requires two-factor sign-in"),
        "{}",
        page.body
    );
    let actions = app.audit_actions();
    assert_eq!(actions.iter().filter(|a| *a == "oidc.refused").count(), 2);
    assert!(
        !actions.iter().any(|a| a == "oidc.sign_in"),
        "nothing issued"
    );
}

#[tokio::test]
async fn prompt_none_and_missing_pkce_go_back_as_errors_and_disconnecting_asks_again() {
    let (app, issued, rp) = ada_and_app("Django", "public", AuthType::RequestBody).await;
    assert!(issued.secret.is_none());
    let started = start(&rp);
    let browser = app.another_browser();
    let page = browser
        .get(&format!(
            "{}&prompt=none",
            started.url.strip_prefix(&app.address).unwrap()
        ))
        .await;
    assert_eq!(
        query_value(page.location(), "error").as_deref(),
        Some("login_required")
    );
    // Without PKCE a public app is refused.
    let no_pkce = format!("/oidc/authorize?client_id={}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&response_type=code&scope=openid", issued.client_id);
    let page = browser.get(&no_pkce).await;
    assert_eq!(
        query_value(page.location(), "error").as_deref(),
        Some("invalid_request")
    );
    // The public app signs in with PKCE alone.
    let back = sign_in(&browser, &started.url, "ada").await;
    let code = query_value(back.location(), "code").expect("code");
    exchange(&rp, code, started.verifier).await;
    // Connected apps lists it; disconnecting asks again next time.
    let me = browser.get("/me").await;
    assert!(me.body.contains("Connected apps") && me.body.contains("Django"));
    let csrf = me.csrf_field().unwrap();
    let res = browser
        .post_raw("/me/apps/1/disconnect", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = browser
        .get(start(&rp).url.strip_prefix(&app.address).unwrap())
        .await;
    assert!(page.body.contains("decision"), "consent is asked again");
}

#[tokio::test]
async fn discovery_and_jwks_are_cacheable_and_keys_rotate() {
    let app = TestApp::spawn().await;
    let d = app.get("/.well-known/openid-configuration").await;
    assert!(d.header("cache-control").starts_with("public, max-age="));
    let jwks = app.get("/oidc/jwks").await;
    assert!(jwks.header("cache-control").starts_with("public, max-age="));
    let keys: serde_json::Value = serde_json::from_str(&jwks.body).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    let old = keys["keys"][0]["kid"].as_str().unwrap().to_owned();
    let new = onramp::services::oidc::keys::rotate(&app.state)
        .await
        .unwrap();
    assert_eq!(
        kids(&app).await,
        [old.clone(), new.clone()],
        "published before use"
    );
    app.clock.advance(time::Duration::minutes(11));
    assert_eq!(
        kids(&app).await,
        [old.clone(), new.clone()],
        "the old key stays while its tokens live"
    );
    app.clock.advance(time::Duration::minutes(61));
    assert_eq!(kids(&app).await, [new], "then it goes");
}

async fn kids(app: &TestApp) -> Vec<String> {
    let v = onramp::services::oidc::keys::jwks(&app.state)
        .await
        .unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The status of a userinfo request with this bearer token.
async fn userinfo_status(app: &TestApp, method: reqwest::Method, token: &str) -> StatusCode {
    http()
        .request(method, format!("{}/oidc/userinfo", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_apps_page_shows_the_secret_once_and_keeps_its_hash() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let bad = app
        .post(
            "/admin/apps",
            &[
                ("name", "Grafana"),
                ("redirect_uris", "http://grafana.example.com/cb"),
                ("post_logout_redirect_uris", ""),
                ("kind", "confidential"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("use https://"), "{}", bad.body);
    let page = app
        .post(
            "/admin/apps",
            &[
                ("name", "Grafana"),
                (
                    "redirect_uris",
                    "https://grafana.example.com/login/generic_oauth",
                ),
                ("post_logout_redirect_uris", ""),
                ("kind", "confidential"),
                ("require_mfa", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.body.contains("shown only this once"));
    let secret_at = page.body.find("Client secret").unwrap();
    let rest = &page.body[secret_at..];
    let start = rest.find("<code>").unwrap() + 6;
    let secret = &rest[start..start + rest[start..].find('<').unwrap()];
    assert_eq!(secret.len(), 43);
    assert!(
        !app.dump_database().contains(secret),
        "only the hash is stored"
    );
    let list = app.get("/admin/apps").await;
    assert!(list.body.contains("Grafana") && list.body.contains("Two-factor required"));
    assert!(!list.body.contains(secret), "never shown again");
    let res = app.post("/admin/apps/1/disable", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app.get("/admin/apps").await.body.contains("Turn on"));
    let confirm = app.get("/admin/apps/1/delete").await;
    assert!(confirm.body.contains("Delete Grafana?"), "{}", confirm.body);
    let res = app.post("/admin/apps/1/delete", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app.get("/admin/apps").await.body.contains("No apps yet."));
    let actions = app.audit_actions();
    assert!(actions.iter().any(|a| a == "oidc.app_deleted"));
    assert!(actions.iter().any(|a| a == "oidc.app_registered"));
    assert!(actions.iter().any(|a| a == "oidc.app_disabled"));
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_password_again() {
    let (app, _, rp) = ada_and_app("Wiki", "confidential", AuthType::BasicAuth).await;
    let browser = app.another_browser();
    let back = sign_in(&browser, &start(&rp).url, "ada").await;
    assert!(query_value(back.location(), "code").is_some());
    // Signed in: prompt=login still goes to the login form, and continues without the prompt.
    let again = format!("{}&prompt=login", start(&rp).url);
    let page = browser.get(again.strip_prefix(&app.address).unwrap()).await;
    assert!(
        page.location().starts_with("/login?next="),
        "{}",
        page.location()
    );
    assert!(!query_value(page.location(), "next")
        .unwrap()
        .contains("prompt"));
    let back = sign_in(&browser, &again, "ada").await;
    assert!(
        query_value(back.location(), "code").is_some(),
        "{}",
        back.location()
    );
    // max_age older than the sign-in: the same.
    app.clock.advance(time::Duration::minutes(5));
    let old = format!("{}&max_age=60", start(&rp).url);
    let page = browser.get(old.strip_prefix(&app.address).unwrap()).await;
    assert!(
        page.location().starts_with("/login?next="),
        "{}",
        page.location()
    );
}

#[tokio::test]
async fn logout_returns_only_to_a_registered_address() {
    let (app, _, rp) = ada_and_app("NAS", "confidential", AuthType::BasicAuth).await;
    let browser = app.another_browser();
    let started = start(&rp);
    let back = sign_in(&browser, &started.url, "ada").await;
    let code = query_value(back.location(), "code").unwrap();
    let tokens = exchange(&rp, code, started.verifier).await;
    let hint = tokens.id_token().unwrap().to_string();
    let q = |to: &str| {
        serde_urlencoded::to_string([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", to),
            ("state", "s1"),
        ])
        .unwrap()
    };
    let refused = browser
        .get(&format!("/oidc/logout?{}", q("https://evil.example/bye")))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let page = browser
        .get(&format!("/oidc/logout?{}", q("http://127.0.0.1:9/bye")))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("NAS asked to sign you out"),
        "{}",
        page.body
    );
    let csrf = page.csrf_field().unwrap();
    let res = browser
        .post_raw(
            "/oidc/logout",
            &[
                ("csrf_token", &csrf),
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
                ("state", "s1"),
            ],
        )
        .await;
    assert_eq!(
        onward(&res).as_deref(),
        Some("http://127.0.0.1:9/bye?state=s1")
    );
    let me = browser.get("/me").await;
    assert_eq!(me.location(), "/login", "the onramp session ended");
}
