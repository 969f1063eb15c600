//! The VPN really connects: onramp and `onramp gateway` keep a real WireGuard interface in
//! sync, and a config downloaded from the real wizard carries traffic.
//!
//! Two network namespaces made here, joined by veth pairs, each with a wireguard-go
//! interface: the gateway's (synced by the agent, which reaches onramp over a third veth)
//! and the client's (set up from the downloaded config). All traffic stays inside the
//! namespaces and 198.18.0.0/15 (the benchmarking range); every wait is bounded; the
//! namespaces, links and processes go when the test ends, failed or not. Needs root,
//! wireguard-go, wg, wg-quick, ip and ping (`make test-deps` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::{redirect, Client, StatusCode};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "correct horse battery staple";
const USER_PASSWORD: &str = "plum orbit velvet river";

fn sh(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", args.join(" ")))
}

fn must(args: &[&str]) -> String {
    let out = sh(args);
    assert!(
        out.status.success(),
        "{} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The namespaces, links and processes of one run; all removed on drop.
struct Lab {
    tag: String,
    gw: String,
    cl: String,
    dir: tempfile::TempDir,
    server: Option<Child>,
    agent: Option<Child>,
    port: u16,
}

impl Lab {
    fn new() -> Self {
        let tag = format!("{}", std::process::id() % 100_000);
        let lab = Self {
            gw: format!("orgw{tag}"),
            cl: format!("orcl{tag}"),
            tag,
            dir: tempfile::tempdir().expect("temp dir"),
            server: None,
            agent: None,
            port: 18_000 + (std::process::id() % 1000) as u16,
        };
        let t = &lab.tag;
        must(&["ip", "netns", "add", &lab.gw]);
        must(&["ip", "netns", "add", &lab.cl]);
        // onramp (host) <-> gateway namespace, for the agent.
        must(&[
            "ip",
            "link",
            "add",
            &format!("orh{t}"),
            "type",
            "veth",
            "peer",
            "name",
            &format!("orhg{t}"),
        ]);
        must(&["ip", "link", "set", &format!("orhg{t}"), "netns", &lab.gw]);
        must(&[
            "ip",
            "addr",
            "add",
            "198.18.1.1/30",
            "dev",
            &format!("orh{t}"),
        ]);
        must(&["ip", "link", "set", &format!("orh{t}"), "up"]);
        lab.gw_run(&[
            "ip",
            "addr",
            "add",
            "198.18.1.2/30",
            "dev",
            &format!("orhg{t}"),
        ]);
        lab.gw_run(&["ip", "link", "set", &format!("orhg{t}"), "up"]);
        lab.gw_run(&["ip", "link", "set", "lo", "up"]);
        // gateway <-> client: the "internet" the tunnel crosses.
        must(&[
            "ip",
            "link",
            "add",
            &format!("org{t}"),
            "type",
            "veth",
            "peer",
            "name",
            &format!("orc{t}"),
        ]);
        must(&["ip", "link", "set", &format!("org{t}"), "netns", &lab.gw]);
        must(&["ip", "link", "set", &format!("orc{t}"), "netns", &lab.cl]);
        lab.gw_run(&[
            "ip",
            "addr",
            "add",
            "198.18.0.1/30",
            "dev",
            &format!("org{t}"),
        ]);
        lab.gw_run(&["ip", "link", "set", &format!("org{t}"), "up"]);
        lab.cl_run(&[
            "ip",
            "addr",
            "add",
            "198.18.0.2/30",
            "dev",
            &format!("orc{t}"),
        ]);
        lab.cl_run(&["ip", "link", "set", &format!("orc{t}"), "up"]);
        lab.cl_run(&["ip", "link", "set", "lo", "up"]);
        // The gateway's WireGuard interface: created by the host, synced by the agent.
        lab.gw_run(&["wireguard-go", &lab.gw_if()]);
        lab.gw_run(&["ip", "addr", "add", "10.99.0.1/24", "dev", &lab.gw_if()]);
        lab.gw_run(&["ip", "link", "set", &lab.gw_if(), "up"]);
        lab
    }

    fn gw_if(&self) -> String {
        format!("orwg{}", self.tag)
    }

    fn cl_if(&self) -> String {
        format!("orwc{}", self.tag)
    }

    fn gw_run(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", &self.gw];
        all.extend_from_slice(args);
        must(&all)
    }

    fn cl_run(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", &self.cl];
        all.extend_from_slice(args);
        must(&all)
    }

    fn url(&self) -> String {
        format!("http://198.18.1.1:{}", self.port)
    }

    fn bin() -> PathBuf {
        std::env::var_os("ONRAMP_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_onramp")))
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .expect("log")
    }

    async fn start_server(&mut self) {
        let child = Command::new(Self::bin())
            .arg("serve")
            .env("ONRAMP_LISTEN", format!("198.18.1.1:{}", self.port))
            .env("ONRAMP_DATABASE", self.dir.path().join("onramp.db"))
            .env("ONRAMP_PUBLIC_URL", self.url())
            .env("ONRAMP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(self.log("onramp.log"))
            .stderr(self.log("onramp.log"))
            .spawn()
            .expect("start onramp");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/health", self.url())).await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("onramp did not come up: {}", self.read_log("onramp.log"));
    }

    fn stop_server(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn start_agent(&mut self, token: &str) {
        let bin = Self::bin();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.gw])
            .arg(&bin)
            .args([
                "gateway",
                "--url",
                &self.url(),
                "--interface",
                &self.gw_if(),
            ])
            .env("ONRAMP_GATEWAY_TOKEN", token)
            .stdin(Stdio::null())
            .stdout(self.log("agent.log"))
            .stderr(self.log("agent.log"))
            .spawn()
            .expect("start the agent");
        self.agent = Some(child);
    }

    fn read_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    fn ping(&self) -> bool {
        sh(&[
            "ip",
            "netns",
            "exec",
            &self.cl,
            "ping",
            "-c1",
            "-W1",
            "10.99.0.1",
        ])
        .status
        .success()
    }

    /// Waits up to `limit` for the tunnel to carry (or stop carrying) a ping; returns how
    /// long it took.
    fn wait_for_ping(&self, works: bool, limit: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.ping() == works {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the tunnel did not {} within {limit:?}\nagent log:\n{}\nonramp log:\n{}\ngateway: {}",
            if works { "carry a ping" } else { "stop" },
            self.read_log("agent.log"),
            self.read_log("onramp.log"),
            String::from_utf8_lossy(&sh(&["ip", "netns", "exec", &self.gw, "wg", "show"]).stdout),
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in [self.agent.take(), self.server.take()]
            .into_iter()
            .flatten()
        {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.gw, &self.cl] {
            let pids =
                String::from_utf8_lossy(&sh(&["ip", "netns", "pids", ns]).stdout).into_owned();
            for pid in pids.lines().map(str::trim).filter(|p| !p.is_empty()) {
                let _ = sh(&["kill", pid]);
            }
            let _ = sh(&["ip", "netns", "del", ns]);
        }
        let _ = sh(&["ip", "link", "del", &format!("orh{}", self.tag)]);
    }
}

/// A browser-like HTTP session: cookies kept, redirects not followed.
struct Session {
    client: Client,
    base: String,
}

fn csrf(body: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let at = body.find(marker).expect("a CSRF field") + marker.len();
    body[at..at + body[at..].find('"').expect("end")].to_owned()
}

fn field(body: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}" type="text" readonly value=""#);
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {body}"))
        + marker.len();
    body[at..at + body[at..].find('"').expect("end")].to_owned()
}

