//! A small, real SMTP server for tests: plain TCP on 127.0.0.1, no STARTTLS, AUTH only when
//! asked for. It stores every accepted message with its envelope so a test can read what
//! lettre actually put on the wire, and it can refuse recipients with a permanent 550.

use base64::Engine;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM` address (without the angle brackets).
    pub envelope_from: String,
    /// Every `RCPT TO` address.
    pub envelope_to: Vec<String>,
    /// The DATA section with dot-stuffing undone, CRLF line ends.
    pub raw: String,
}

/// A MIME part: its headers and its decoded body.
#[derive(Debug, Clone)]
pub struct Part {
    /// Unfolded headers, names as written.
    pub headers: Vec<(String, String)>,
    /// The body with its Content-Transfer-Encoding undone.
    pub body: String,
}

impl Part {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type (`text/plain`), lower-cased, without parameters.
    pub fn content_type(&self) -> String {
        self.header("Content-Type")
            .unwrap_or("text/plain")
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}

/// Splits a header block and a body at the first empty line; unfolds continuation lines.
fn split_entity(raw: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or((raw.trim_end_matches("\r\n"), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

fn decode_quoted_printable(body: &str) -> String {
    let lines: Vec<&str> = body.split("\r\n").collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        // A trailing `=` is a soft line break: the next line continues this one.
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (*line, false),
        };
        let bytes = line.as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            if bytes[j] == b'=' && j + 3 <= bytes.len() {
                let byte = std::str::from_utf8(&bytes[j + 1..j + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = byte {
                    out.push(b);
                    j += 3;
                    continue;
                }
            }
            out.push(bytes[j]);
            j += 1;
        }
        if !soft && i + 1 < lines.len() {
            out.extend_from_slice(b"\r\n");
        }
    }
    String::from_utf8(out).expect("UTF-8 body")
}

fn decode_body(headers: &[(String, String)], body: &str) -> String {
    let encoding = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Transfer-Encoding"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body");
            String::from_utf8(bytes).expect("UTF-8 body")
        }
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.to_owned(),
    }
}

impl Received {
    /// The top-level headers, unfolded.
    pub fn headers(&self) -> Vec<(String, String)> {
        split_entity(&self.raw).0
    }

    /// The first top-level header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The parts of a multipart message, decoded (one part for a single-part message).
    pub fn parts(&self) -> Vec<Part> {
        let (headers, body) = split_entity(&self.raw);
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let boundary = content_type.split(';').find_map(|p| {
            p.trim()
                .strip_prefix("boundary=")
                .map(|b| b.trim_matches('"').to_owned())
        });
        let Some(boundary) = boundary else {
            return vec![Part {
                body: decode_body(&headers, &body),
                headers,
            }];
        };
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let body = format!("\r\n{body}");
        for chunk in body.split(&format!("\r\n{delimiter}")).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
            let (h, b) = split_entity(chunk);
            parts.push(Part {
                body: decode_body(&h, &b),
                headers: h,
            });
        }
        parts
    }

    /// The decoded body of the first part of type `content_type`.
    pub fn part(&self, content_type: &str) -> String {
        self.parts()
            .into_iter()
            .find(|p| p.content_type() == content_type)
            .map(|p| p.body)
            .unwrap_or_else(|| panic!("no {content_type} part in:\n{}", self.raw))
    }
}

/// How the server answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Refuse every `RCPT TO` with `550 5.1.1` (a permanent failure).
    pub reject_rcpt: bool,
    /// Advertise and accept `AUTH PLAIN LOGIN` (any credentials, recorded).
    pub auth: bool,
}

struct Shared {
    messages: Mutex<Vec<Received>>,
    reject_rcpt: AtomicBool,
    auth: bool,
    rejected: Mutex<Vec<String>>,
    logins: Mutex<Vec<(String, String)>>,
}

/// A bound port that refuses connections until a server starts on it.
pub struct ReservedPort {
    socket: TcpSocket,
    port: u16,
}

impl ReservedPort {
    /// The port number, for the SMTP configuration.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A running test SMTP server; stops accepting when dropped.
pub struct SmtpServer {
    port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// A server on a free port that accepts everything.
    pub async fn start() -> Self {
        Self::start_on(0, Options::default()).await
    }

    /// A server on a free port that refuses every recipient with 550.
    pub async fn start_rejecting() -> Self {
        Self::start_on(
            0,
            Options {
                reject_rcpt: true,
                ..Options::default()
            },
        )
        .await
    }

    /// A port on 127.0.0.1 that refuses connections ("SMTP is down"): the socket is bound, so
    /// nothing else can take the port, but it does not listen until it is handed to
    /// [`SmtpServer::start_on_reserved`].
    pub fn reserve_port() -> ReservedPort {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind a free port");
        let port = socket.local_addr().expect("address").port();
        ReservedPort { socket, port }
    }

    /// Starts listening on a reserved port ("SMTP comes back").
    pub async fn start_on_reserved(reserved: ReservedPort, options: Options) -> Self {
        let listener = reserved.socket.listen(128).expect("listen");
        Self::serve(listener, options)
    }

    /// A server on `port` (0 for any free port).
    pub async fn start_on(port: u16, options: Options) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("test SMTP server cannot bind 127.0.0.1:{port}: {e}"));
        Self::serve(listener, options)
    }

    fn serve(listener: TcpListener, options: Options) -> Self {
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            reject_rcpt: AtomicBool::new(options.reject_rcpt),
            auth: options.auth,
            rejected: Mutex::new(Vec::new()),
            logins: Mutex::new(Vec::new()),
        });
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                tokio::spawn(async move {
                    // A client that hangs up or speaks TLS just ends its session.
                    let _ = session(stream, &shared).await;
                });
            }
        });
        Self { port, shared, task }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every accepted message so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().expect("messages").clone()
    }

    /// Recipients refused with 550 so far.
    pub fn rejected(&self) -> Vec<String> {
        self.shared.rejected.lock().expect("rejected").clone()
    }

    /// Username and password of every successful `AUTH`, in order.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.shared.logins.lock().expect("logins").clone()
    }

    /// From now on, accept (`false`) or refuse (`true`) recipients.
    pub fn set_reject_rcpt(&self, reject: bool) {
        self.shared.reject_rcpt.store(reject, Ordering::SeqCst);
    }

    /// Waits until at least `n` messages arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the test SMTP server on port {} received {} message(s) within {timeout:?}, expected {n}",
                    self.port,
                    messages.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `MAIL FROM:<a>` / `RCPT TO:<a>`, ignoring parameters.
fn path_argument(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(a), Some(b)) if a < b => rest[a + 1..b].to_owned(),
        _ => rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

fn decode_base64_text(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn read_base64_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<String> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    Ok(decode_base64_text(&String::from_utf8_lossy(&line)))
}

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"220 localhost ESMTP test server\r\n")
        .await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            if shared.auth {
                "250-localhost\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n".into()
            } else {
                "250-localhost\r\n250 8BITMIME\r\n".into()
            }
        } else if upper.starts_with("HELO") {
            "250 localhost\r\n".into()
        } else if upper.starts_with("AUTH") && shared.auth {
            let words: Vec<&str> = command.split_whitespace().collect();
            let (user, pass) = if upper.starts_with("AUTH LOGIN") {
                // Username and password prompts.
                write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                let user = read_base64_line(&mut reader).await?;
                write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let pass = read_base64_line(&mut reader).await?;
                (user, pass)
            } else {
                // AUTH PLAIN, with the initial response or after an empty challenge.
                let response = match words.get(2) {
                    Some(r) => decode_base64_text(r),
                    None => {
                        write.write_all(b"334 \r\n").await?;
                        read_base64_line(&mut reader).await?
                    }
                };
                let mut fields = response.split('\0').skip(1);
                (
                    fields.next().unwrap_or_default().to_owned(),
                    fields.next().unwrap_or_default().to_owned(),
                )
            };
            shared.logins.lock().expect("logins").push((user, pass));
            "235 2.7.0 Authentication successful\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = path_argument(&command["MAIL FROM:".len()..]);
            to.clear();
            "250 2.1.0 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let address = path_argument(&command["RCPT TO:".len()..]);
            if shared.reject_rcpt.load(Ordering::SeqCst) {
                shared.rejected.lock().expect("rejected").push(address);
                "550 5.1.1 No such user here\r\n".into()
            } else {
                to.push(address);
                "250 2.1.5 OK\r\n".into()
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                "554 5.5.1 No valid recipients\r\n".into()
            } else {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut raw = String::new();
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    let data_line = String::from_utf8_lossy(&line).into_owned();
                    if data_line == ".\r\n" || data_line == ".\n" {
                        break;
                    }
                    // Undo dot-stuffing (RFC 5321 4.5.2).
                    raw.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
                }
                shared.messages.lock().expect("messages").push(Received {
                    envelope_from: std::mem::take(&mut from),
                    envelope_to: std::mem::take(&mut to),
                    raw,
                });
                "250 2.0.0 OK: queued\r\n".into()
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 2.0.0 OK\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 OK\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not implemented\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
}
