//! The real `onramp` binary and a headless Chromium driven through chromedriver, plus helpers
//! that find things on the page the way a person does: by label, role and accessible name.

// Test support: a failed expectation here is a failed test, so panicking with a message that
// shows the page is the point. clippy's allow-*-in-tests covers only `#[test]` functions.
#![allow(clippy::expect_used, clippy::panic)]

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first admin's password, set through `ONRAMP_ADMIN_PASSWORD`.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// How long the page may take to show what a test waits for. htmx adds a 300 ms debounce and
/// argon2 runs on login, so this is generous without letting a broken page hang the suite.
const PAGE_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);

const MISSING_BROWSER: &str = "browser tests need chromium and chromedriver: run `make test-deps` as root, or `apt-get install -y chromium chromium-driver`";

/// A port nobody listens on right now. The listener is dropped before the child binds it; the
/// short race is acceptable for tests and avoids hard-coded ports clashing between tests.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Polls `check` until it yields `Some`, or gives up after `timeout`.
async fn poll<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Kills a child and everything it started. Children are spawned as process-group leaders, so
/// the group id is the child's pid; chromedriver's Chromium processes live in that group too
/// and would otherwise outlive a test that panicked before closing its session.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The release (or debug) `onramp` binary serving a fresh database on a free port.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`, also the configured public URL.
    pub url: String,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary and waits until `/health` answers 200.
    pub async fn start() -> Self {
        Self::start_with_env(&[]).await
    }

    /// Like [`Server::start`], with extra environment variables for the binary (an SMTP
    /// server for the mail worker, for example).
    pub async fn start_with_env(env: &[(&str, &str)]) -> Self {
        let bin = std::env::var_os("ONRAMP_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_onramp")));
        let dir = tempfile::tempdir().expect("temp dir for the database");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        // The log goes to a file: libtest cannot capture a child's output, and the file is
        // shown when the server does not come up.
        let log = std::fs::File::create(dir.path().join("onramp.log")).expect("log file");
        let child = Command::new(&bin)
            .arg("serve")
            .env("ONRAMP_LISTEN", format!("127.0.0.1:{port}"))
            .env("ONRAMP_DATABASE", dir.path().join("onramp.db"))
            .env("ONRAMP_PUBLIC_URL", &url)
            .env("ONRAMP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Self { child, url, dir };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("http client");
        let health = format!("{}/health", self.url);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "onramp exited with {status} before serving:\n{}",
                    self.log()
                );
            }
            if let Ok(res) = http.get(&health).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "onramp did not answer {health} with 200 within 15 s:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The server's SQLite database file, for checking what it stored.
    pub fn database_path(&self) -> PathBuf {
        self.dir.path().join("onramp.db")
    }

    /// What the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("onramp.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Whether pages may run JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    /// The normal browser.
    Enabled,
    /// Everything must still work with plain forms and links.
    Disabled,
}

struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    async fn start() -> Self {
        let program = find_on_path("chromedriver").unwrap_or_else(|| panic!("{MISSING_BROWSER}"));
        let port = free_port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver ({e}); {MISSING_BROWSER}"));
        let mut driver = Self { child, port };
        let http = reqwest::Client::new();
        let status = format!("http://127.0.0.1:{port}/status");
        let ready = poll(Duration::from_secs(10), || async {
            let res = http.get(&status).send().await.ok()?;
            let body: Value = res.json().await.ok()?;
            body["value"]["ready"].as_bool().filter(|ready| *ready)
        })
        .await;
        if ready.is_none() {
            let exited = driver.child.try_wait().ok().flatten();
            panic!("chromedriver did not become ready on port {port} (exit status: {exited:?})");
        }
        driver
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// A headless Chromium with a fresh profile, pointed at one server.
pub struct Browser {
    /// The WebDriver session, for anything the helpers do not cover.
    pub client: Client,
    base: String,
    // Fields drop in order: chromedriver (and with it Chromium) is killed before its profile
    // directory is removed.
    driver: Chromedriver,
    _profile: tempfile::TempDir,
}

/// Quotes `s` as an XPath 1.0 string literal, which has no escape character.
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

impl Browser {
    /// Starts chromedriver and a browser session for `server`.
    pub async fn start(server: &Server, js: Js) -> Self {
        Self::start_inner(server, js, None).await
    }

    /// Like [`Browser::start`], saving downloads to `downloads` without asking.
    pub async fn start_with_downloads(server: &Server, js: Js, downloads: &Path) -> Self {
        Self::start_inner(server, js, Some(downloads)).await
    }

    async fn start_inner(server: &Server, js: Js, downloads: Option<&Path>) -> Self {
        let chromium = find_on_path("chromium").unwrap_or_else(|| panic!("{MISSING_BROWSER}"));
        let driver = Chromedriver::start().await;
        let profile = tempfile::tempdir().expect("temp dir for the browser profile");
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        let mut prefs = serde_json::Map::new();
        if js == Js::Disabled {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                json!(2),
            );
        }
        if let Some(dir) = downloads {
            prefs.insert("download.default_directory".into(), json!(dir));
            prefs.insert("download.prompt_for_download".into(), json!(false));
            prefs.insert("download.directory_upgrade".into(), json!(true));
            prefs.insert("safebrowsing.enabled".into(), json!(false));
        }
        if !prefs.is_empty() {
            options["prefs"] = Value::Object(prefs);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        // Console messages, so a test can check that the CSP blocked nothing.
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"));
        Self {
            client,
            base: server.url.clone(),
            driver,
            _profile: profile,
        }
    }

    /// Ends the session so Chromium exits cleanly (Drop kills whatever is left anyway).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Navigates to `path` on the server.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    /// The page title.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("page title")
    }

    /// The text a person sees on the page.
    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Visible elements matching `xpath`, in document order.
    async fn visible(&self, xpath: &str) -> Vec<Element> {
        let mut out = Vec::new();
        for el in self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_default()
        {
            if el.is_displayed().await.unwrap_or(false) {
                out.push(el);
            }
        }
        out
    }

    /// The first visible element matching `xpath`, waiting for it to appear.
    async fn wait_visible(&self, xpath: &str, what: &str) -> Element {
        match poll(PAGE_TIMEOUT, || async {
            self.visible(xpath).await.into_iter().next()
        })
        .await
        {
            Some(el) => el,
            None => panic!(
                "no visible {what} on {}\n--- page text ---\n{}",
                self.url().await,
                self.page_text().await
            ),
        }
    }

    /// The form control labelled `label`: by `<label for>` or by a wrapping `<label>`. A label
    /// may end in the " (optional)" marker the views add, as a person would still read "Phone".
    pub async fn field(&self, label: &str) -> Element {
        let exact = xpath_literal(label);
        let optional = xpath_literal(&format!("{label} (optional)"));
        let names = format!("normalize-space()={exact} or normalize-space()={optional}");
        let controls = "*[self::input or self::textarea or self::select]";
        let xpath =
            format!("//{controls}[@id=//label[{names}]/@for] | //label[{names}]//{controls}");
        self.wait_visible(&xpath, &format!("field labelled {label:?}"))
            .await
    }

    /// Replaces the text in the field labelled `label`.
    pub async fn fill(&self, label: &str, value: &str) {
        let input = self.field(label).await;
        input.clear().await.expect("clear field");
        input.send_keys(value).await.expect("type into field");
    }

    /// Types into the field labelled `label` after what is already there.
    pub async fn type_into(&self, label: &str, text: &str) {
        let input = self.field(label).await;
        input.send_keys(text).await.expect("type into field");
    }

    /// Selects everything in the field and deletes it with Backspace, as a person would, so
    /// the page sees the same `input` event as from the keyboard (WebDriver's clear does not
    /// send one).
    pub async fn erase(&self, label: &str) {
        let input = self.field(label).await;
        let keys = format!("{}a{}{}", &*Key::Control, &*Key::Null, &*Key::Backspace);
        input.send_keys(&keys).await.expect("erase field");
    }

    /// A button by its accessible name: visible text, `aria-label` or an input's value.
    pub async fn button(&self, name: &str) -> Element {
        let n = xpath_literal(name);
        let xpath = format!(
            "//button[normalize-space()={n} or @aria-label={n}] \
             | //input[(@type='submit' or @type='button') and (@value={n} or @aria-label={n})]"
        );
        self.wait_visible(&xpath, &format!("button named {name:?}"))
            .await
    }

    /// Clicks the button named `name`.
    pub async fn click_button(&self, name: &str) {
        let button = self.button(name).await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click button {name:?}: {e}"));
    }

    /// Clicks the link named `text` (visible text or `aria-label`).
    pub async fn click_link(&self, text: &str) {
        let t = xpath_literal(text);
        let xpath = format!("//a[normalize-space()={t} or @aria-label={t}]");
        let link = self
            .wait_visible(&xpath, &format!("link named {text:?}"))
            .await;
        link.click()
            .await
            .unwrap_or_else(|e| panic!("cannot click link {text:?}: {e}"));
    }

    /// Whether a visible `role=menu` is on the page.
    pub async fn menu_is_open(&self) -> bool {
        !self.visible("//*[@role='menu']").await.is_empty()
    }

    /// Waits until `text` is visible on the page.
    pub async fn wait_for_text(&self, text: &str) {
        let found = poll(PAGE_TIMEOUT, || async {
            self.page_text().await.contains(text).then_some(())
        })
        .await;
        if found.is_none() {
            panic!(
                "waited {PAGE_TIMEOUT:?} for {text:?} on {}\n--- page text ---\n{}",
                self.url().await,
                self.page_text().await
            );
        }
    }

    /// Waits until the page's `h1` reads `text`. Use this rather than [`Browser::wait_for_text`]
    /// when the words also appear elsewhere on the page (a step list, for example).
    pub async fn wait_for_heading(&self, text: &str) {
        let t = xpath_literal(text);
        self.wait_visible(
            &format!("//h1[normalize-space()={t}]"),
            &format!("heading {text:?}"),
        )
        .await;
    }

    /// Waits until `check` holds, failing with `what` and the page text.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        if poll(PAGE_TIMEOUT, || {
            let fut = check();
            async move { fut.await.then_some(()) }
        })
        .await
        .is_none()
        {
            panic!(
                "waited {PAGE_TIMEOUT:?} until {what} on {}\n--- page text ---\n{}",
                self.url().await,
                self.page_text().await
            );
        }
    }

    /// The accessible name of the focused element: its `aria-label`, else its visible text.
    pub async fn active_element_name(&self) -> String {
        let Ok(el) = self.client.active_element().await else {
            return String::new();
        };
        if let Ok(Some(label)) = el.attr("aria-label").await {
            return label;
        }
        el.text().await.unwrap_or_default().trim().to_owned()
    }

    /// The `role` attribute of the focused element, if any.
    pub async fn active_element_role(&self) -> Option<String> {
        let el = self.client.active_element().await.ok()?;
        el.attr("role").await.ok().flatten()
    }

    /// Waits until the focused element is named `name`; focus moves after htmx swaps, so an
    /// immediate check would race the page's own script.
    pub async fn wait_for_focus(&self, name: &str) {
        let found = poll(PAGE_TIMEOUT, || async {
            (self.active_element_name().await == name).then_some(())
        })
        .await;
        if found.is_none() {
            panic!(
                "expected focus on {name:?}, but it is on {:?}\n--- page text ---\n{}",
                self.active_element_name().await,
                self.page_text().await
            );
        }
    }

    /// Moves keyboard focus to `el`, as tabbing to it would.
    pub async fn focus(&self, el: &Element) {
        let arg = serde_json::to_value(el).expect("element as a script argument");
        self.client
            .execute("arguments[0].focus();", vec![arg])
            .await
            .expect("focus element");
    }

    /// Presses and releases `key` on whatever has focus.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client
            .perform_actions(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot press {key:?}: {e}"));
    }

    /// The usernames in the users table, top to bottom.
    pub async fn table_usernames(&self) -> Vec<String> {
        let mut out = Vec::new();
        for cell in self
            .client
            .find_all(Locator::XPath("//table//tbody/tr/td[1]"))
            .await
            .unwrap_or_default()
        {
            out.push(cell.text().await.unwrap_or_default().trim().to_owned());
        }
        out
    }

    /// The visible text of the table row whose first cell is `username`, if shown.
    pub async fn row_text(&self, username: &str) -> Option<String> {
        let u = xpath_literal(username);
        let xpath = format!("//table//tbody/tr[td[1][normalize-space()={u}]]");
        let row = self.client.find(Locator::XPath(&xpath)).await.ok()?;
        row.text().await.ok()
    }

    /// Waits until `username`'s row shows `text` (a status, for example).
    pub async fn wait_for_row_text(&self, username: &str, text: &str) {
        let found = poll(PAGE_TIMEOUT, || async {
            self.row_text(username)
                .await
                .filter(|row| row.contains(text))
                .map(|_| ())
        })
        .await;
        if found.is_none() {
            panic!(
                "expected the row of {username} to show {text:?}; row: {:?}\n--- page text ---\n{}",
                self.row_text(username).await,
                self.page_text().await
            );
        }
    }

    /// The value of `attr` on the field labelled `label`.
    pub async fn field_attr(&self, label: &str, attr: &str) -> Option<String> {
        self.field(label)
            .await
            .attr(attr)
            .await
            .expect("read attribute")
    }

    /// Runs `script` in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("cannot run {script:?}: {e}"))
    }

    /// Console messages at level SEVERE since the last call (chromedriver's log endpoint,
    /// which fantoccini has no method for).
    pub async fn console_errors(&self) -> Vec<String> {
        let url = self.session_url("se/log").await;
        let body: Value = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .expect("ask chromedriver for the console log")
            .json()
            .await
            .expect("console log as JSON");
        body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The visible text of the first element matching the CSS selector `css`, if any.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        Some(el.text().await.ok()?.trim().to_owned())
    }

    /// The radio button or checkbox whose label starts with `prefix`, as a person reads the
    /// first words of a long option.
    pub async fn choice(&self, prefix: &str) -> Element {
        let p = xpath_literal(prefix);
        let xpath = format!(
            "//label[starts-with(normalize-space(), {p})]//input[@type='radio' or @type='checkbox']"
        );
        self.wait_visible(&xpath, &format!("option labelled {prefix:?}"))
            .await
    }

    /// Logs in on the login page as `admin`.
    pub async fn log_in_as_admin(&self) {
        self.open("/admin/login").await;
        self.fill("Username", "admin").await;
        self.fill("Password", ADMIN_PASSWORD).await;
        self.click_button("Log in").await;
        self.wait_until("the Users heading shows", || async {
            self.client
                .find(Locator::XPath("//h1[normalize-space()='Users']"))
                .await
                .is_ok()
        })
        .await;
    }

    /// Adds a user through "Add user" with the enrollment process left on.
    pub async fn add_user(&self, username: &str, first: &str, last: &str, email: &str) {
        self.click_link("Add user").await;
        self.fill("Username", username).await;
        self.fill("First name", first).await;
        self.fill("Last name", last).await;
        self.fill("Email", email).await;
        self.click_button("Add user").await;
        // With the enrollment process on, the token dialog comes next; leave it for later.
        self.wait_for_text(&format!("Added {username}")).await;
        self.click_link("Cancel").await;
        self.wait_for_text("Search users").await;
    }
}

