//! Idle sockets: N members in rooms of 4, spread over the nodes, silent;
//! the nodes' resident memory before and after, per socket.
//!
//! A process may hold at most 20,000 file descriptors, so the sockets are
//! held by worker processes (`vroom-bench hold`), a few thousand each.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{Incoming, Member, System};
use crate::target::{Target, teardown};

/// Most sockets one worker holds.
pub const PER_WORKER: usize = 6_000;

/// Memory at one socket count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdlePoint {
    /// Sockets connected and joined.
    pub sockets: usize,
    /// Sockets that failed to join.
    pub errors: usize,
    /// Resident memory of all nodes before any socket, KiB.
    pub rss_before_kib: u64,
    /// Resident memory of all nodes with the sockets, KiB.
    pub rss_after_kib: u64,
    /// (after − before) ÷ sockets, bytes.
    pub bytes_per_socket: f64,
    /// Seconds it took to connect this point's new sockets.
    pub connect_secs: f64,
}

/// Flags of the worker (`vroom-bench hold`).
#[derive(clap::Args, Debug, Clone)]
pub struct HoldArgs {
    /// Which system.
    #[arg(long, value_enum)]
    pub system: System,
    /// Nodes, `ADDR=PID`.
    #[arg(long = "node", required = true)]
    pub nodes: Vec<String>,
    /// The rooms API (Vroom).
    #[arg(long)]
    pub api: Option<String>,
    /// Sockets to hold.
    #[arg(long)]
    pub sockets: usize,
    /// Members per room.
    #[arg(long, default_value_t = 4)]
    pub room_size: usize,
    /// Index of this worker (room names, source addresses).
    #[arg(long, default_value_t = 0)]
    pub worker: usize,
}

/// The worker: joins, prints `ready <ok> <errors>`, holds the sockets
/// (answering pings) until standard input closes, then leaves.
pub async fn hold(args: HoldArgs) -> Result<()> {
    crate::conn::SOURCE_OFFSET.store(args.worker + 1, Relaxed);
    let (nodes, pids) = Target::parse_nodes(&args.nodes)?;
    let target = Target {
        system: args.system,
        nodes,
        pids,
        api: args.api.as_deref().map(crate::tickets::Api::new),
    };
    let rooms = args.sockets.div_ceil(args.room_size);
    let first = args.worker * 1_000_000;
    let results: Vec<Result<(crate::target::Made, Vec<Member>)>> =
        futures_util::stream::iter(0..rooms)
            .map(|i| {
                let size = args.room_size.min(args.sockets - i * args.room_size);
                let target = &target;
                async move { target.room_of(first + i, size).await }
            })
            .buffer_unordered(32)
            .collect()
            .await;
    let mut errors = 0usize;
    let mut held = Vec::new();
    for result in results {
        match result {
            Ok((_, members)) => held.push(members),
            Err(_) => errors += 1,
        }
    }
    let ok: usize = held.iter().map(Vec::len).sum();
    let lost = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let (stop_tx, _) = tokio::sync::watch::channel(false);
    for room in held {
        let mut room_tasks = Vec::new();
        for member in room {
            room_tasks.push(tokio::spawn(idle_member(
                member,
                stop_tx.subscribe(),
                lost.clone(),
            )));
        }
        tasks.push(room_tasks);
    }
    println!("ready {ok} {}", errors * args.room_size);
    std::io::stdout().flush()?;
    // Standard input closing is the signal to leave.
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
    })
    .await;
    let _ = stop_tx.send(true);
    let mut rooms = Vec::new();
    for room_tasks in tasks {
        let mut members = Vec::new();
        for task in room_tasks {
            if let Ok(Some(member)) = task.await {
                members.push(member);
            }
        }
        rooms.push(members);
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), teardown(rooms, 256)).await;
    Ok(())
}

async fn idle_member(
    mut member: Member,
    mut stop: tokio::sync::watch::Receiver<bool>,
    lost: Arc<AtomicU64>,
) -> Option<Member> {
    let system = member.system;
    loop {
        tokio::select! {
            _ = stop.changed() => return Some(member),
            message = member.ws.next() => {
                let Some(Ok(message)) = message else {
                    lost.fetch_add(1, Relaxed);
                    return None;
                };
                match Member::classify(system, &message) {
                    Incoming::EnginePing => {
                        let _ = member.ws.send(Message::text("3")).await;
                    }
                    Incoming::Closed => {
                        lost.fetch_add(1, Relaxed);
                        return None;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A running worker.
struct Worker {
    child: Child,
}

impl Worker {
    fn start(target_args: &[String], sockets: usize, index: usize) -> Result<(Self, usize, usize)> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg("hold")
            .args(target_args)
            .args(["--sockets", &sockets.to_string()])
            .args(["--worker", &index.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start a hold worker")?;
        let stdout = child.stdout.take().context("worker stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let mut words = line.split_whitespace();
        if words.next() != Some("ready") {
            let _ = child.kill();
            bail!("worker {index} failed: {line:?}");
        }
        let ok = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let errors = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        Ok((Self { child }, ok, errors))
    }

    /// Closes standard input: the worker leaves and exits.
    fn release(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Waits for the worker to exit (killing it after 90 s).
    fn wait(mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects up to each count in `counts` (cumulative) and measures the
/// nodes' memory at each. `target_args` are the worker's target flags.
pub async fn idle(
    target: &Target,
    target_args: Vec<String>,
    counts: &[usize],
    log: &dyn Fn(&IdlePoint),
) -> Result<Vec<IdlePoint>> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = target.rss_kib();
    let mut workers = Vec::new();
    let mut points = Vec::new();
    let mut held = 0usize;
    let mut errors = 0usize;
    let result: Result<()> = async {
        for &count in counts {
            let started = Instant::now();
            let mut want = count.saturating_sub(held + errors);
            while want > 0 {
                let n = want.min(PER_WORKER);
                let args = target_args.clone();
                let index = workers.len();
                let (worker, ok, failed) =
                    tokio::task::spawn_blocking(move || Worker::start(&args, n, index)).await??;
                workers.push(worker);
                held += ok;
                errors += failed;
                want -= n;
            }
            let connect_secs = started.elapsed().as_secs_f64();
            // Let joined/presence traffic settle.
            tokio::time::sleep(Duration::from_secs(3)).await;
            let after = target.rss_kib();
            let point = IdlePoint {
                sockets: held,
                errors,
                rss_before_kib: before,
                rss_after_kib: after,
                bytes_per_socket: after.saturating_sub(before) as f64 * 1024.0 / held.max(1) as f64,
                connect_secs,
            };
            log(&point);
            points.push(point);
        }
        Ok(())
    }
    .await;
    tokio::task::spawn_blocking(move || {
        for worker in &mut workers {
            worker.release();
        }
        for worker in workers {
            worker.wait();
        }
    })
    .await?;
    result.map(|()| points)
}
