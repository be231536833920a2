//! Load generator for the relay (a benchmark, not a test). Starts its own
//! relay nodes (the release binary next to this example), makes rooms with
//! the shared scripts in Redis as the rooms API does, and measures:
//!
//! - `throughput`: rooms of `--room-size` members spread over the nodes,
//!   every member broadcasting `--rate` frames/s of `--payload` bytes;
//!   reports frames delivered per second, latency p50/p99/max, and CPU
//!   seconds used by the relays and by Redis. With `--chunks` the frames
//!   are file chunks (the chunk lane, 16,431-byte payloads), and it also
//!   reports MiB/s and Redis CPU per MiB.
//! - `idle`: `--sockets` joined, silent sockets on one node; reports the
//!   node's resident memory per socket.
//!
//! ```text
//! cargo build --release -p edge-ws-bridge --bins --examples
//! target/release/examples/relay_bench throughput --rooms 50 --rate 10
//! target/release/examples/relay_bench idle --sockets 10000
//! ```

use clap::{Parser, Subcommand};
use futures_util::{SinkExt as _, StreamExt as _};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use vroom_shared::redis::scripts::{CREATE_ROOM, END_ROOM, JOIN_ROOM};
use vroom_shared::redis::{
    TICKET_TTL_SECS, TICKETS_PER_SEAT, channel, presence_key, room_key, ticket_key, tickets_key,
};
use vroom_shared::relay::{ClientFrame, MAX_CHUNK_PAYLOAD, RelayFrame};
use vroom_shared::{CreatorToken, JoinKey, RoomId, Ticket};

#[derive(Parser)]
struct Args {
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// The relay binary (default: `edge-ws-bridge` next to `examples/`).
    #[arg(long)]
    relay_bin: Option<std::path::PathBuf>,
    /// Extra flag for every relay node (repeat), e.g. `--relay-arg=--read-buffer=1024`.
    #[arg(long = "relay-arg", allow_hyphen_values = true)]
    relay_args: Vec<String>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Frames per second and latency across nodes.
    Throughput {
        #[arg(long, default_value_t = 2)]
        nodes: usize,
        #[arg(long, default_value_t = 50)]
        rooms: usize,
        #[arg(long, default_value_t = 8)]
        room_size: usize,
        /// Broadcasts per second per member.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Payload bytes per frame (354: the smallest E2E message).
        #[arg(long, default_value_t = 354)]
        payload: usize,
        #[arg(long, default_value_t = 10)]
        secs: u64,
        /// Send file-chunk frames (16,431-byte payloads, `--payload` is
        /// ignored) instead of broadcasts.
        #[arg(long)]
        chunks: bool,
    },
    /// Resident memory per idle socket.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        sockets: usize,
        #[arg(long, default_value_t = 8)]
        room_size: usize,
    },
}

struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(bin: &std::path::Path, redis_url: &str, i: usize, extra: &[String]) -> Node {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--redis-url", redis_url])
        .args(["--node-id", &format!("bench-{i}")])
        .args(["--metrics-listen", "127.0.0.1:0", "--allow-any-origin"])
        .args(["--rate-per-sec", "100000", "--rate-burst", "100000"])
        .args(["--room-publish-bytes-per-sec", "1000000000000"])
        .args(["--room-publish-burst-bytes", "1000000000000"])
        .args([
            "--max-connections",
            "19500",
            "--max-connections-per-addr",
            "19500",
        ])
        .args(extra)
        .env("RELAY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay (build it with --release first)");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // The node writes a second line (its metrics address): read it before
    // the pipe closes, or that write fails and the node exits.
    stdout.read_line(&mut String::new()).unwrap();
    let addr = line
        .trim()
        .trim_start_matches("Listening on ws://")
        .trim_end_matches("/ws")
        .parse()
        .unwrap();
    Node { child, addr }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0; N];
    getrandom::fill(&mut b).unwrap();
    b
}

/// The rooms API's default claim deadline (`room_claim_secs`).
const CLAIM_SECS: u32 = 60;

/// Makes a room and `size` tickets (the first a creator ticket).
async fn room_with_tickets(
    r: &mut redis::aio::MultiplexedConnection,
    size: usize,
) -> (RoomId, CreatorToken, Vec<Ticket>) {
    let id = RoomId::from_bytes(random());
    let join_key = JoinKey::from_bytes(random());
    let creator = CreatorToken::from_bytes(random());
    let first = Ticket::from_bytes(random());
    let _: Vec<i64> = redis::Script::new(CREATE_ROOM)
        .key(room_key(&id))
        .key(presence_key(&id))
        .key(tickets_key(&id))
        .key(ticket_key(&id, &first))
        .arg(join_key.sha256_hex())
        .arg(creator.sha256_hex())
        .arg(3600)
        .arg(3600)
        .arg(size)
        .arg("create")
        .arg(TICKET_TTL_SECS)
        .arg(TICKETS_PER_SEAT)
        .arg(CLAIM_SECS)
        .invoke_async(r)
        .await
        .unwrap();
    let mut tickets = vec![first];
    for _ in 1..size {
        let t = Ticket::from_bytes(random());
        let _: Vec<i64> = redis::Script::new(JOIN_ROOM)
            .key(room_key(&id))
            .key(presence_key(&id))
            .key(tickets_key(&id))
            .key(ticket_key(&id, &t))
            .arg(join_key.sha256_hex())
            .arg("")
            .arg(TICKET_TTL_SECS)
            .arg(TICKETS_PER_SEAT)
            .invoke_async(r)
            .await
            .unwrap();
        tickets.push(t);
    }
    (id, creator, tickets)
}

