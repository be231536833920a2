//! The site end to end in real headless Chromium (fantoccini + chromedriver):
//! the real host serving `site/dist` and the rooms component, two real relay
//! nodes behind a round-robin front (so consecutive browsers land on
//! different nodes), and the real Redis.
//!
//! Needs `site/dist` (built by `cargo xtask test`), the host and relay
//! binaries, `/usr/bin/chromium` and `/usr/bin/chromedriver`. Screenshots go
//! to `test-artifacts/browser/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use vroom_system_tests::{Host, RelayNode, redis_url, repo_root, room_keys};

/// One browser test at a time: two cores, several Chromiums each.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ENTER: &str = "\u{e007}";

fn dist() -> PathBuf {
    repo_root().join("site/dist")
}

fn artifacts() -> PathBuf {
    let dir = repo_root().join("test-artifacts/browser");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A spin.toml like the repository's, with absolute component paths and the
/// static files from `files`.
fn manifest_serving(files: &Path, dir: &Path) -> PathBuf {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
    let text = text.replace(
        "source = \"target/",
        &format!("source = \"{}/target/", root.display()),
    );
    let text = text
        .lines()
        .map(|line| {
            if line.starts_with("files = ") {
                format!(
                    "files = [{{ source = \"{}\", destination = \"/\" }}]",
                    files.display()
                )
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// What the round-robin front saw, per direction, as WebSocket payloads
/// (client frames unmasked).
#[derive(Default)]
struct Capture {
    bytes: Vec<u8>,
}

/// The app: host + two relay nodes behind a round-robin front.
struct App {
    host: Host,
    _nodes: Vec<RelayNode>,
    capture: Arc<Mutex<Capture>>,
    _dir: TempDir,
}

impl App {
    async fn start() -> Self {
        Self::start_serving(&dist(), &[]).await
    }

    async fn start_serving(files: &Path, relay_args: &[&str]) -> Self {
        assert!(
            files.join("index.html").exists(),
            "{} is missing: build the site with `cargo xtask test`",
            files.display()
        );
        let dir = TempDir::new("vroom-app");
        let front = TcpListener::bind("127.0.0.1:0").await.expect("front");
        let front_addr = front.local_addr().expect("front address");
        let relay_url = format!("ws://{front_addr}/ws");
        let manifest = manifest_serving(files, &dir.0);
        let host = Host::start_with(
            &manifest,
            &[
                ("relay_url", relay_url.as_str()),
                ("rate_create_per_min", "100000"),
                ("rate_join_per_min", "100000"),
            ],
            &[],
        )
        .await;
        let mut args = vec![
            "--allowed-origin",
            host.base.as_str(),
            "--creator-grace-ms",
            "2000",
            "--presence-interval-ms",
            "300",
            "--presence-stale-ms",
            "2000",
        ];
        args.extend_from_slice(relay_args);
        let nodes = vec![
            RelayNode::start("browser-node-1", &args).await,
            RelayNode::start("browser-node-2", &args).await,
        ];
        let backends: Vec<SocketAddr> = nodes
            .iter()
            .map(|n| {
                n.url
                    .trim_start_matches("ws://")
                    .trim_end_matches("/ws")
                    .parse()
                    .expect("node address")
            })
            .collect();
        let capture = Arc::new(Mutex::new(Capture::default()));
        tokio::spawn(round_robin(front, backends, capture.clone()));
        Self {
            host,
            _nodes: nodes,
            capture,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        self.host.url(path)
    }
}

/// Hands each connection to the next node in turn, recording every byte.
async fn round_robin(front: TcpListener, backends: Vec<SocketAddr>, capture: Arc<Mutex<Capture>>) {
    let mut next = 0;
    while let Ok((client, _)) = front.accept().await {
        let backend = backends[next % backends.len()];
        next += 1;
        let capture = capture.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(backend).await else {
                return;
            };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let up_capture = capture.clone();
            let up = tokio::spawn(async move {
                let mut all = Vec::new();
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    all.extend_from_slice(&buf[..n]);
                }
                let _ = sw.shutdown().await;
                let mut c = up_capture.lock().unwrap_or_else(|e| e.into_inner());
                c.bytes.extend_from_slice(&all);
                c.bytes.extend(unmasked_frames(&all));
            });
            let mut all = Vec::new();
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = sr.read(&mut buf).await {
                if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            let _ = cw.shutdown().await;
            let _ = up.await;
            capture
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .bytes
                .extend_from_slice(&all);
        });
    }
}

/// The payloads of the client→server WebSocket frames in `stream` (after
/// the HTTP upgrade request), unmasked.
fn unmasked_frames(stream: &[u8]) -> Vec<u8> {
    let Some(start) = stream.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut rest = &stream[start + 4..];
    let mut out = Vec::new();
    while rest.len() >= 2 {
        let masked = rest[1] & 0x80 != 0;
        let (len, mut at) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            127 if rest.len() >= 10 => (
                u64::from_be_bytes(rest[2..10].try_into().expect("8 bytes")) as usize,
                10,
            ),
            n if n < 126 => (n as usize, 2),
            _ => break,
        };
        let mut mask = [0u8; 4];
        if masked {
            if rest.len() < at + 4 {
                break;
            }
            mask.copy_from_slice(&rest[at..at + 4]);
            at += 4;
        }
        if rest.len() < at + len {
            break;
        }
        out.extend(
            rest[at..at + len]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4]),
        );
        rest = &rest[at + len..];
    }
    out
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("randomness");
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("{prefix}-{name}"));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// chromedriver, stopped when dropped.
struct Driver {
    _child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver does not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A fresh headless Chromium with its own profile.
    async fn browser(&self) -> Browser {
        let profile = TempDir::new("vroom-chromium");
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }
}

struct Browser {
    client: Client,
    _profile: TempDir,
}

/// chromedriver's browser log (console messages, CSP violations).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

impl Browser {
    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("typing");
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            if let Ok(t) = el.text().await {
                out.push(t);
            }
        }
        out
    }

    /// Waits until some element matching `css` contains `text`.
    async fn wait_text(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            if self.texts(css).await.iter().any(|t| t.contains(text)) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "no {css} ever contained {text:?}; saw {:?}",
                self.texts(css).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn value(&self, css: &str) -> String {
        self.wait(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Sends a chat message with Enter.
    async fn say(&self, text: &str) {
        self.type_into("#composer", &format!("{text}{ENTER}")).await;
    }

    /// Waits until the member list shows `n` verified members (codes shown).
    async fn wait_members(&self, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let codes: Vec<String> = self
                .texts("#members li .code")
                .await
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect();
            if codes.len() == n {
                return codes;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "expected {n} members with safety codes, saw {codes:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn my_code(&self) -> String {
        self.wait("#members li.me .code")
            .await
            .text()
            .await
            .expect("own code")
    }

    async fn screenshot(&self, name: &str, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(artifacts().join(format!("{name}.png")), png).expect("write screenshot");
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("resize back");
    }

    /// Console entries so far that report a CSP violation or a refused load.
    async fn csp_violations(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("chromedriver browser log");
        log.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str())
            .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
            .map(str::to_owned)
            .collect()
    }

    /// Creates a quick room and returns its invite link.
    async fn create_quick_room(&self, app: &App, name: &str) -> String {
        self.goto(&app.url("/")).await;
        self.type_into("#display-name", name).await;
        self.click("#quick-create").await;
        let link = self.value("#invite-link").await;
        self.wait_text("#conn", "Connected").await;
        link
    }

    /// Opens an invite link, accepts the invitation under the offered name, waits until connected.
    async fn join_by_link(&self, link: &str) {
        self.goto(link).await;
        self.click("#join-invite").await;
        self.wait_text("#conn", "Connected").await;
    }

    async fn end_room(&self) {
        self.click("#end-room").await;
        self.click("#confirm-yes").await;
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn room_of(link: &str) -> String {
    link.rsplit("/r/")
        .next()
        .and_then(|r| r.split('#').next())
        .expect("room id in link")
        .to_owned()
}

async fn wait_no_keys(room: &str) {
    let started = Instant::now();
    loop {
        let keys = room_keys(room).await;
        if keys.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "keys remain: {keys:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_browsers_chat_rotate_and_end() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b, c) = (
        driver.browser().await,
        driver.browser().await,
        driver.browser().await,
    );

    a.goto(&app.url("/")).await;
    a.wait("#quick-create").await;
    a.screenshot("landing-desktop", 1280, 900).await;
    a.screenshot("landing-phone", 360, 780).await;

    let link = a.create_quick_room(&app, "Alice").await;
    let room = room_of(&link);
    assert!(!a.client.current_url().await.unwrap().as_str().contains('#'));
    b.join_by_link(&link).await;
    // The secret left B's address bar.
    assert!(!b.client.current_url().await.unwrap().as_str().contains('#'));
    a.wait_members(2).await;
    b.wait_members(2).await;
    // Each sees the other's own safety code.
    let (code_a, code_b) = (a.my_code().await, b.my_code().await);
    assert!(b.texts("#members li .code").await.contains(&code_a));
    assert!(a.texts("#members li .code").await.contains(&code_b));

    a.say("hello from Alice").await;
    b.wait_text(".line.other .text", "hello from Alice").await;
    b.say("hi Alice,\u{e008}\u{e007}\u{e008}second line").await;
    a.wait_text(".line.other .text", "second line").await;
    a.wait_text(".line.other .author", "").await;

    c.join_by_link(&link).await;
    for x in [&a, &b, &c] {
        x.wait_members(3).await;
    }
    c.say("Carol here").await;
    a.wait_text(".line.other .text", "Carol here").await;
    b.wait_text(".line.other .text", "Carol here").await;
    a.say("welcome Carol").await;
    c.wait_text(".line.other .text", "welcome Carol").await;
    a.screenshot("room-desktop", 1280, 900).await;
    a.screenshot("room-phone", 360, 780).await;

    // Carol leaves: the others rotate keys and keep talking.
    c.click("#leave-room").await;
    c.click("#confirm-yes").await;
    c.wait("#left").await;
    a.wait_text(".line.system", "Keys rotated").await;
    a.wait_members(2).await;
    b.say("still here after Carol left").await;
    a.wait_text(".line.other .text", "still here after Carol left")
        .await;

    // No CSP violation anywhere.
    for x in [&a, &b, &c] {
        let violations = x.csp_violations().await;
        assert!(violations.is_empty(), "CSP violations: {violations:?}");
    }

    // Alice ends the room: everyone sees it, nothing remains in Redis.
    a.end_room().await;
    for x in [&a, &b] {
        x.wait_text("#ended", "This room has ended.").await;
        x.wait_text("#ended", "Nothing of it remains on the server.")
            .await;
    }
    assert!(a.texts(".line").await.is_empty());
    a.screenshot("ended-desktop", 1280, 900).await;
    a.screenshot("ended-phone", 360, 780).await;
    wait_no_keys(&room).await;
    for x in [a, b, c] {
        x.close().await;
    }
}

/// Fills the landing page's named-room form (create or join) and submits it.
async fn named_form(x: &Browser, app: &App, name: &str, create: bool, pass: &str) {
    x.goto(&app.url("/")).await;
    let (n, p, go) = if create {
        ("#named-name", "#named-pass", "#named-create")
    } else {
        ("#join-name", "#join-pass", "#join-named-go")
    };
    x.type_into(n, name).await;
    x.type_into(p, pass).await;
    x.click(go).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn named_rooms() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).unwrap();
    let name = format!("book club {}", u32::from_le_bytes(suffix));

    named_form(&a, &app, &name, true, "correct horse battery staple").await;
    a.wait_text("#conn", "Connected").await;
    a.wait_text(".room-title", &name).await;
    assert!(a.client.find(Locator::Css("#end-room")).await.is_ok());

    // Another passphrase is another room: nothing live there.
    named_form(&b, &app, &name, false, "wrong horse battery staple").await;
    b.wait_text("#failed", "No live room with these credentials")
        .await;

    named_form(&b, &app, &name, false, "correct horse battery staple").await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;
    b.wait_members(2).await;
    b.say("named hello").await;
    a.wait_text(".line.other .text", "named hello").await;

    a.end_room().await;
    b.wait_text("#ended", "This room has ended.").await;

    // The same credentials create a fresh, empty room.
    named_form(&b, &app, &name, true, "correct horse battery staple").await;
    b.wait_text("#conn", "Connected").await;
    b.wait("#end-room").await;
    assert!(b.texts(".line.other").await.is_empty());
    b.wait_members(1).await;
    b.end_room().await;
    b.wait("#ended").await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn creator_reload_keeps_the_room_and_closing_ends_it() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let link = a.create_quick_room(&app, "Alice").await;
    let room = room_of(&link);
    b.join_by_link(&link).await;
    a.wait_members(2).await;

    // A reload of the creator's tab does not end the room.
    a.client.refresh().await.expect("reload");
    a.wait_text("#conn", "Connected").await;
    a.wait("#end-room").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.wait_members(2).await;
    a.say("back after reload").await;
    b.wait_text(".line.other .text", "back after reload").await;
    assert!(!room_keys(&room).await.is_empty());

    // Closing the creator's tab ends it (after the relay's grace period).
    a.close().await;
    b.wait_text("#ended", "This room has ended.").await;
    wait_no_keys(&room).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_plaintext_reaches_the_server_side() {
    let _serial = SERIAL.lock().await;
    // Everything Redis executes, from before the first request.
    let monitor = Arc::new(Mutex::new(Vec::<u8>::new()));
    let redis_addr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let mut mon = TcpStream::connect(&redis_addr).await.expect("redis");
    mon.write_all(b"MONITOR\r\n").await.unwrap();
    let sink = monitor.clone();
    let monitor_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = mon.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    });

    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let secrets_typed = [
        "Zanzibar-Quokka-Name",
        "zebra crossing at midnight 4471",
        "the eagle lands at dawn 9f3k",
        "Marmalade Hedgehog",
    ];
    // A named room (name + passphrase) and a quick room.
    a.goto(&app.url("/")).await;
    a.type_into("#display-name", secrets_typed[3]).await;
    a.type_into("#named-name", secrets_typed[0]).await;
    a.type_into("#named-pass", secrets_typed[1]).await;
    a.click("#named-create").await;
    a.wait_text("#conn", "Connected").await;
    b.goto(&app.url("/")).await;
    b.type_into("#display-name", "Pistachio Walrus").await;
    b.type_into("#join-name", secrets_typed[0]).await;
    b.type_into("#join-pass", secrets_typed[1]).await;
    b.click("#join-named-go").await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;
    a.say(secrets_typed[2]).await;
    b.wait_text(".line.other .text", secrets_typed[2]).await;
    b.say("reply with plaintext ABCDEF123").await;
    a.wait_text(".line.other .text", "ABCDEF123").await;
    let secret_fragment = {
        // The room secret of a quick room, from its link.
        let c = driver.browser().await;
        let link = c.create_quick_room(&app, "Quick Creator").await;
        c.say("quick room plaintext QRS789").await;
        c.end_room().await;
        c.close().await;
        link.rsplit('#').next().unwrap().to_owned()
    };
    a.end_room().await;
    b.wait("#ended").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    monitor_task.abort();

    let mut seen = monitor.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        seen.len() > 1000,
        "MONITOR saw too little: {} bytes",
        seen.len()
    );
    let relay = app
        .capture
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .bytes
        .clone();
    assert!(
        relay.len() > 1000,
        "the front saw too little: {} bytes",
        relay.len()
    );
    seen.extend_from_slice(&relay);
    let haystack = String::from_utf8_lossy(&seen).to_lowercase();
    for needle in secrets_typed
        .iter()
        .copied()
        .chain([
            "Pistachio Walrus",
            "reply with plaintext",
            "ABCDEF123",
            "QRS789",
            "Quick Creator",
        ])
        .chain([secret_fragment.as_str()])
    {
        assert!(
            !haystack.contains(&needle.to_lowercase()),
            "{needle:?} reached the server side"
        );
    }
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_wasm_is_refused() {
    let _serial = SERIAL.lock().await;
    let copy = TempDir::new("vroom-tampered");
    let mut tampered = false;
    for entry in std::fs::read_dir(dist()).expect("site/dist") {
        let entry = entry.unwrap();
        let mut bytes = std::fs::read(entry.path()).unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        // The attacker serves a modified wasm; without Brotli variants the
        // static component sends exactly that file.
        if name.ends_with(".br") {
            continue;
        }
        if name.ends_with(".wasm") {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            tampered = true;
        }
        std::fs::write(copy.0.join(&name), bytes).unwrap();
    }
    assert!(tampered, "site/dist has no wasm");
    let app = App::start_serving(&copy.0, &[]).await;
    let driver = Driver::start().await;
    let a = driver.browser().await;
    a.goto(&app.url("/")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        a.client.find(Locator::Css("#quick-create")).await.is_err(),
        "the page ran a tampered wasm"
    );
    let log = a
        .client
        .issue_cmd(BrowserLog)
        .await
        .expect("browser log")
        .to_string();
    assert!(
        log.contains("integrity"),
        "no integrity failure logged: {log}"
    );
    a.close().await;
}

/// Milliseconds from navigation start until `ready` (a JS expression) holds,
/// measured in the page (`performance.now()`, checked every frame).
async fn ms_until(x: &Browser, ready: &str) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         (function check() {{ if ({ready}) done(performance.now()); else requestAnimationFrame(check); }})();"
    );
    x.client
        .execute_async(&script, vec![])
        .await
        .expect("timing script")
        .as_f64()
        .expect("a number")
}