impl Session {
    fn new(base: &str) -> Self {
        Self {
            client: Client::builder()
                .cookie_store(true)
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get");
        (res.status(), res.text().await.expect("body"))
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .form(fields)
            .send()
            .await
            .expect("post");
        let status = res.status();
        // A token is issued by POST and shown by the GET it redirects to: follow that one.
        if status == StatusCode::SEE_OTHER {
            let to = res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            if to.contains("/token/") {
                return self.get(&to).await;
            }
        }
        (status, res.text().await.expect("body"))
    }

    /// POSTs with the CSRF token of the page at `page`.
    async fn submit(
        &self,
        page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let (_, body) = self.get(page).await;
        let token = csrf(&body);
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

fn keypair() -> (String, String) {
    let private = must(&["wg", "genkey"]).trim().to_owned();
    let mut child = Command::new("wg")
        .arg("pubkey")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("wg pubkey");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), private.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wg pubkey");
    (
        private,
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    )
}

fn tools_missing() -> Vec<&'static str> {
    ["wireguard-go", "wg", "wg-quick", "ip", "ping"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect()
}

fn bring_up_client(lab: &Lab, config: &str, dir: &Path) {
    let file = dir.join("lab.conf");
    std::fs::write(&file, config).expect("write config");
    let stripped = must(&["wg-quick", "strip", file.to_str().expect("utf-8")]);
    let stripped_file = dir.join("lab.stripped");
    std::fs::write(&stripped_file, stripped).expect("write");
    let address = config
        .lines()
        .find_map(|l| l.strip_prefix("Address = "))
        .expect("an Address line")
        .split(',')
        .next()
        .expect("address")
        .trim()
        .to_owned();
    lab.cl_run(&["wireguard-go", &lab.cl_if()]);
    lab.cl_run(&[
        "wg",
        "setconf",
        &lab.cl_if(),
        stripped_file.to_str().expect("utf-8"),
    ]);
    lab.cl_run(&["ip", "addr", "add", &address, "dev", &lab.cl_if()]);
    lab.cl_run(&["ip", "link", "set", &lab.cl_if(), "up"]);
    lab.cl_run(&["ip", "route", "add", "10.99.0.0/24", "dev", &lab.cl_if()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wizard_config_carries_traffic_through_a_synced_gateway() {
    if !nix_is_root() {
        eprintln!("skipped: the tunnel test needs root (CI runs as root)");
        return;
    }
    let missing = tools_missing();
    assert!(
        missing.is_empty(),
        "missing tools: {missing:?}; run make test-deps"
    );
    let mut lab = Lab::new();
    lab.start_server().await;
    let admin = Session::new(&lab.url());
    let (status, body) = admin
        .submit(
            "/admin/login",
            "/admin/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, body) = admin
        .submit(
            "/admin/locations/new",
            "/admin/locations",
            &[
                ("name", "Lab"),
                ("addresses", "10.99.0.1/24"),
                ("endpoint", "198.18.0.1"),
                ("port", "51820"),
                ("allowed_ips", "10.99.0.0/24"),
                ("dns", ""),
                ("keepalive", "5"),
                ("key_mode", "generate"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, card) = admin
        .submit("/admin/locations", "/admin/locations/1/gateway-token", &[])
        .await;
    let gateway_token = field(&card, "gateway-token");
    lab.start_agent(&gateway_token);

    // A user enrolls through the real wizard with a key pair made by wg.
    let (status, body) = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("username", "jnowak"),
                ("first_name", "Jan"),
                ("last_name", "Nowak"),
                ("email", "jnowak@example.com"),
                ("phone", ""),
                ("use_enrollment", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, card) = admin
        .submit(
            "/admin/users",
            "/admin/users/2/enrollment",
            &[("delivery", "manual"), ("email", "")],
        )
        .await;
    let token = field(&card, "token-value");
    let user = Session::new(&lab.url());
    let (status, _) = user.post("/enroll/start", &[("token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (private, public) = keypair();
    for (path, fields) in [
        ("/enroll/wizard/welcome", vec![]),
        ("/enroll/wizard/verify", vec![("phone", "")]),
        (
            "/enroll/wizard/password",
            vec![
                ("password", USER_PASSWORD),
                ("password_repeat", USER_PASSWORD),
            ],
        ),
        (
            "/enroll/wizard/vpn",
            vec![
                ("device_name", "laptop"),
                ("public_key", public.as_str()),
                ("action", "add"),
            ],
        ),
        ("/enroll/wizard/two-factor/skip", vec![]),
    ] {
        let (status, body) = user.submit("/enroll/wizard", path, &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {body}");
    }
    let finished = Instant::now();
    let (_, done) = user.get("/enroll/done").await;
    let file = done
        .split("/enroll/done/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a config download link")
        .to_owned();
    let (status, config) = user.get(&format!("/enroll/done/{file}")).await;
    assert_eq!(status, StatusCode::OK);
    let config = config.replace("PASTE_YOUR_PRIVATE_KEY_HERE", &private);
    bring_up_client(&lab, &config, lab.dir.path());

    lab.wait_for_ping(true, Duration::from_secs(10));
    let since = finished.elapsed();
    eprintln!("tunnel carries a ping {since:?} after the last wizard step");
    assert!(since < Duration::from_secs(10));

    // Disabling the user takes the peer off the gateway; enabling brings it back.
    let (status, _) = admin
        .submit("/admin/users", "/admin/users/2/disable", &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let down = lab.wait_for_ping(false, Duration::from_secs(10));
    eprintln!("disabled: tunnel stopped in {down:?}");
    let (status, _) = admin
        .submit("/admin/users", "/admin/users/2/enable", &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The peer is back on the gateway at once, but the client still holds the session the
    // gateway forgot: WireGuard makes a new handshake only after 15 s without an answer.
    let up = lab.wait_for_ping(true, Duration::from_secs(30));
    eprintln!("enabled: tunnel back in {up:?}");

    // onramp restarts: the gateway keeps its peers, the tunnel stays up throughout.
    lab.stop_server();
    for _ in 0..5 {
        assert!(lab.ping(), "the tunnel must not depend on onramp being up");
        std::thread::sleep(Duration::from_millis(300));
    }
    lab.start_server().await;
    std::thread::sleep(Duration::from_secs(2));
    assert!(lab.ping());

    // The agent reported the handshake back: the admin sees it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, page) = admin.get("/admin/locations").await;
        if page.contains("Gateway connected") {
            break;
        }
        assert!(Instant::now() < deadline, "no gateway status: {page}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The agent reports at least every ten seconds: the device's handshake arrived.
    let conn = rusqlite::Connection::open(lab.dir.path().join("onramp.db")).expect("open");
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let handshake: Option<i64> = conn
            .query_row("SELECT max(last_handshake) FROM device_stats", [], |r| {
                r.get(0)
            })
            .expect("query");
        if handshake.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent never reported the handshake: {}",
            lab.read_log("agent.log")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Deleting the device takes it off the gateway.
    let (status, body) = admin
        .submit(
            "/admin/users/2/devices/1/delete",
            "/admin/users/2/devices/1/delete",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let gone = lab.wait_for_ping(false, Duration::from_secs(10));
    eprintln!("device deleted: tunnel stopped in {gone:?}");
    if let Some(agent) = &lab.agent {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", agent.id())).unwrap_or_default();
        let peak = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .unwrap_or("VmHWM: unknown");
        eprintln!("agent peak memory {peak}");
    }
}

fn nix_is_root() -> bool {
    must(&["id", "-u"]).trim() == "0"
}
