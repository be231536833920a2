//! A local relay fleet that behaves like a deployed one: `edge-ws-bridge`
//! nodes behind a round-robin TCP front standing in for the load balancer
//! (consecutive clients land on different nodes; a node that is down or
//! fails its `/healthz` check is skipped, as a load balancer's health check
//! would: a new node gets clients once it passed one, and with no node
//! passing the front tries them all), and a supervisor standing in for the
//! orchestrator (a node that exits is reported and started again after
//! [`RESTART_DELAY`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cmd::target_dir;

/// How long a dead node stays down before it is started again.
pub const RESTART_DELAY: Duration = Duration::from_secs(2);
/// How often the supervisor looks at the node processes.
const SUPERVISE_EVERY: Duration = Duration::from_millis(200);
/// How often each node's `/healthz` is checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Connect and read deadline of a health check or of the front's connection
/// to a node.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Running relay nodes, the front that spreads connections over them, and
/// the threads that keep them going. Stops everything on drop.
pub struct Fleet {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// The front's address: what `relay_url` points at.
    pub front: SocketAddr,
}

/// What the front, the health checker and the supervisor share.
struct Shared {
    redis_url: String,
    origins: Vec<String>,
    nodes: Mutex<Vec<Node>>,
    stopping: AtomicBool,
}

/// One node's slot: its process while it runs, where it listens, and
/// whether it passed its last health check.
struct Node {
    name: String,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    healthy: bool,
    /// When it was found dead (it is started again [`RESTART_DELAY`] later).
    down_since: Option<Instant>,
}

/// A node as [`Fleet::nodes`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// `node-<n>`.
    pub name: String,
    /// Its process while it runs.
    pub pid: Option<u32>,
    /// Whether it passed its last health check.
    pub healthy: bool,
}

impl Fleet {
    /// Starts `count` nodes on free ports against `redis_url`, accepting
    /// WebSocket connections from `origins`, a front on `front`, the health
    /// checker and the supervisor.
    pub fn start(count: usize, redis_url: &str, origins: &[String], front: &str) -> Result<Self> {
        let listener =
            TcpListener::bind(front).with_context(|| format!("cannot listen on {front}"))?;
        let shared = Arc::new(Shared {
            redis_url: redis_url.to_string(),
            origins: origins.to_vec(),
            nodes: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        for index in 1..=count {
            let name = format!("node-{index}");
            let (child, addr) = shared.spawn(&name)?;
            shared.lock().push(Node {
                name,
                child: Some(child),
                addr: Some(addr),
                healthy: false,
                down_since: None,
            });
        }
        let front_addr = listener.local_addr()?;
        let threads = vec![
            spawn_thread("relay front", {
                let shared = shared.clone();
                move || round_robin(listener, &shared)
            })?,
            spawn_thread("relay health checks", {
                let shared = shared.clone();
                move || check_health(&shared)
            })?,
            spawn_thread("relay supervisor", {
                let shared = shared.clone();
                move || supervise(&shared)
            })?,
        ];
        Ok(Self {
            shared,
            threads,
            front: front_addr,
        })
    }

    /// Every node's process and health, in order.
    pub fn nodes(&self) -> Vec<NodeStatus> {
        self.shared
            .lock()
            .iter()
            .map(|node| NodeStatus {
                name: node.name.clone(),
                pid: node.child.as_ref().map(Child::id),
                healthy: node.healthy,
            })
            .collect()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The front blocks in accept: wake it with a connection of its own.
        let _ = TcpStream::connect_timeout(&self.front, PROBE_TIMEOUT);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        let mut nodes = self.shared.lock();
        for node in nodes.iter_mut() {
            if let Some(child) = &mut node.child {
                crate::terminate(child);
            }
        }
    }
}

fn spawn_thread(name: &str, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .with_context(|| format!("cannot start the {name} thread"))
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<Node>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts node `name` on a free port; returns it once it listens.
    fn spawn(&self, name: &str) -> Result<(Child, SocketAddr)> {
        let mut command = Command::new(target_dir().join("release/edge-ws-bridge"));
        command
            .args(["--listen", "127.0.0.1:0", "--redis-url", &self.redis_url])
            .args(["--node-id", name])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped());
        for origin in &self.origins {
            command.args(["--allowed-origin", origin]);
        }
        let mut child = command.spawn().context("cannot start edge-ws-bridge")?;
        match read_listen_addrs(&mut child) {
            Ok((addr, metrics)) => {
                eprintln!(
                    "    relay {name} (pid {}) on ws://{addr}/ws, metrics on http://{metrics}/metrics",
                    child.id()
                );
                Ok((child, addr))
            }
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(err.context(format!("relay {name} did not start")))
            }
        }
    }

    /// The nodes to try for the `turn`-th connection, starting with the
    /// next in turn: the healthy ones, or every running one while none is
    /// (failing open, as load balancers do).
    fn candidates(&self, turn: usize) -> Vec<SocketAddr> {
        let nodes = self.lock();
        let count = nodes.len().max(1);
        let in_turn = || (0..nodes.len()).map(|offset| &nodes[(turn + offset) % count]);
        let healthy: Vec<SocketAddr> = in_turn()
            .filter(|node| node.healthy)
            .filter_map(|node| node.addr)
            .collect();
        if healthy.is_empty() {
            in_turn().filter_map(|node| node.addr).collect()
        } else {
            healthy
        }
    }

