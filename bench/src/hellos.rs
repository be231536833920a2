//! `vroom-bench abuse --scenario bogus-hellos`: does a flood of Hellos with
//! forged tickets reach another room on the same relay node?
//!
//! A victim room lives on the node: its creator sends a timestamped
//! broadcast every 20 ms to a second member (relay delivery latency), and
//! newcomers join it at a steady pace (ticket from the API, Hello, Welcome:
//! join latency). It is measured alone, then while the flood offers
//! `--hellos` Hellos spread over the phase from many loopback addresses
//! (`127.4.x.y`), each naming a random room, a live room nobody joined, or
//! the victim's own room, with a random ticket. The relay's own counters
//! (`/metrics` on its metrics address) tell how many room tasks the flood
//! started: none, if tickets are redeemed before anything room-scoped runs.

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

use crate::abuse::{Victim, used_memory};
use crate::conn::{Incoming, Member, System};
use crate::stats::{self, Latency};

/// One phase of the victim room, alone or beside the flood.
#[derive(Debug, Serialize)]
pub struct HelloPhase {
    /// `baseline` or `bogus-hellos`.
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
    /// Bogus Hellos sent.
    pub hellos_sent: u64,
    /// Bogus Hellos closed with 4001 (invalid ticket).
    pub hellos_refused_4001: u64,
    /// Bogus Hellos that ended otherwise (refused upgrade, other close).
    pub hellos_other: u64,
    /// Room tasks the relay started during the phase
    /// (`relay_room_tasks_started_total`).
    pub relay_room_tasks_started: i64,
    /// Highest Redis `used_memory` seen.
    pub redis_used_memory_max: u64,
}

/// Baseline, then the flood.
pub async fn bogus_hellos(
    victim: &Victim,
    relay: SocketAddr,
    relay_metrics: SocketAddr,
    redis: &mut redis::aio::MultiplexedConnection,
    seconds: f64,
    hellos: u64,
    victim_rate: f64,
) -> Result<Vec<HelloPhase>> {
    let mut phases = Vec::new();
    for flood in [false, true] {
        let mut phase = run_phase(
            victim,
            relay,
            relay_metrics,
            redis,
            seconds,
            flood.then_some(hellos),
            victim_rate,
        )
        .await?;
        if let Some(base) = phases.first() {
            let base: &HelloPhase = base;
            phase.join_p50_ratio = phase.victim_join.p50_ms / base.victim_join.p50_ms;
            phase.delivery_p99_ratio = phase.victim_delivery.p99_ms / base.victim_delivery.p99_ms;
        }
        eprintln!("  · {phase:?}");
        phases.push(phase);
    }
    Ok(phases)
}

async fn run_phase(
    victim: &Victim,
    relay: SocketAddr,
    relay_metrics: SocketAddr,
    redis: &mut redis::aio::MultiplexedConnection,
    seconds: f64,
    hellos: Option<u64>,
    victim_rate: f64,
) -> Result<HelloPhase> {
    let name = if hellos.is_some() {
        "bogus-hellos"
    } else {
        "baseline"
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
    let sampler = {
        let mut redis = redis.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut max = 0;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(used_memory(&mut redis).await.unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            max
        })
    };
    let flood = hellos.map(|total| {
        let targets = [room.id.clone(), unjoined.id.clone()];
        tokio::spawn(run_flood(relay, total, seconds, targets, stop.clone()))
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
        hellos_sent: counts.sent,
        hellos_refused_4001: counts.refused,
        hellos_other: counts.other,
        // The victim's own newcomers start no task: the room has one.
        relay_room_tasks_started: tasks_after - tasks_before,
        redis_used_memory_max: sampler.await?,
    })
}

#[derive(Default)]
struct FloodCounts {
    sent: u64,
    refused: u64,
    other: u64,
}

/// Offers `total` bogus Hellos evenly over `seconds`, each from the next of
/// 2,000 loopback addresses, at most 256 in flight.
async fn run_flood(
    relay: SocketAddr,
    total: u64,
    seconds: f64,
    targets: [RoomId; 2],
    stop: Arc<AtomicBool>,
) -> Result<FloodCounts> {
    let counters: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(seconds / total as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
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
            let slot = match tokio::time::timeout(
                Duration::from_secs(10),
                bogus_hello(relay, source, room),
            )
            .await
            {
                Ok(Ok(Some(close::INVALID_TICKET))) => 1,
                _ => 2,
            };
            counters[0].fetch_add(1, Ordering::Relaxed);
            counters[slot].fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    let _ = in_flight.acquire_many(256).await?;
    let read = |i: usize| counters[i].load(Ordering::Relaxed);
    Ok(FloodCounts {
        sent: read(0),
        refused: read(1),
        other: read(2),
    })
}

/// One Hello with a random ticket from `source`: the close code it got.
async fn bogus_hello(relay: SocketAddr, source: Ipv4Addr, room: RoomId) -> Result<Option<u16>> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    let tcp = socket.connect(relay).await?;
    let request = format!("ws://{relay}/ws").into_client_request()?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await?;
    let hello = ClientFrame::Hello {
        room,
        ticket: Ticket::from_bytes(random()?),
    };
    ws.send(Message::Binary(hello.encode().into())).await?;
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
