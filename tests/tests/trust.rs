//! Trust inside the room (issue 11), end to end in real headless Chromium
//! against the real host, two real relay nodes and the real Redis: room ids
//! bound to their keys (no squatting, no probing), faces people can tell
//! apart, text that cannot reorder a line, a tab that keeps its safety code
//! across reconnects, an invite that asks before it joins, and secrets that
//! leave with the room (storage, reopened tabs, the profile's history).
//!
//! The browser sees the site through a front that counts its requests to
//! the rooms API, and reaches the relay nodes through a round-robin front
//! that counts connections. Needs what `tests/browser.rs` needs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vroom_e2e::{Identity, RoomSecret, parse_invite_link};
use vroom_shared::relay::{ClientFrame, RelayFrame};
use vroom_shared::{RoomId, Ticket};
use vroom_system_tests::{Host, RelayNode, client, random_b64, repo_root};

/// One browser test at a time: two cores, several Chromiums each.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The page's reload window (`site/src/web/store.rs`) plus a margin.
const LATER_THAN_A_RELOAD: Duration = Duration::from_secs(12);

// ---------------------------------------------------------------------------
// Harness: a minimal copy of `tests/browser.rs`'s, until the browser harness
// lives in the tests library; plus the fronts that count.
// ---------------------------------------------------------------------------

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", random_b64(8)));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The repository's spin.toml with absolute component paths and `site/dist`.
fn manifest(dir: &Path) -> PathBuf {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
    let text = text
        .replace(
            "source = \"target/",
            &format!("source = \"{}/target/", root.display()),
        )
        .lines()
        .map(|line| {
            if line.starts_with("files = ") {
                format!(
                    "files = [{{ source = \"{}\", destination = \"/\" }}]",
                    root.join("site/dist").display()
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

/// The host behind a front that records what browsers ask it, two relay
/// nodes behind a round-robin front that records which node each
/// connection went to.
struct App {
    host: Host,
    /// `http://127.0.0.1:port` of the front: the site's origin for browsers.
    origin: String,
    nodes: Vec<RelayNode>,
    requests: Arc<Mutex<Vec<u8>>>,
    relay_connections: Arc<Mutex<Vec<usize>>>,
    _dir: TempDir,
}

impl App {
    async fn start() -> Self {
        assert!(
            repo_root().join("site/dist/index.html").exists(),
            "site/dist is missing: build the site with `cargo xtask test`"
        );
        let dir = TempDir::new("vroom-trust");
        let site_front = TcpListener::bind("127.0.0.1:0").await.expect("front");
        let origin = format!("http://{}", site_front.local_addr().expect("address"));
        let relay_front = TcpListener::bind("127.0.0.1:0").await.expect("front");
        let relay_url = format!("ws://{}/ws", relay_front.local_addr().expect("address"));
        let host = Host::start_with(
            &manifest(&dir.0),
            &[
                ("relay_url", relay_url.as_str()),
                ("rate_create_per_min", "100000"),
                ("rate_join_per_min", "100000"),
            ],
            &[],
        )
        .await;
        let args = [
            "--allowed-origin",
            origin.as_str(),
            "--creator-grace-ms",
            "2000",
            "--presence-interval-ms",
            "300",
            "--presence-stale-ms",
            "2000",
        ];
        let (one, two) = tokio::join!(
            RelayNode::start("trust-node-1", &args),
            RelayNode::start("trust-node-2", &args)
        );
        let nodes = vec![one, two];
        let backends: Vec<SocketAddr> = nodes.iter().map(|n| node_address(&n.url)).collect();
        let host_address = node_address(&host.base);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let relay_connections = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(recording_front(site_front, host_address, requests.clone()));
        tokio::spawn(round_robin(
            relay_front,
            backends,
            relay_connections.clone(),
        ));
        Self {
            host,
            origin,
            nodes,
            requests,
            relay_connections,
            _dir: dir,
        }
    }

    /// The site's URL for `path`, through the recording front.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Requests browsers sent to the rooms API so far.
    fn api_requests(&self) -> usize {
        let bytes = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        ["GET /api/", "POST /api/", "DELETE /api/", "PUT /api/"]
            .iter()
            .map(|line| count(&bytes, line.as_bytes()))
            .sum()
    }

    /// Connections browsers opened to the relay so far.
    fn relay_connections(&self) -> usize {
        self.relay_connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// The node the latest relay connection went to.
    fn latest_node(&self) -> usize {
        *self
            .relay_connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .expect("a relay connection")
    }

    /// Stops node `i` the way a deploy does (SIGTERM: its sockets close
    /// with 1012, its rooms live on).
    async fn stop_node(&self, i: usize) {
        let pid = self.nodes[i].pid().expect("node runs");
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .expect("kill");
        assert!(status.success());
    }
}

fn node_address(url: &str) -> SocketAddr {
    url.trim_start_matches("ws://")
        .trim_start_matches("http://")
        .trim_end_matches("/ws")
        .trim_end_matches('/')
        .parse()
        .expect("address")
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Copies bytes both ways between `a` and `b`; what comes from `a` is also
/// appended to `record`.
async fn pipe(a: TcpStream, b: TcpStream, record: Option<Arc<Mutex<Vec<u8>>>>) {
    let (mut ar, mut aw) = a.into_split();
    let (mut br, mut bw) = b.into_split();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = ar.read(&mut buf).await {
            if n == 0 || bw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            if let Some(record) = &record {
                record
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        }
        let _ = bw.shutdown().await;
    });
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = br.read(&mut buf).await {
        if n == 0 || aw.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = aw.shutdown().await;
    let _ = up.await;
}

/// Forwards every connection to `backend`, recording what clients send.
async fn recording_front(front: TcpListener, backend: SocketAddr, record: Arc<Mutex<Vec<u8>>>) {
    while let Ok((client, _)) = front.accept().await {
        let record = record.clone();
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(backend).await {
                pipe(client, server, Some(record)).await;
            }
        });
    }
}

/// Hands each connection to the next node in turn, noting which.
async fn round_robin(front: TcpListener, backends: Vec<SocketAddr>, log: Arc<Mutex<Vec<usize>>>) {
    let mut next = 0;
    while let Ok((client, _)) = front.accept().await {
        let node = next % backends.len();
        next += 1;
        log.lock().unwrap_or_else(|e| e.into_inner()).push(node);
        let backend = backends[node];
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(backend).await {
                pipe(client, server, None).await;
            }
        });
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

    /// A fresh headless Chromium with its own profile directory.
    async fn browser(&self) -> Browser {
        let profile = TempDir::new("vroom-chromium");
        let caps = json!({
            "browserName": "chrome",
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
        Browser { client, profile }
    }
}

struct Browser {
    client: Client,
    profile: TempDir,
}

impl Browser {
    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(40))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// Runs a script in the page and returns its value.
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("script runs")
    }

    /// Sets an input's value as typing would (any characters, invisible ones included).
    async fn fill(&self, css: &str, text: &str) {
        self.wait(css).await;
        self.js(
            "const el = document.querySelector(arguments[0]);
             el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(css), json!(text)],
        )
        .await;
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

    async fn say(&self, text: &str) {
        self.fill("#composer", text).await;
        self.click("#send").await;
    }

    /// Waits until the member list shows `n` verified members and returns their codes.
    async fn wait_members(&self, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let codes: Vec<String> = self
                .texts("#members li .code")
                .await
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect();
            if codes.len() == n && !self.exists("#members .joining").await {
                return codes;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "expected {n} verified members, saw {codes:?}"
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

    async fn session_storage_len(&self) -> u64 {
        self.js("return sessionStorage.length;", vec![])
            .await
            .as_u64()
            .expect("a number")
    }

    /// Creates a quick room under `name` and returns its invite link.
    async fn create_quick_room(&self, app: &App, name: &str) -> String {
        self.goto(&app.url("/")).await;
        self.fill("#display-name", name).await;
        self.click("#quick-create").await;
        self.wait_text("#conn", "Connected").await;
        self.value("#invite-link").await
    }

    /// Opens an invite link and accepts it under `name`.
    async fn join_by_link(&self, link: &str, name: &str) {
        self.goto(link).await;
        self.fill("#invite-name", name).await;
        self.click("#join-invite").await;
        self.wait_text("#conn", "Connected").await;
    }

    /// Ends the session; the profile directory stays until the returned
    /// handle drops. Waits until Chromium has exited (its profile lock is gone).
    async fn quit(self) -> TempDir {
        let _ = self.client.close().await;
        let lock = self.profile.0.join("SingletonLock");
        let started = Instant::now();
        while std::fs::symlink_metadata(&lock).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Chromium did not exit"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.profile
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// `(room id, join key)` in base64url of an invite link.
fn credentials(link: &str) -> (String, String) {
    let keys = parse_invite_link(link).expect("a v2 link").derive_keys();
    (
        keys.room_id().to_base64url(),
        keys.join_key_base64url().to_string(),
    )
}

/// Waits until `ready()` holds (checked every 100 ms), at most 40 s.
async fn eventually<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !ready().await {
        assert!(started.elapsed() < Duration::from_secs(40), "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// The browser (`vroom-e2e`) and the server (`vroom-shared`) bind room ids
/// to join keys the same way (`docs/PROTOCOL.md` §2.2), without either crate
/// depending on the other.
#[test]
fn the_page_and_the_server_derive_the_same_room_id() {
    assert_eq!(
        vroom_e2e::labels::ROOM_ID.as_slice(),
        vroom_shared::RoomId::JOIN_KEY_LABEL
    );
    for i in 0..64u8 {
        let secret = RoomSecret::from_bytes([i.wrapping_mul(37); 32]);
        let keys = secret.derive_keys();
        let join_key = vroom_shared::JoinKey::from_bytes(*keys.join_key());
        assert_eq!(
            keys.room_id().to_base64url(),
            RoomId::for_join_key(&join_key).to_base64(),
        );
        assert_eq!(
            vroom_e2e::RoomId::for_join_key(join_key.as_bytes()).as_bytes(),
            RoomId::for_join_key(&join_key).as_bytes()
        );
    }
}

/// `POST /api/rooms` with `body`; returns status and body.
async fn post(app: &App, path: &str, body: Value) -> (u16, String) {
    let response = client()
        .post(app.host.url(path))
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

#[tokio::test(flavor = "multi_thread")]
async fn named_rooms_cannot_be_squatted_or_probed() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let owner = driver.browser().await;
    let name = format!("trust squat {}", random_b64(6));
    let pass = "seven purple walruses juggle quietly";
    // Everything the squatter knows: the room id (from an address bar, a
    // history, a proxy log). Not the passphrase.
    let room_id = RoomSecret::from_name_and_passphrase(&name, pass)
        .expect("named room")
        .derive_keys()
        .room_id()
        .to_base64url();
    let unknown = post(
        &app,
        &format!("/api/rooms/{}/join", random_b64(16)),
        json!({ "join_key": random_b64(32) }),
    )
    .await;
    assert_eq!(unknown.0, 404);
    let squat = |mode: &'static str| {
        let body = json!({ "room_id": room_id, "join_key": random_b64(32), "mode": mode });
        let app = &app;
        async move { post(app, "/api/rooms", body).await }
    };
    // Squatting before the owners come: refused like an unknown room.
    assert_eq!(squat("create").await, unknown);
    assert_eq!(squat("create_or_join").await, unknown);

    // The owners create their room as if nobody had tried.
    owner.goto(&app.url("/")).await;
    owner.fill("#named-name", &name).await;
    owner.fill("#named-pass", pass).await;
    owner.click("#named-create").await;
    owner.wait_text("#conn", "Connected").await;
    owner.wait("#end-room").await;

    // Probing whether it is live tells nothing: the same 404 as before.
    assert_eq!(
        squat("create").await,
        unknown,
        "create probe of a live room"
    );
    let join = post(
        &app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": random_b64(32) }),
    )
    .await;
    assert_eq!(join, unknown, "join probe of a live room");

    // After it ends, the same name and passphrase create the same room again.
    owner.click("#end-room").await;
    owner.click("#confirm-yes").await;
    owner.wait("#ended").await;
    assert_eq!(squat("create").await, unknown);
    owner.goto(&app.url("/")).await;
    owner.fill("#named-name", &name).await;
    owner.fill("#named-pass", pass).await;
    owner.click("#named-create").await;
    owner.wait_text("#conn", "Connected").await;
    owner.wait("#end-room").await;
    owner.close().await;
}

/// The discriminator (`colour group`) each face on the page shows for a name.
async fn faces_named(x: &Browser, css: &str, name: &str) -> Vec<String> {
    x.js(
        "return [...document.querySelectorAll(arguments[0])]
            .filter(f => f.querySelector('.name').textContent === arguments[1])
            .map(f => f.querySelector('.disc').className + ' ' + f.querySelector('.disc').textContent
                      + (f.querySelector('.same-name') ? ' same-name' : ''));",
        vec![json!(css), json!(name)],
    )
    .await
    .as_array()
    .expect("a list")
    .iter()
    .map(|v| v.as_str().unwrap_or_default().to_owned())
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn members_with_the_same_name_are_told_apart_on_a_third_screen() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b, c, d) = (
        driver.browser().await,
        driver.browser().await,
        driver.browser().await,
        driver.browser().await,
    );
    let link = a.create_quick_room(&app, "Alice").await;
    b.join_by_link(&link, "Alice").await;
    c.join_by_link(&link, "Carol").await;
    // The invisible variant of the name is refused, with the reason.
    d.goto(&link).await;
    d.fill("#invite-name", "Alice\u{200b}").await;
    d.click("#join-invite").await;
    d.wait_text("#invite-error", "U+200B").await;
    assert!(!d.exists("#conn").await, "refused names do not join");

    c.wait_members(3).await;
    a.say("I am the first Alice").await;
    b.say("I am the other Alice").await;
    c.wait_text(".line.other .text", "the other Alice").await;
    c.wait_text(".line.other .text", "the first Alice").await;
    // On Carol's screen both Alices are marked, with different discriminators.
    let listed = faces_named(&c, "#members .face", "Alice").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_ne!(listed[0], listed[1], "two Alices look alike: {listed:?}");
    assert!(
        listed.iter().all(|f| f.ends_with("same-name")),
        "{listed:?}"
    );
    // Each message carries its author's discriminator, as the list shows it.
    let first = faces_named(&c, ".line.other .author .face", "Alice").await;
    assert_eq!(first.len(), 2, "{first:?}");
    assert_ne!(first[0], first[1]);
    for face in &first {
        assert!(
            listed.contains(face),
            "{face} is not in the list {listed:?}"
        );
    }
    // …and they are the ones Alice and Alice see for themselves.
    for x in [&a, &b] {
        let own = x
            .js(
                "const f = document.querySelector('#members li.me .face .disc');
                 return f.className + ' ' + f.textContent;",
                vec![],
            )
            .await;
        let own = own.as_str().expect("own discriminator");
        assert!(
            listed.iter().any(|f| f.starts_with(own)),
            "{own} vs {listed:?}"
        );
    }
    for x in [a, b, c, d] {
        x.close().await;
    }
}

/// Left edges of two characters inside the last element matching `css`.
async fn left_edges(x: &Browser, css: &str, first: &str, second: &str) -> (f64, f64) {
    let edges = x
        .js(
            "const all = document.querySelectorAll(arguments[0]);
             const el = all[all.length - 1];
             const left = (ch) => {
                 const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
                 for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                     const i = n.data.indexOf(ch);
                     if (i >= 0) {
                         const r = document.createRange();
                         r.setStart(n, i);
                         r.setEnd(n, i + ch.length);
                         return r.getBoundingClientRect().left;
                     }
                 }
                 return null;
             };
             return [left(arguments[1]), left(arguments[2])];",
            vec![json!(css), json!(first), json!(second)],
        )
        .await;
    let edge = |i: usize| edges[i].as_f64().expect("the character is shown");
    (edge(0), edge(1))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_to_left_override_cannot_reorder_a_line() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let link = a.create_quick_room(&app, "Alice").await;
    // A name with U+202E is refused before anything is sent.
    b.goto(&link).await;
    b.fill("#invite-name", "\u{202e}ecilA").await;
    b.click("#join-invite").await;
    b.wait_text("#invite-error", "U+202E").await;
    b.fill("#invite-name", "Bob").await;
    b.click("#join-invite").await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;

    // "report_" RLO "gpj.bat" would read "report_tab.jpg" if obeyed.
    a.say("report_\u{202e}gpj.bat").await;
    b.wait_text(".line.other .text", "report_").await;
    let (g, j) = left_edges(&b, ".line.other .text", "g", "j").await;
    assert!(
        g < j,
        "the override reordered the message: g at {g}, j at {j}"
    );
    b.wait_text(".line.other .text .bidi-mark", "U+202E").await;
    // The author, the text and the time keep their places.
    let order = b
        .js(
            "const all = document.querySelectorAll('.line.other');
             const line = all[all.length - 1];
             const top = (s) => line.querySelector(s).getBoundingClientRect().top;
             return [top('.author'), top('.text'), top('.at')];",
            vec![],
        )
        .await;
    let tops: Vec<f64> = order
        .as_array()
        .expect("three")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect();
    assert!(tops[0] < tops[1] && tops[1] < tops[2], "{tops:?}");
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_reconnect_keeps_the_code_and_a_real_key_change_is_announced() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let link = a.create_quick_room(&app, "Alice").await;
    b.join_by_link(&link, "Bob").await;
    a.wait_members(2).await;
    let bob = b.my_code().await;
    let bobs_node = app.latest_node();
    assert!(a.texts("#members li .code").await.contains(&bob));

    // The relay node Bob is on goes away: Bob's tab reconnects to the other.
    app.stop_node(bobs_node).await;
    b.wait_text(".line.system", "Connection lost").await;
    b.wait_text(
        ".line.system",
        "Reconnected. Your safety code is unchanged.",
    )
    .await;
    a.wait_text(".line.system", "is back, with the same safety code")
        .await;
    assert_eq!(b.my_code().await, bob, "Bob's own code changed");
    let codes = a.wait_members(2).await;
    assert!(codes.contains(&bob), "Alice sees {codes:?}, not {bob}");
    assert!(
        !a.texts(".line.system")
            .await
            .iter()
            .any(|t| t.contains("safety code changed")),
        "a reconnect was announced as a key change"
    );
    b.say("still me").await;
    a.wait_text(".line.other .text", "still me").await;

    // Bob's tab loses its keys but not its tab id (what someone who copied
    // the tab id would have): Alice is told to compare again.
    let stored: Value = serde_json::from_str(
        b.js("return sessionStorage.getItem('vroom.room');", vec![])
            .await
            .as_str()
            .expect("an entry"),
    )
    .expect("JSON");
    let old = Identity::from_base64url(stored["identity"].as_str().expect("identity"))
        .expect("a stored identity");
    let fresh = Identity::generate(&mut vroom_e2e::SystemRng::default());
    let swapped = Identity::new(fresh.keys().clone(), old.tab());
    b.js(
        "const e = JSON.parse(sessionStorage.getItem('vroom.room'));
         e.identity = arguments[0];
         sessionStorage.setItem('vroom.room', JSON.stringify(e));
         location.reload();",
        vec![json!(swapped.to_base64url().as_str())],
    )
    .await;
    b.wait_text("#conn", "Connected").await;
    let warning = "changed — compare again";
    a.wait_text(".line.system", warning).await;
    let lines = a.texts(".line.system").await;
    let line = lines
        .iter()
        .find(|l| l.contains(warning))
        .expect("the warning");
    assert!(
        line.starts_with("Warning: the safety code of Bob"),
        "{line}"
    );
    let new_code = b.my_code().await;
    assert_ne!(new_code, bob);
    a.wait_members(2).await;
    assert!(a.texts("#members li .code").await.contains(&new_code));
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_invite_screen_sends_nothing_before_join() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let link = a.create_quick_room(&app, "Alice").await;
    let (api, relay) = (app.api_requests(), app.relay_connections());
    assert!(api > 0 && relay > 0, "the fronts see the creator");

    b.goto(&link).await;
    b.wait("#invite-screen").await;
    // The secret and the room id left the address bar before anything rendered.
    let address = b.client.current_url().await.expect("url").to_string();
    assert_eq!(address, app.url("/r"));
    let offered = b.value("#invite-name").await;
    assert!(!offered.trim().is_empty(), "a random name is offered");
    // Give a page that would request something time to do it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.client.refresh().await.expect("reload");
    b.wait("#invite-screen").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.api_requests(), api, "the invite screen called the API");
    assert_eq!(
        app.relay_connections(),
        relay,
        "the invite screen opened the relay"
    );
    a.wait_members(1).await;

    b.click("#join-invite").await;
    b.wait_text("#conn", "Connected").await;
    assert!(app.api_requests() > api);
    assert!(app.relay_connections() > relay);
    a.wait_members(2).await;
    let names = a.texts("#members .face .name").await;
    assert!(names.contains(&offered), "{names:?} lacks {offered}");
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_room_the_tab_holds_nothing_and_a_reopened_tab_does_not_rejoin() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);

    // The creator closes the tab ("navigates away") and comes back later
    // than a reload: it does not rejoin, and never as creator.
    let link = a.create_quick_room(&app, "Alice").await;
    b.join_by_link(&link, "Bob").await;
    a.wait_members(2).await;
    assert!(a.session_storage_len().await > 0);
    a.goto("about:blank").await;
    b.wait_text("#ended", "This room has ended.").await;
    assert_eq!(
        b.session_storage_len().await,
        0,
        "the ended room left storage"
    );
    tokio::time::sleep(LATER_THAN_A_RELOAD).await;
    let api = app.api_requests();
    a.client.back().await.expect("back");
    a.wait("#reopened").await;
    assert_eq!(a.session_storage_len().await, 0);
    assert!(!a.exists("#end-room").await);
    assert_eq!(app.api_requests(), api, "the reopened tab called the API");

    // "End": both tabs hold nothing, and neither comes back to the room.
    let link = a.create_quick_room(&app, "Alice").await;
    b.join_by_link(&link, "Bob").await;
    a.wait_members(2).await;
    a.click("#end-room").await;
    a.click("#confirm-yes").await;
    for x in [&a, &b] {
        x.wait("#ended").await;
        assert_eq!(x.session_storage_len().await, 0, "End left storage");
        assert!(x.texts(".line").await.is_empty());
    }
    let api = app.api_requests();
    for x in [&a, &b] {
        x.goto("about:blank").await;
        x.client.back().await.expect("back");
        x.wait("#failed").await;
        assert!(!x.exists("#conn").await);
    }
    assert_eq!(
        app.api_requests(),
        api,
        "a tab of an ended room called the API"
    );
    a.close().await;
    b.close().await;
}

/// Every `History*` file of a Chromium profile, concatenated.
fn history_bytes(profile: &Path) -> Vec<u8> {
    let dir = profile.join("Default");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("a Default profile") {
        let entry = entry.expect("entry");
        if entry.file_name().to_string_lossy().starts_with("History") {
            out.extend(std::fs::read(entry.path()).expect("readable"));
        }
    }
    assert!(!out.is_empty(), "no History database in {}", dir.display());
    out
}

/// The distinct `http://…` URLs of `origin` in raw database bytes (for the
/// log: a URL may run into the next column's text).
fn urls_in(bytes: &[u8], origin: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut urls: Vec<String> = text
        .match_indices(origin)
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_graphic())
                .collect::<String>()
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_history_keeps_only_the_opened_invite_link() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let link = a.create_quick_room(&app, "Zebulon Quince").await;
    let (room_id, join_key) = credentials(&link);
    let secret = link.rsplit('#').next().expect("fragment").to_owned();
    b.join_by_link(&link, "Ysolde Marsh").await;
    a.wait_members(2).await;
    a.say("history must not keep this 7Q2").await;
    b.wait_text(".line.other .text", "7Q2").await;
    a.click("#end-room").await;
    a.click("#confirm-yes").await;
    b.wait("#ended").await;
    let (a_profile, b_profile) = (a.quit().await, b.quit().await);

    let never = [
        "Zebulon Quince",
        "Ysolde Marsh",
        "history must not keep this",
        join_key.as_str(),
    ];
    let creator = history_bytes(&a_profile.0);
    let invitee = history_bytes(&b_profile.0);
    // What remains, in plain words. The creator's history names no room and
    // holds no secret: the room page's address is `/r`.
    eprintln!("creator's history: {:?}", urls_in(&creator, &app.origin));
    for needle in never.iter().chain([&room_id.as_str(), &secret.as_str()]) {
        assert_eq!(
            count(&creator, needle.as_bytes()),
            0,
            "{needle:?} in the creator's history"
        );
    }
    assert!(count(&creator, app.url("/r").as_bytes()) > 0);
    // The invitee's history keeps the invite link it opened (a page cannot
    // remove it), and nothing else of the room: the room id appears only
    // as part of that link.
    eprintln!("invitee's history: {:?}", urls_in(&invitee, &app.origin));
    for needle in never {
        assert_eq!(
            count(&invitee, needle.as_bytes()),
            0,
            "{needle:?} in the invitee's history"
        );
    }
    let opened = count(&invitee, link.as_bytes());
    assert!(opened > 0, "the opened invite link is not in the history");
    assert_eq!(count(&invitee, room_id.as_bytes()), opened);
    // …which opens nothing now: its key is refused like any unknown room's.
    let (status, _) = post(
        &app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_the_relay_reports_must_verify_and_refusals_are_told_once() {
    let _serial = SERIAL.lock().await;
    let app = App::start().await;
    let driver = Driver::start().await;
    let a = driver.browser().await;
    let link = a.create_quick_room(&app, "Alice").await;
    a.wait_members(1).await;
    // Whoever holds a ticket (here: the test, playing a server that issues
    // one to itself) connects but never proves it holds the room key.
    let (room_id, join_key) = credentials(&link);
    let (status, body) = post(
        &app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    let ticket = Ticket::parse(reply["ticket"].as_str().expect("ticket")).expect("a ticket");
    let mut request = app.nodes[0]
        .url
        .as_str()
        .into_client_request()
        .expect("URL");
    request
        .headers_mut()
        .insert("origin", app.origin.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the relay accepts");
    let room = RoomId::parse(&room_id).expect("room id");
    ws.send(Message::binary(
        ClientFrame::Hello { room, ticket }.encode(),
    ))
    .await
    .expect("hello");
    let (mut me, mut alice) = (None, None);
    while me.is_none() || alice.is_none() {
        let frame = ws.next().await.expect("a frame").expect("a message");
        match RelayFrame::decode(&frame.into_data()) {
            Ok(RelayFrame::Welcome { member, .. }) => me = Some(member),
            Ok(RelayFrame::Joined { member }) => alice = Some(member),
            _ => {}
        }
    }
    let (me, alice) = (me.expect("id"), alice.expect("Alice"));
    a.wait("#members .joining").await;
    // Five announcements without a valid MAC: one line, not five.
    for _ in 0..5 {
        let mut fake = vec![2u8, 1];
        fake.extend_from_slice(&me.to_be_bytes());
        fake.resize(166, 0x5a);
        let frame = ClientFrame::Direct {
            to: alice,
            payload: &fake,
        };
        ws.send(Message::binary(frame.encode()))
            .await
            .expect("send");
    }
    let refused = "Someone without the room key tried to join and was refused.";
    a.wait_text(".line.system", refused).await;
    // It never verifies: its "Joining…" row goes, with a line saying so.
    a.wait_text(".line.system", "did not finish joining in time")
        .await;
    eventually("the Joining… row is gone", || async {
        !a.exists("#members .joining").await
    })
    .await;
    let lines = a.texts(".line.system").await;
    assert_eq!(
        lines.iter().filter(|l| l.contains(refused)).count(),
        1,
        "{lines:?}"
    );
    a.wait_members(1).await;
    drop(ws);
    a.close().await;
}
