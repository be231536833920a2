//! A local relay fleet: `edge-ws-bridge` nodes behind a round-robin TCP
//! front, standing in for the load balancer of a real deployment, so
//! consecutive clients land on different nodes.

use std::io::{BufRead, BufReader};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

use crate::cmd::target_dir;

/// Running relay nodes and the front that spreads connections over them.
pub struct Fleet {
    /// The node processes.
    pub nodes: Vec<Child>,
    /// The front's address: what `relay_url` points at.
    pub front: SocketAddr,
}

impl Fleet {
    /// Starts `count` nodes on free ports against `redis_url`, accepting
    /// WebSocket connections from `origins`, and a front on `front`.
    pub fn start(count: usize, redis_url: &str, origins: &[String], front: &str) -> Result<Self> {
        let listener =
            TcpListener::bind(front).with_context(|| format!("cannot listen on {front}"))?;
        let mut nodes = Vec::new();
        let mut node_addrs = Vec::new();
        for index in 1..=count {
            let mut command = Command::new(target_dir().join("release/edge-ws-bridge"));
            command
                .args(["--listen", "127.0.0.1:0", "--redis-url", redis_url])
                .args(["--node-id", &format!("node-{index}")])
                .args(["--metrics-listen", "127.0.0.1:0"])
                .stdout(Stdio::piped());
            for origin in origins {
                command.args(["--allowed-origin", origin]);
            }
            let mut child = command.spawn().context("cannot start edge-ws-bridge")?;
            let (addr, metrics) = read_listen_addrs(&mut child)?;
            eprintln!(
                "    relay node-{index} on ws://{addr}/ws, metrics on http://{metrics}/metrics"
            );
            nodes.push(child);
            node_addrs.push(addr);
        }
        let front_addr = listener.local_addr()?;
        let backends = Arc::new(node_addrs.clone());
        std::thread::spawn(move || round_robin(listener, backends));
        Ok(Self {
            nodes,
            front: front_addr,
        })
    }
}

/// Reads a node's first two stdout lines, `Listening on ws://ADDR/ws` and
/// `Metrics on http://ADDR/metrics`, and keeps draining its stdout.
pub fn read_listen_addrs(child: &mut Child) -> Result<(SocketAddr, SocketAddr)> {
    let stdout = child.stdout.take().context("relay stdout is not piped")?;
    let mut reader = BufReader::new(stdout);
    let mut line = |prefix: &str, suffix: &str| -> Result<SocketAddr> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let Some(addr) = line
            .trim()
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
        else {
            bail!("unexpected line from edge-ws-bridge: {line:?}");
        };
        Ok(addr.parse()?)
    };
    let ws = line("Listening on ws://", "/ws")?;
    let metrics = line("Metrics on http://", "/metrics")?;
    // Keep the pipe open (and drained) for as long as the node runs.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok((ws, metrics))
}

/// Hands each accepted connection to the next node in turn.
fn round_robin(listener: TcpListener, backends: Arc<Vec<SocketAddr>>) {
    let next = AtomicUsize::new(0);
    for client in listener.incoming().flatten() {
        let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
        std::thread::spawn(move || {
            if let Ok(server) = TcpStream::connect(backend) {
                splice(client, server);
            }
        });
    }
}

/// Copies bytes both ways until either side closes.
fn splice(client: TcpStream, server: TcpStream) {
    let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || pipe(client_reader, server));
    pipe(server_reader, client);
    let _ = upstream.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