/// axe-core, run in the page by [`Browser::assert_accessible`]. Test-only: the binary never
/// carries it.
const AXE_SOURCE: &str = include_str!("vendor/axe.min.js");

/// The rule sets every page must pass: WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus axe's
/// best practices.
const AXE_TAGS: [&str; 6] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

impl Browser {
    /// On the token dialog: "Deliver token yourself", then "Create token"; returns the token
    /// from the card.
    pub async fn hand_over_token(&self) -> String {
        self.choice("Deliver token yourself")
            .await
            .click()
            .await
            .expect("choose to hand the token over");
        self.click_button("Create token").await;
        self.wait_for_text("This token is shown only now").await;
        self.field("Token")
            .await
            .prop("value")
            .await
            .expect("token value")
            .expect("a token")
    }

    /// The chromedriver URL of this session's endpoint `path`, for commands fantoccini has
    /// no method for.
    async fn session_url(&self, path: &str) -> String {
        let session = self
            .client
            .session_id()
            .await
            .expect("session id")
            .expect("an open session");
        format!(
            "http://127.0.0.1:{}/session/{session}/{path}",
            self.driver.port
        )
    }

    /// Sends a Chrome DevTools command through chromedriver (fantoccini has no method for it).
    async fn devtools(&self, cmd: &str, params: Value) {
        let url = self.session_url("goog/cdp/execute").await;
        let res = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("cannot send {cmd}: {e}"));
        assert!(
            res.status().is_success(),
            "{cmd} failed: {}",
            res.text().await.unwrap_or_default()
        );
    }

    /// Makes the page `width` × `height` CSS pixels, as a phone or a laptop screen would, and
    /// checks that the page really sees that width.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        let seen = self.eval("return window.innerWidth;").await;
        assert_eq!(
            seen.as_u64(),
            Some(u64::from(width)),
            "the viewport should be {width} CSS px wide"
        );
    }

    /// Fails unless the page fits its viewport's width: nothing makes the document scroll
    /// sideways.
    pub async fn assert_no_sideways_scroll(&self, what: &str) {
        let sizes = self
            .eval(
                "const d = document.documentElement; \
                 const wide = [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 \
                     || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')) \
                   .slice(0, 5) \
                   .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')); \
                 return [d.scrollWidth, window.innerWidth, wide];",
            )
            .await;
        let (scroll, inner) = (sizes[0].as_u64(), sizes[1].as_u64());
        assert!(
            scroll <= inner,
            "{what} on {} scrolls sideways: the document is {scroll:?} px wide in a {inner:?} px \
             viewport; too wide: {}",
            self.url().await,
            sizes[2]
        );
    }

    /// The accessibility violations axe-core finds on the page as it is now, one line per
    /// rule and an indented pair of lines per element: where it is and what is wrong.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let loaded = self.eval("return typeof window.axe === 'object';").await;
        if loaded != Value::Bool(true) {
            self.client
                .execute(AXE_SOURCE, Vec::new())
                .await
                .expect("load axe-core into the page");
        }
        let script = "const done = arguments[arguments.length - 1]; \
             axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } }) \
               .then(r => done(r.violations.map(v => ({ \
                   rule: v.id, help: v.help, \
                   nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })) \
               })))) \
               .catch(e => done([{ rule: 'axe failed', help: String(e), nodes: [] }]));";
        let result = self
            .client
            .execute_async(script, vec![json!(AXE_TAGS)])
            .await
            .unwrap_or_else(|e| panic!("cannot run axe-core: {e}"));
        let Some(list) = result.as_array() else {
            panic!("axe-core answered {result}, not a list of violations");
        };
        list.iter()
            .map(|v| {
                let mut text = format!("- {}: {}", v["rule"], v["help"]);
                for node in v["nodes"].as_array().into_iter().flatten() {
                    text.push_str(&format!(
                        "\n    {}\n      {}",
                        node["target"].as_str().unwrap_or_default(),
                        node["summary"]
                            .as_str()
                            .unwrap_or_default()
                            .replace('\n', "\n      ")
                    ));
                }
                text
            })
            .collect()
    }

    /// Runs axe-core on the page as it is now and fails listing every violation: its rule,
    /// the elements it found and what is wrong.
    pub async fn assert_accessible(&self, what: &str) {
        let violations = self.accessibility_violations().await;
        if !violations.is_empty() {
            panic!(
                "{what} on {} has {} accessibility violation(s):\n{}",
                self.url().await,
                violations.len(),
                violations.join("\n")
            );
        }
    }
}

/// "Later" on the wizard's two-factor step, on to the done page.
pub async fn later(user: &Browser) {
    user.wait_for_heading("Set up two-factor sign-in").await;
    user.click_button("Later").await;
}
