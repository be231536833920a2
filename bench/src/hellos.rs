//! `vroom-bench abuse --scenario bogus-hellos,connection-flood`: does a
//! flood of connections reach another room on the same relay node?
//!
//! A victim room lives on the node: its creator sends a timestamped
//! broadcast every 20 ms to a second member (relay delivery latency), and
//! newcomers join it at a steady pace (ticket from the API, Hello, Welcome:
//! join latency). It is measured alone (once), then while a flood offers
//! `--hellos` connections spread over the phase from many loopback
//! addresses (`127.4.x.y`):
//!
//! - `bogus-hellos`: each sends a Hello naming a random room, a live room
//!   nobody joined, or the victim's own room, with a random ticket (close
//!   4001 expected). The relay's own counters (`/metrics` on its metrics
//!   address) tell how many room tasks the flood started: none, if tickets
//!   are redeemed before anything room-scoped runs.
//! - `connection-flood`: each opens a WebSocket and never says Hello, so
//!   the node holds it until the handshake deadline (close 4007).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use vroom_shared::relay::{ClientFrame, close};
use vroom_shared::{RoomId, Ticket};

use crate::abuse::{Victim, sample_used_memory};
use crate::conn::{Incoming, Member, System};
use crate::stats::{self, Latency};

/// One phase of the victim room, alone or beside the flood.
#[derive(Debug, Serialize)]
pub struct HelloPhase {
    /// `baseline`, `bogus-hellos` or `connection-flood`.
    pub name: String,
    /// Ticket from the API, Hello, Welcome.
    pub victim_join: Latency,
    /// Victim joins that failed.
    pub victim_join_errors: u64,
    /// Creator's broadcast to the other member, through the relay.
    pub victim_delivery: Latency,
    /// Victim join p50 over the baseline's.
    pub join_p50_ratio: f64,
    /// Victim delivery p99 over the baseline's.
    pub delivery_p99_ratio: f64,
    /// Flood connections made.
    pub flood_sent: u64,
    /// Flood connections closed with the expected code (4001 for bogus
    /// Hellos, 4007 for silent sockets).
    pub flood_closed_as_expected: u64,
    /// Flood connections that ended otherwise (refused upgrade, other close).
    pub flood_other: u64,
    /// Room tasks the relay started during the phase
    /// (`relay_room_tasks_started_total`).
    pub relay_room_tasks_started: i64,
    /// Highest Redis `used_memory` seen.
    pub redis_used_memory_max: u64,
}

/// What each connection of a flood does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flood {
    /// Says Hello with a random ticket.
    BogusHello,
    /// Never says anything.
    Silent,
}

/// Where the relay scenario runs and how hard.
pub struct RelayTarget<'a> {
    /// The API clients of the victim.
    pub victim: &'a Victim,
    /// The relay node's public address.
    pub relay: SocketAddr,
    /// The relay node's metrics address.
    pub metrics: SocketAddr,
    /// Measured seconds per phase.
    pub seconds: f64,
    /// Connections a flood offers over its phase.
    pub connections: u64,
    /// Victim joins per second.
    pub victim_rate: f64,
}

/// One phase: the victim alone (`flood` None) or beside `flood`; ratios
/// against `baseline` when given.
pub async fn phase(
    target: &RelayTarget<'_>,
    redis: &mut redis::aio::MultiplexedConnection,
    flood: Option<Flood>,
    baseline: Option<&HelloPhase>,
) -> Result<HelloPhase> {
    let mut phase = run_phase(target, redis, flood).await?;
    if let Some(base) = baseline {
        phase.join_p50_ratio = phase.victim_join.p50_ms / base.victim_join.p50_ms;
        phase.delivery_p99_ratio = phase.victim_delivery.p99_ms / base.victim_delivery.p99_ms;
    }
    eprintln!("  · {phase:?}");
    Ok(phase)
}