    /// Records a health check or a failed connection; says so when a node
    /// that had passed one fails.
    fn set_health(&self, addr: SocketAddr, healthy: bool) {
        let mut nodes = self.lock();
        if let Some(node) = nodes.iter_mut().find(|node| node.addr == Some(addr))
            && node.healthy != healthy
        {
            node.healthy = healthy;
            if !healthy {
                eprintln!(
                    "    relay {} fails its health check: the front skips it",
                    node.name
                );
            }
        }
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

/// Hands each accepted connection to the next healthy node in turn; a node
/// that refuses the connection is marked unhealthy and the next one tried,
/// so a client never lands on a dead node.
fn round_robin(listener: TcpListener, shared: &Arc<Shared>) {
    let next = AtomicUsize::new(0);
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let turn = next.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        std::thread::spawn(move || {
            for backend in shared.candidates(turn) {
                match TcpStream::connect_timeout(&backend, PROBE_TIMEOUT) {
                    Ok(server) => return splice(client, server),
                    Err(_) => shared.set_health(backend, false),
                }
            }
            // No node is up: the client sees the connection close and
            // retries, as behind a real load balancer with no backend.
        });
    }
}

/// Checks every running node's `GET /healthz` each [`CHECK_EVERY`].
fn check_health(shared: &Shared) {
    while !shared.stopping.load(Ordering::SeqCst) {
        let addrs: Vec<SocketAddr> = shared.lock().iter().filter_map(|node| node.addr).collect();
        for addr in addrs {
            shared.set_health(addr, passes_health_check(addr));
        }
        std::thread::sleep(CHECK_EVERY);
    }
}

/// Whether `GET /healthz` on `addr` answers 200 (503 while the node's Redis
/// link is down or it is draining).
fn passes_health_check(addr: SocketAddr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
        stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    probe().unwrap_or(false)
}

/// Notices nodes that exited, says so, and starts each again
/// [`RESTART_DELAY`] after it died.
fn supervise(shared: &Shared) {
    while !shared.stopping.load(Ordering::SeqCst) {
        let mut due = Vec::new();
        for (index, node) in shared.lock().iter_mut().enumerate() {
            if let Some(child) = &mut node.child
                && let Ok(Some(status)) = child.try_wait()
            {
                eprintln!(
                    "    relay {} (pid {}) exited ({status}): the front skips it; starting it again in {} s",
                    node.name,
                    child.id(),
                    RESTART_DELAY.as_secs()
                );
                node.child = None;
                node.addr = None;
                node.healthy = false;
                node.down_since = Some(Instant::now());
            }
            if node
                .down_since
                .is_some_and(|since| since.elapsed() >= RESTART_DELAY)
            {
                due.push((index, node.name.clone()));
            }
        }
        // Started outside the lock: a node takes a moment to reach Redis.
        for (index, name) in due {
            let started = shared.spawn(&name);
            let mut nodes = shared.lock();
            let node = &mut nodes[index];
            match started {
                Ok((child, addr)) => {
                    node.child = Some(child);
                    node.addr = Some(addr);
                    node.down_since = None;
                    eprintln!(
                        "    relay {name} is back: the front sends it clients once it passes a health check"
                    );
                }
                Err(err) => {
                    eprintln!("    {err:#}; trying again in {} s", RESTART_DELAY.as_secs());
                    node.down_since = Some(Instant::now());
                }
            }
        }
        std::thread::sleep(SUPERVISE_EVERY);
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

#[cfg(test)]
mod tests {
    //! The fleet with real relay processes (`target/release/edge-ws-bridge`,
    //! built by `cargo xtask test`) against the Redis of `REDIS_URL`.

    use super::*;

    /// `GET /healthz` through the front: which node answers is the front's
    /// choice, and a connection that reaches no node fails.
    fn healthz_through(front: SocketAddr) -> bool {
        passes_health_check(front)
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "{what} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[test]
    fn a_killed_node_is_skipped_by_the_front_and_started_again() {
        let binary = target_dir().join("release/edge-ws-bridge");
        assert!(
            binary.exists(),
            "{} is missing: run the tests with `cargo xtask test`",
            binary.display()
        );
        let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let fleet = Fleet::start(
            2,
            &redis,
            &["http://127.0.0.1:9".to_string()],
            "127.0.0.1:0",
        )
        .expect("the fleet starts");
        wait_for("both nodes pass a health check", || {
            fleet.nodes().iter().all(|node| node.healthy)
        });
        let before = fleet.nodes();
        for _ in 0..4 {
            assert!(healthz_through(fleet.front));
        }

        // Kill node-2 the hard way, as a crash would, and wait until its
        // port refuses connections.
        let victim = before[1].pid.expect("node-2 runs");
        let victim_addr = fleet.shared.lock()[1].addr.expect("node-2 listens");
        let killed = Command::new("kill")
            .args(["-KILL", &victim.to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        wait_for("node-2's port refuses connections", || {
            TcpStream::connect_timeout(&victim_addr, PROBE_TIMEOUT).is_err()
        });

        // Every new connection still reaches a node: the front skips the
        // dead one, whether or not the supervisor noticed yet.
        for _ in 0..6 {
            assert!(healthz_through(fleet.front), "{:?}", fleet.nodes());
        }
        wait_for("node-2 is found dead", || {
            fleet.nodes()[1].pid != Some(victim)
        });
        for _ in 0..4 {
            assert!(healthz_through(fleet.front), "{:?}", fleet.nodes());
        }

        // The supervisor starts it again, and it passes its health check;
        // node-1 ran throughout.
        wait_for("node-2 is started again and passes a health check", || {
            let node = &fleet.nodes()[1];
            node.pid.is_some_and(|pid| pid != victim) && node.healthy
        });
        assert_eq!(fleet.nodes()[0].pid, before[0].pid);
        for _ in 0..4 {
            assert!(healthz_through(fleet.front), "{:?}", fleet.nodes());
        }
    }
}