async fn end_room(r: &mut redis::aio::MultiplexedConnection, id: &RoomId, creator: &CreatorToken) {
    let _: Vec<i64> = redis::Script::new(END_ROOM)
        .key(room_key(id))
        .key(presence_key(id))
        .key(tickets_key(id))
        .arg(creator.sha256_hex())
        .arg("PUBLISH")
        .arg(channel(id))
        .invoke_async(r)
        .await
        .unwrap();
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn join(addr: SocketAddr, room: &RoomId, ticket: &Ticket) -> (Ws, u32) {
    let req = format!("ws://{addr}/ws").into_client_request().unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, tcp, Some(config))
        .await
        .unwrap();
    let hello = ClientFrame::Hello {
        room: room.clone(),
        ticket: ticket.clone(),
    }
    .encode();
    ws.send(Message::Binary(hello.into())).await.unwrap();
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => {
                if let Ok(RelayFrame::Welcome { member, .. }) = RelayFrame::decode(&b) {
                    return (ws, member);
                }
            }
            other => panic!("join failed: {other:?}"),
        }
    }
}

fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn redis_cpu(r: &mut redis::aio::MultiplexedConnection) -> f64 {
    let info: String = redis::cmd("INFO").arg("cpu").query_async(r).await.unwrap();
    info.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == "used_cpu_sys" || k == "used_cpu_user")
                .then(|| v.trim().parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin = args.relay_bin.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("edge-ws-bridge")
    });
    let mut r = redis::Client::open(args.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    match args.mode {
        Mode::Throughput {
            nodes,
            rooms,
            room_size,
            rate,
            payload,
            secs,
            chunks,
        } => {
            let payload = if chunks { MAX_CHUNK_PAYLOAD } else { payload };
            let nodes: Vec<Node> = (0..nodes)
                .map(|i| start_node(&bin, &args.redis_url, i, &args.relay_args))
                .collect();
            let epoch = Instant::now();
            let delivered = Arc::new(AtomicU64::new(0));
            let measuring = Arc::new(AtomicBool::new(false));
            let stop = Arc::new(AtomicBool::new(false));
            let mut readers = Vec::new();
            let mut writers = Vec::new();
            let mut made = Vec::new();
            for _ in 0..rooms {
                let (id, creator, tickets) = room_with_tickets(&mut r, room_size).await;
                for (i, t) in tickets.iter().enumerate() {
                    let (ws, _member) = join(nodes[i % nodes.len()].addr, &id, t).await;
                    let (mut sink, mut stream) = ws.split();
                    let (delivered, measuring) = (delivered.clone(), measuring.clone());
                    readers.push(tokio::spawn(async move {
                        let mut lat_us: Vec<u32> = Vec::new();
                        while let Some(Ok(msg)) = stream.next().await {
                            let Message::Binary(b) = msg else { continue };
                            if let Ok(
                                RelayFrame::Broadcast { payload, .. }
                                | RelayFrame::Chunk { payload, .. },
                            ) = RelayFrame::decode(&b)
                                && measuring.load(Relaxed)
                            {
                                let sent = u64::from_be_bytes(payload[..8].try_into().unwrap());
                                let now = epoch.elapsed().as_micros() as u64;
                                lat_us.push(now.saturating_sub(sent) as u32);
                                delivered.fetch_add(1, Relaxed);
                            }
                        }
                        lat_us
                    }));
                    let stop = stop.clone();
                    writers.push(tokio::spawn(async move {
                        let period = Duration::from_secs_f64(1.0 / rate);
                        // Spread the senders over the period.
                        tokio::time::sleep(period.mul_f64(f64::from(random::<1>()[0]) / 256.0))
                            .await;
                        let mut tick = tokio::time::interval(period);
                        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                        let mut body = vec![0u8; payload.max(8)];
                        while !stop.load(Relaxed) {
                            tick.tick().await;
                            let now = epoch.elapsed().as_micros() as u64;
                            body[..8].copy_from_slice(&now.to_be_bytes());
                            let frame = if chunks {
                                ClientFrame::Chunk { payload: &body }
                            } else {
                                ClientFrame::Broadcast { payload: &body }
                            }
                            .encode();
                            if sink.send(Message::Binary(frame.into())).await.is_err() {
                                break;
                            }
                        }
                        sink
                    }));
                }
                made.push((id, creator));
            }
            println!(
                "{} rooms of {room_size} on {} nodes, {rate} frames/s per member, {payload} B payloads",
                rooms,
                nodes.len()
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
            let relay_cpu0: f64 = nodes.iter().map(|n| cpu_secs(n.child.id())).sum();
            let redis_cpu0 = redis_cpu(&mut r).await;
            let self_cpu0 = cpu_secs(std::process::id());
            measuring.store(true, Relaxed);
            let t0 = Instant::now();
            tokio::time::sleep(Duration::from_secs(secs)).await;
            measuring.store(false, Relaxed);
            let elapsed = t0.elapsed().as_secs_f64();
            let relay_cpu = nodes.iter().map(|n| cpu_secs(n.child.id())).sum::<f64>() - relay_cpu0;
            let redis_cpu = redis_cpu(&mut r).await - redis_cpu0;
            let self_cpu = cpu_secs(std::process::id()) - self_cpu0;
            stop.store(true, Relaxed);
            let n = delivered.load(Relaxed);
            for w in writers {
                let _ = w.await;
            }
            for (id, creator) in &made {
                end_room(&mut r, id, creator).await;
            }
            let mut lat: Vec<u32> = Vec::new();
            for rd in readers {
                lat.extend(rd.await.unwrap_or_default());
            }
            lat.sort_unstable();
            let pct = |p: f64| {
                lat.get(((lat.len() as f64 - 1.0) * p) as usize)
                    .copied()
                    .unwrap_or(0)
            };
            let sent_per_s = rooms as f64 * room_size as f64 * rate;
            println!(
                "offered {:.0} frames/s in, {:.0} deliveries/s expected",
                sent_per_s,
                sent_per_s * (room_size - 1) as f64
            );
            println!(
                "delivered {:.0} frames/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
                n as f64 / elapsed,
                f64::from(pct(0.5)) / 1000.0,
                f64::from(pct(0.99)) / 1000.0,
                f64::from(pct(1.0)) / 1000.0,
                lat.len()
            );
            println!(
                "CPU: relays {:.1}% of a core ({:.2} µs per delivery), Redis {:.1}% of a core, \
                 load generator {:.1}% of a core",
                relay_cpu / elapsed * 100.0,
                relay_cpu / n.max(1) as f64 * 1e6,
                redis_cpu / elapsed * 100.0,
                self_cpu / elapsed * 100.0
            );
            if chunks {
                // Each frame is published once and delivered to room_size - 1.
                let mib = |frames: f64| frames * payload as f64 / f64::from(1 << 20);
                let delivered_mib = mib(n as f64);
                let sent_mib = delivered_mib / (room_size - 1).max(1) as f64;
                println!(
                    "chunks: {:.2} MiB/s delivered, {:.2} MiB/s sent; Redis {:.2} ms CPU per MiB sent, \
                     relays {:.2} ms CPU per MiB delivered",
                    delivered_mib / elapsed,
                    sent_mib / elapsed,
                    redis_cpu * 1e3 / sent_mib.max(f64::MIN_POSITIVE),
                    relay_cpu * 1e3 / delivered_mib.max(f64::MIN_POSITIVE)
                );
            }
        }
        Mode::Idle { sockets, room_size } => {
            let node = start_node(&bin, &args.redis_url, 0, &args.relay_args);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let before = rss_kib(node.child.id());
            let mut held = Vec::with_capacity(sockets);
            let mut made = Vec::new();
            let started = Instant::now();
            while held.len() < sockets {
                let size = room_size.min(sockets - held.len());
                let (id, creator, tickets) = room_with_tickets(&mut r, size).await;
                for t in &tickets {
                    let (ws, _) = join(node.addr, &id, t).await;
                    held.push(ws);
                }
                made.push((id, creator));
            }
            println!(
                "{} sockets in {} rooms joined in {:.1} s",
                held.len(),
                made.len(),
                started.elapsed().as_secs_f64()
            );
            // Let the joined frames drain and presence settle.
            let drain = held.iter_mut().map(|ws| async move {
                while let Ok(Some(_)) =
                    tokio::time::timeout(Duration::from_millis(200), ws.next()).await
                {
                }
            });
            futures_util::future::join_all(drain).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let after = rss_kib(node.child.id());
            println!(
                "relay RSS {before} KiB before, {after} KiB with {} idle sockets: {:.2} KiB per socket",
                held.len(),
                (after.saturating_sub(before)) as f64 / held.len() as f64
            );
            for (id, creator) in &made {
                end_room(&mut r, id, creator).await;
            }
        }
    }
}
