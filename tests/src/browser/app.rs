//! The app under test: the host serving a site folder behind a front that
//! records what browsers ask it, and two relay nodes behind a round-robin
//! front that records every byte it carries.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Host, RelayNode, TempDir, repo_root};

/// The host behind a recording front (the site's origin for browsers), two
/// relay nodes behind a round-robin front (so consecutive sockets land on
/// different nodes), and what the fronts saw. Stopped when dropped.
pub struct App {
    _host: Host,
    origin: String,
    nodes: tokio::sync::Mutex<Vec<RelayNode>>,
    node_args: Vec<String>,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    requests: Arc<Mutex<Vec<u8>>>,
    relay_log: Arc<Mutex<Vec<usize>>>,
    capture: Arc<Mutex<Vec<u8>>>,
    _dir: TempDir,
}

impl App {
    /// The app serving `site/dist`.
    pub async fn start() -> Self {
        Self::start_serving(&super::dist(), &[]).await
    }

    /// The app serving the site in `files`, relays started with extra flags.
    pub async fn start_serving(files: &Path, relay_args: &[&str]) -> Self {
        assert!(
            files.join("index.html").exists(),
            "{} is missing: build the site with `cargo xtask test`",
            files.display()
        );
        let dir = TempDir::new("vroom-app");
        let site_front = TcpListener::bind("127.0.0.1:0").await.expect("front");
        let origin = format!("http://{}", site_front.local_addr().expect("address"));
        let front = TcpListener::bind("127.0.0.1:0").await.expect("front");
        let front_addr = front.local_addr().expect("front address");
        let relay_url = format!("ws://{front_addr}/ws");
        let manifest = manifest_serving(files, dir.path());
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
            origin.as_str(),
            "--creator-grace-ms",
            "2000",
            "--presence-interval-ms",
            "300",
            "--presence-stale-ms",
            "2000",
        ];
        args.extend_from_slice(relay_args);
        let (one, two) = tokio::join!(
            RelayNode::start("browser-node-1", &args),
            RelayNode::start("browser-node-2", &args)
        );
        let nodes = vec![one, two];
        let backends = Arc::new(Mutex::new(
            nodes.iter().map(|n| address(&n.url)).collect::<Vec<_>>(),
        ));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let relay_log = Arc::new(Mutex::new(Vec::new()));
        let capture = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(recording_front(
            site_front,
            address(&host.base),
            requests.clone(),
        ));
        tokio::spawn(round_robin(
            front,
            backends.clone(),
            relay_log.clone(),
            capture.clone(),
        ));
        let node_args = args.iter().map(|a| (*a).to_owned()).collect();
        Self {
            _host: host,
            origin,
            nodes: tokio::sync::Mutex::new(nodes),
            node_args,
            backends,
            requests,
            relay_log,
            capture,
            _dir: dir,
        }
    }

    /// The site's URL for `path`, through the recording front.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The site's origin, `http://127.0.0.1:port`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Requests browsers have sent to the rooms API (`/api/…`) so far.
    pub fn api_requests(&self) -> usize {
        let bytes = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        ["GET", "POST", "PUT", "DELETE"]
            .iter()
            .map(|method| {
                let line = format!("{method} /api/");
                bytes
                    .windows(line.len())
                    .filter(|w| *w == line.as_bytes())
                    .count()
            })
            .sum()
    }

    /// The relay node (0 or 1) each connection through the relay front went
    /// to, in order.
    pub fn relay_connections(&self) -> Vec<usize> {
        self.relay_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The URL of relay node `i` itself (not through the front).
    pub async fn node_url(&self, i: usize) -> String {
        self.nodes.lock().await[i].url.clone()
    }

    /// Stops relay node `i` as a deploy does (SIGTERM: its sockets close
    /// with 1012, its rooms live on) and starts it again; the front sends
    /// its share of new connections to the new process.
    pub async fn restart_node(&self, i: usize) {
        let mut nodes = self.nodes.lock().await;
        let args: Vec<&str> = self.node_args.iter().map(String::as_str).collect();
        let id = format!("browser-node-{}", i + 1);
        let fresh = RelayNode::start(&id, &args).await;
        self.backends.lock().unwrap_or_else(|e| e.into_inner())[i] = address(&fresh.url);
        let old = std::mem::replace(&mut nodes[i], fresh);
        assert!(old.terminate().await, "relay node {i} did not stop cleanly");
    }

    /// Every byte the front carried so far, both directions, client frames
    /// also unmasked (what an observer of the relay's traffic could read).
    pub fn captured(&self) -> Vec<u8> {
        self.capture
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
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

/// `127.0.0.1:port` of `ws://127.0.0.1:port/ws` or `http://127.0.0.1:port`.
fn address(url: &str) -> SocketAddr {
    url.trim_start_matches("ws://")
        .trim_start_matches("http://")
        .trim_end_matches("/ws")
        .parse()
        .expect("a listening address")
}

/// Copies bytes both ways between `client` and `server` until both sides
/// close; hands each piece the client sends to `sent` as it passes, and
/// returns everything the server sent.
async fn carry(
    client: TcpStream,
    server: TcpStream,
    mut sent: impl FnMut(&[u8]) + Send + 'static,
) -> Vec<u8> {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            sent(&buf[..n]);
        }
        let _ = sw.shutdown().await;
    });
    let mut received = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = sr.read(&mut buf).await {
        if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    let _ = cw.shutdown().await;
    let _ = up.await;
    received
}

/// Forwards every connection to `backend`, recording what clients send as it passes.
async fn recording_front(front: TcpListener, backend: SocketAddr, record: Arc<Mutex<Vec<u8>>>) {
    while let Ok((client, _)) = front.accept().await {
        let record = record.clone();
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(backend).await {
                carry(client, server, move |bytes| {
                    record
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(bytes)
                })
                .await;
            }
        });
    }
}

/// Hands each connection to the next node in turn, noting which in `log`
/// and recording every byte (client frames also unmasked) in `capture`
/// when the connection ends.
async fn round_robin(
    front: TcpListener,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    log: Arc<Mutex<Vec<usize>>>,
    capture: Arc<Mutex<Vec<u8>>>,
) {
    let mut next = 0;
    while let Ok((client, _)) = front.accept().await {
        let backend = {
            let backends = backends.lock().unwrap_or_else(|e| e.into_inner());
            let node = next % backends.len();
            log.lock().unwrap_or_else(|e| e.into_inner()).push(node);
            backends[node]
        };
        next += 1;
        let capture = capture.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(backend).await else {
                return;
            };
            let up = Arc::new(Mutex::new(Vec::new()));
            let sent = up.clone();
            let down = carry(client, server, move |bytes| {
                sent.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(bytes)
            })
            .await;
            let up = std::mem::take(&mut *up.lock().unwrap_or_else(|e| e.into_inner()));
            let mut c = capture.lock().unwrap_or_else(|e| e.into_inner());
            c.extend_from_slice(&up);
            c.extend(unmasked_frames(&up));
            c.extend_from_slice(&down);
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