/// Benchmark, not a test: `cargo test -p vroom-system-tests --test browser
/// -- --ignored site_timings --nocapture`. Prints the time from navigation to
/// an interactive landing page and to a joined room.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark"]
async fn site_timings() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let mut landing = Vec::new();
    let mut joined = Vec::new();
    for round in 0..6 {
        a.goto(&app.url("/")).await;
        landing.push(ms_until(&a, "document.getElementById('quick-create')").await);
        let link = a.create_quick_room(&app, "Bench").await;
        b.goto(&link).await;
        b.click("#join-invite").await;
        joined.push(
            ms_until(
                &b,
                "(document.getElementById('conn')||{}).textContent === 'Connected' && \
                 document.querySelectorAll('#members li .code').length === 2 && \
                 [...document.querySelectorAll('#members li .code')].every(e => e.textContent)",
            )
            .await,
        );
        a.end_room().await;
        b.wait("#ended").await;
        eprintln!(
            "round {round}: landing {:.0} ms, joined {:.0} ms",
            landing[round], joined[round]
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "first load: landing {:.0} ms; median of the rest (warm cache): landing {:.0} ms, joined room {:.0} ms",
        landing[0],
        median(&mut landing[1..].to_vec()),
        median(&mut joined[1..].to_vec())
    );
    a.close().await;
    b.close().await;
}
