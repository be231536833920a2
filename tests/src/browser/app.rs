//! The app under test: the host serving a site folder, two relay nodes, and
//! a round-robin front in between that records every byte it carries.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Host, RelayNode, TempDir, repo_root};

/// The host, two relay nodes behind a round-robin front (so consecutive
/// sockets land on different nodes), and what the front saw. Stopped when
/// dropped.
pub struct App {
    host: Host,
    _nodes: Vec<RelayNode>,
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
            host.base.as_str(),
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
        let capture = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(round_robin(front, backends, capture.clone()));
        Self {
            host,
            _nodes: nodes,
            capture,
            _dir: dir,
        }
    }

    /// The site's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        self.host.url(path)
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

/// Hands each connection to the next node in turn, recording every byte.
async fn round_robin(front: TcpListener, backends: Vec<SocketAddr>, capture: Arc<Mutex<Vec<u8>>>) {
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
                c.extend_from_slice(&all);
                c.extend(unmasked_frames(&all));
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