async fn run_phase(
    target: &RelayTarget<'_>,
    redis: &mut redis::aio::MultiplexedConnection,
    flood: Option<Flood>,
) -> Result<HelloPhase> {
    let RelayTarget {
        victim,
        relay,
        metrics: relay_metrics,
        seconds,
        connections,
        victim_rate,
    } = *target;
    let name = match flood {
        None => "baseline",
        Some(Flood::BogusHello) => "bogus-hellos",
        Some(Flood::Silent) => "connection-flood",
    };
    eprintln!("  · phase {name}: {seconds} s");
    // The victim room, its chat, and a live room nobody joins.
    let (room, creator_ticket) = victim.create(0).await?;
    let mut sender = Member::join(System::Vroom, relay, &creator_ticket).await?;
    let ticket = victim.join(&room, 1).await?;
    let mut receiver = Member::join(System::Vroom, relay, &ticket).await?;
    let (unjoined, _) = victim.create(2).await?;
    let tasks_before = metric(relay_metrics, "relay_room_tasks_started_total").await?;

    let stop = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(async move {
        let mut histogram = stats::histogram();
        while let Some(Ok(message)) = receiver.ws.next().await {
            match Member::classify(System::Vroom, &message) {
                Incoming::Delivery(sent) => stats::record(
                    &mut histogram,
                    Duration::from_micros(stats::now_micros().saturating_sub(sent)),
                ),
                Incoming::Closed => break,
                _ => {}
            }
        }
        histogram
    });
    let chat = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let message = sender.message();
                if sender.ws.send(message).await.is_err() {
                    break;
                }
            }
            sender
        })
    };
    let sampler = sample_used_memory(redis.clone(), stop.clone());
    let flood = flood.map(|kind| {
        let targets = [room.id.clone(), unjoined.id.clone()];
        tokio::spawn(run_flood(
            kind,
            relay,
            connections,
            seconds,
            targets,
            stop.clone(),
        ))
    });

    // Newcomers join the victim room at a steady pace, and leave.
    let mut joins = stats::histogram();
    let mut join_errors = 0;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / victim_rate));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut n = 3;
    while Instant::now() < deadline {
        tick.tick().await;
        let started = Instant::now();
        let joined = match victim.join(&room, n).await {
            Ok(ticket) => Member::join(System::Vroom, relay, &ticket).await,
            Err(err) => Err(err),
        };
        match joined {
            Ok(member) => {
                stats::record(&mut joins, started.elapsed());
                tokio::spawn(member.leave(Duration::from_secs(5)));
            }
            Err(_) => join_errors += 1,
        }
        n += 1;
    }
    let counts = match flood {
        Some(task) => task.await??,
        None => FloodCounts::default(),
    };
    stop.store(true, Ordering::Relaxed);
    let sender = chat.await?;
    let tasks_after = metric(relay_metrics, "relay_room_tasks_started_total").await?;
    // The creator leaving ends the room: the reader sees the close.
    sender.leave(Duration::from_secs(5)).await?;
    let delivery: Histogram<u64> = reader.await?;
    Ok(HelloPhase {
        name: name.into(),
        victim_join: Latency::of(&joins),
        victim_join_errors: join_errors,
        victim_delivery: Latency::of(&delivery),
        join_p50_ratio: 1.0,
        delivery_p99_ratio: 1.0,
        flood_sent: counts.sent,
        flood_closed_as_expected: counts.expected,
        flood_other: counts.other,
        // The victim's own newcomers start no task: the room has one.
        relay_room_tasks_started: tasks_after - tasks_before,
        redis_used_memory_max: sampler.await?,
    })
}

#[derive(Default)]
struct FloodCounts {
    sent: u64,
    expected: u64,
    other: u64,
}

/// Offers `total` connections evenly over `seconds`, each from the next of
/// 2,000 loopback addresses, at most 4,096 in flight.
async fn run_flood(
    kind: Flood,
    relay: SocketAddr,
    total: u64,
    seconds: f64,
    targets: [RoomId; 2],
    stop: Arc<AtomicBool>,
) -> Result<FloodCounts> {
    let counters: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(seconds / total as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    const IN_FLIGHT: u32 = 4096;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT as usize));
    for n in 0..total {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        tick.tick().await;
        let permit = in_flight.clone().acquire_owned().await?;
        let room = match n % 3 {
            0 => RoomId::from_bytes(random()?),
            i => targets[usize::try_from(i).unwrap_or(1) - 1].clone(),
        };
        let counters = counters.clone();
        tokio::spawn(async move {
            let [_, _, x, y] = u32::try_from(n % 2000 + 1).unwrap_or(1).to_be_bytes();
            let source = Ipv4Addr::new(127, 4, x, y);
            let expected = match kind {
                Flood::BogusHello => close::INVALID_TICKET,
                Flood::Silent => close::TIMEOUT,
            };
            let hello = (kind == Flood::BogusHello).then_some(room);
            let slot = match tokio::time::timeout(
                Duration::from_secs(15),
                connection(relay, source, hello),
            )
            .await
            {
                Ok(Ok(Some(code))) if code == expected => 1,
                _ => 2,
            };
            counters[0].fetch_add(1, Ordering::Relaxed);
            counters[slot].fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    let _ = in_flight.acquire_many(IN_FLIGHT).await?;
    let read = |i: usize| counters[i].load(Ordering::Relaxed);
    Ok(FloodCounts {
        sent: read(0),
        expected: read(1),
        other: read(2),
    })
}

/// One WebSocket from `source`, with a Hello of a random ticket for `hello`
/// or silent: the close code it got.
async fn connection(
    relay: SocketAddr,
    source: Ipv4Addr,
    hello: Option<RoomId>,
) -> Result<Option<u16>> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    let tcp = socket.connect(relay).await?;
    let request = format!("ws://{relay}/ws").into_client_request()?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await?;
    if let Some(room) = hello {
        let hello = ClientFrame::Hello {
            room,
            ticket: Ticket::from_bytes(random()?),
        };
        ws.send(Message::Binary(hello.encode().into())).await?;
    }
    while let Some(message) = ws.next().await {
        if let Message::Close(frame) = message? {
            return Ok(frame.map(|f| u16::from(f.code)));
        }
    }
    Ok(None)
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("getrandom: {e}"))?;
    Ok(bytes)
}

/// One value of the relay's `/metrics`.
async fn metric(addr: SocketAddr, name: &str) -> Result<i64> {
    let client = crate::http::client_from(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), 1);
    let (status, body) = crate::http::send(
        &client,
        http::Method::GET,
        &format!("http://{addr}/metrics"),
        None,
        None,
    )
    .await?;
    if status != 200 {
        bail!("relay /metrics: HTTP {status}");
    }
    let body = String::from_utf8_lossy(&body);
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .with_context(|| format!("no {name} in the relay's /metrics"))
}
