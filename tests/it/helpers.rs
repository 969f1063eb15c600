//! `TestApp`: the real server on port 0 with a temp database and a fake clock, plus helpers
//! named after what a user does.

use onramp::clock::FakeClock;
use onramp::config::Config;
use onramp::state::AppState;
use onramp::{startup, Application};
use reqwest::header::HeaderMap;
use reqwest::{redirect, Client, Response, StatusCode};
use std::sync::Arc;
use time::macros::datetime;

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub clock: FakeClock,
    pub state: AppState,
    pub client: Client,
    pub csrf: String,
    _dir: Arc<tempfile::TempDir>,
}

/// A response read to the end.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub async fn from(res: Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.expect("body");
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> &str {
        self.header("location")
    }

    /// The value of the first `name="csrf_token"` hidden field.
    pub fn csrf_field(&self) -> Option<String> {
        let at = self.body.find(r#"name="csrf_token" value=""#)?;
        let rest = &self.body[at + r#"name="csrf_token" value=""#.len()..];
        Some(rest[..rest.find('"')?].to_owned())
    }
}

pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::for_tests(dir.path().join("onramp.db"));
        config.admin_password = Some(onramp::config::Secret::new(ADMIN_PASSWORD));
        tweak(&mut config);
        // The port is only known after binding; bind first, then fix the public URL. Another
        // test may take the port between the probe and the server's bind, so a taken port
        // means trying another.
        let clock = FakeClock::new(datetime!(2026-11-24 09:00 UTC));
        let mut attempts = 0;
        let (state, app, port) = loop {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe port");
            let port = probe.local_addr().expect("addr").port();
            drop(probe);
            let mut config = config.clone();
            config.listen = format!("127.0.0.1:{port}").parse().expect("listen");
            config.public_url = format!("http://127.0.0.1:{port}");
            let (state, _) = startup::build_state(config, Arc::new(clock.clone())).expect("state");
            match Application::build(state.clone()) {
                Ok(app) => break (state, app, port),
                Err(e) if attempts < 5 && e.to_string().contains("in use") => attempts += 1,
                Err(e) => panic!("build: {e:?}"),
            }
        };
        tokio::spawn(app.run_until_stopped());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            clock,
            state,
            client: new_client(),
            csrf: String::new(),
            _dir: Arc::new(dir),
        }
    }

    /// Another browser on the same server: shares the database and clock, not cookies.
    pub fn another_browser(&self) -> Self {
        Self {
            address: self.address.clone(),
            clock: self.clock.clone(),
            state: self.state.clone(),
            client: new_client(),
            csrf: String::new(),
            _dir: self._dir.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Page {
        Page::from(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// A GET as htmx sends it.
    pub async fn hx_get(&self, path: &str) -> Page {
        let res = self
            .client
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET");
        Page::from(res).await
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &self.csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts a form as htmx does: CSRF in the header.
    pub async fn hx_post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res = self
            .client
            .post(self.url(path))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", &self.csrf)
            .form(fields)
            .send()
            .await
            .expect("POST");
        Page::from(res).await
    }

    /// Posts exactly these fields.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Page::from(
            self.client
                .post(self.url(path))
                .form(fields)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Opens the login page and submits the credentials.
    pub async fn login_as(&self, username: &str, password: &str) -> Page {
        let form = self.get("/admin/login").await;
        let token = form.csrf_field().expect("login form has a CSRF field");
        self.post_raw(
            "/admin/login",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs in as the first admin and remembers the session's CSRF token.
    pub async fn admin_login(&mut self) {
        let res = self.login_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let users = self.get("/admin/users").await;
        assert_eq!(users.status, StatusCode::OK);
        self.csrf = users.csrf_field().expect("users page has a CSRF field");
    }

    /// Adds a user through the form (enrollment process on); returns their id.
    pub async fn add_user(&self, username: &str, first: &str, last: &str) -> i64 {
        self.add_user_with(username, first, last, &[("use_enrollment", "on")])
            .await
    }

    /// Adds a user with a password (so already enrolled); returns their id.
    pub async fn add_enrolled_user(&self, username: &str, first: &str, last: &str) -> i64 {
        let password = "plum orbit velvet river";
        self.add_user_with(
            username,
            first,
            last,
            &[("password", password), ("password_repeat", password)],
        )
        .await
    }

    async fn add_user_with(
        &self,
        username: &str,
        first: &str,
        last: &str,
        extra: &[(&str, &str)],
    ) -> i64 {
        let email = format!("{username}@example.com");
        let mut fields = vec![
            ("username", username),
            ("first_name", first),
            ("last_name", last),
            ("email", email.as_str()),
            ("phone", ""),
        ];
        fields.extend_from_slice(extra);
        let res = self.post("/admin/users", &fields).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        self.user_id(username).expect("user was added")
    }

    pub fn user_id(&self, username: &str) -> Option<i64> {
        let conn = self.state.db.conn().expect("conn");
        onramp::db::users::find_by_username(&conn, username)
            .expect("query")
            .map(|u| u.id)
    }

    pub fn user(&self, username: &str) -> Option<onramp::db::users::UserRow> {
        let conn = self.state.db.conn().expect("conn");
        onramp::db::users::find_by_username(&conn, username).expect("query")
    }

    pub fn user_count(&self) -> i64 {
        let conn = self.state.db.conn().expect("conn");
        onramp::db::users::count(&conn).expect("count")
    }

    /// Audit actions, oldest first.
    pub fn audit_actions(&self) -> Vec<String> {
        let conn = self.state.db.conn().expect("conn");
        let mut events = onramp::db::audit::recent(&conn, None, 1000).expect("audit");
        events.reverse();
        events.into_iter().map(|e| e.action).collect()
    }

    /// Every text value in every table, for "no secret stored" checks.
    pub fn dump_database(&self) -> String {
        let conn = self.state.db.conn().expect("conn");
        let mut out = String::new();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        for table in tables {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{table}\""))
                .expect("select");
            let n = stmt.column_count();
            let mut rows = stmt.query([]).expect("rows");
            while let Some(row) = rows.next().expect("row") {
                for i in 0..n {
                    if let Ok(Some(s)) = row.get::<_, Option<String>>(i) {
                        out.push_str(&s);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

/// Adds a location named `name` with a generated gateway key through the form.
pub async fn add_location(app: &TestApp, name: &str, addresses: &str) {
    let res = app
        .post(
            "/admin/locations",
            &[
                ("name", name),
                ("addresses", addresses),
                ("endpoint", "vpn.example.com"),
                ("port", "51820"),
                ("allowed_ips", "10.10.0.0/24"),
                ("dns", "10.10.0.1"),
                ("keepalive", "25"),
                ("key_mode", "generate"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

/// Changes the DNS of location 1, "Office" (as `add_location` made it), through the form.
pub async fn set_office_dns(app: &TestApp, dns: &str) {
    let edit = app
        .post(
            "/admin/locations/1/edit",
            &[
                ("name", "Office"),
                ("addresses", "10.10.0.1/24, fd00::1/64"),
                ("endpoint", "vpn.example.com"),
                ("port", "51820"),
                ("allowed_ips", "10.10.0.0/24"),
                ("dns", dns),
                ("keepalive", "25"),
                ("key_mode", "keep"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.body);
}

/// Submits the token dialog (`enrollment` or `desktop`) with `fields` and follows the
/// redirect to the one-time card; returns the card.
pub async fn issue_token(app: &TestApp, user_id: i64, kind: &str, fields: &[(&str, &str)]) -> Page {
    let res = app
        .post(&format!("/admin/users/{user_id}/{kind}"), fields)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let prefix = format!("/admin/users/{user_id}/token/");
    assert!(res.location().starts_with(&prefix), "{}", res.location());
    let card = app.get(res.location()).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    card
}

/// Issues a token over the admin dialog (`enrollment` or `desktop`), handed over by the
/// admin; returns the secret from the token card.
pub async fn hand_over_token(app: &TestApp, user_id: i64, kind: &str) -> String {
    let card = issue_token(app, user_id, kind, &[("delivery", "manual"), ("email", "")]).await;
    let marker = r#"id="token-value" type="text" readonly value=""#;
    let at = card
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no token on the card: {}", card.body))
        + marker.len();
    card.body[at..at + card.body[at..].find('"').expect("end")].to_owned()
}
