//! `vroom-bench abuse`: does one client's abuse reach another room, and does
//! Redis stay under its documented ceiling?
//!
//! - `memory`: bytes in Redis of a room nobody connects to, of a live room
//!   with N members connected through a real relay node (`MEMORY USAGE` of
//!   each of its keys), of an outstanding ticket and of a rate counter.
//! - `join-flood`: a victim joins its own rooms at a steady pace, alone and
//!   while many loopback addresses (`127.2.x.y`) flood one other room with
//!   joins at a fixed offered rate.
//! - `create-flood`: the same victim while those addresses create rooms.
//! - `bogus-hellos`, `connection-flood`: a victim room on a relay node (join
//!   latency, delivery latency) alone and while many addresses send Hellos
//!   with forged tickets, or open WebSockets that never say Hello
//!   (`crate::hellos`).
//!
//! Floods are paced (a fixed offered rate, not "as fast as possible") so the
//! host keeps spare CPU on a shared two-core machine: what is compared is
//! the victim's join latency with and without the attacker's *state* in
//! Redis, not two processes fighting for one core. Redis `used_memory` is
//! sampled during each phase.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hdrhistogram::Histogram;
use serde::Serialize;
use vroom_shared::RoomId;

use crate::conn::{Member, RoomRef, System};
use crate::hellos::{self, HelloPhase, RelayTarget};
use crate::http::{HttpClient, client_from, new_room_credentials, send};
use crate::stats::{self, Latency};

/// Flags of `vroom-bench abuse`.
#[derive(clap::Args)]
pub struct AbuseArgs {
    /// Base URL of the app, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    api: String,
    /// The Redis the app uses, `host:port` (INFO and MEMORY USAGE; use a
    /// private one: the figures are of the whole server).
    #[arg(long)]
    redis: String,
    /// A relay node, `host:port` (the `memory` and `bogus-hellos` scenarios
    /// connect members).
    #[arg(long)]
    relay: Option<SocketAddr>,
    /// The relay node's metrics address, `host:port` (`bogus-hellos`
    /// counts the room tasks it started).
    #[arg(long)]
    relay_metrics: Option<SocketAddr>,
    /// Scenarios, in order: memory, join-flood, create-flood, bogus-hellos,
    /// connection-flood.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "memory,join-flood,create-flood,bogus-hellos,connection-flood"
    )]
    scenario: Vec<String>,
    /// Connections the `bogus-hellos` and `connection-flood` floods open
    /// over their phase.
    #[arg(long, default_value_t = 10_000)]
    hellos: u64,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Requests per second the flood offers.
    #[arg(long, default_value_t = 300.0)]
    flood_rate: f64,
    /// Loopback addresses the flood comes from (127.2.x.y).
    #[arg(long, default_value_t = 1000)]
    flood_addresses: usize,
    /// Joins per second of the victim (spread over 16 addresses and 8 rooms,
    /// within the default per-address limit).
    #[arg(long, default_value_t = 8.0)]
    victim_rate: f64,
    /// The app's `rate_create_global_per_min` (for the ceiling).
    #[arg(long, default_value_t = 6000)]
    global_per_min: u64,
    /// The app's `room_claim_secs` (for the ceiling).
    #[arg(long, default_value_t = 60)]
    claim_secs: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// Bytes in Redis, from `MEMORY USAGE … SAMPLES 0` on each key.
#[derive(Debug, Default, Serialize)]
struct Footprint {
    /// A created room nobody connected to (room hash, tickets set, the
    /// creator's ticket).
    unclaimed_room: u64,
    /// `used_memory` growth per unclaimed room over many of them
    /// (allocator and keyspace overhead included).
    unclaimed_room_used_memory: u64,
    /// A live room with its members connected, by member count.
    live_room: Vec<(usize, u64)>,
    /// What each further connected member adds.
    per_member: u64,
    /// One outstanding ticket (its key and its entry in the tickets set).
    per_ticket: u64,
    /// One rate-limit counter.
    rate_counter: u64,
}

/// One measured phase.
#[derive(Debug, Serialize)]
struct Phase {
    name: String,
    victim: Latency,
    victim_errors: u64,
    /// Statuses of the victim's failed joins (0: no answer).
    victim_error_statuses: Vec<u16>,
    /// Victim p50 over the baseline's.
    p50_ratio: f64,
    flood_offered_per_s: f64,
    flood_sent: u64,
    /// Flood answers by status class: accepted (2xx), 429, 503, other.
    flood_accepted: u64,
    flood_429: u64,
    flood_503: u64,
    flood_other: u64,
    redis_used_memory_before: u64,
    redis_used_memory_max: u64,
}

#[derive(Debug, Serialize)]
struct AbuseReport {
    machine: crate::report::Machine,
    footprint: Option<Footprint>,
    /// `(⌈claim_secs / 60⌉ + 1) × global_per_min ×
    /// unclaimed_room_used_memory`: the most that rooms nobody uses can
    /// hold (a room lives `claim_secs`, which spans at most that many fixed
    /// one-minute windows of the budget).
    unclaimed_ceiling_bytes: Option<u64>,
    phases: Vec<Phase>,
    /// The victim room on a relay node, alone and beside bogus Hellos.
    relay_phases: Vec<HelloPhase>,
}

/// Runs the chosen scenarios.
pub async fn abuse(args: AbuseArgs) -> Result<()> {
    let base = args.api.trim_end_matches('/').to_string();
    let mut redis = redis::Client::open(format!("redis://{}", args.redis))?
        .get_multiplexed_async_connection()
        .await
        .context("connecting to Redis")?;
    let mut report = AbuseReport {
        machine: crate::report::Machine::now(),
        footprint: None,
        unclaimed_ceiling_bytes: None,
        phases: Vec::new(),
        relay_phases: Vec::new(),
    };
    for scenario in &args.scenario {
        match scenario.as_str() {
            "memory" => {
                let relay = args.relay.context("the memory scenario needs --relay")?;
                let footprint = footprint(&base, relay, &mut redis).await?;
                report.unclaimed_ceiling_bytes = Some(
                    (args.claim_secs.div_ceil(60) + 1)
                        * args.global_per_min
                        * footprint.unclaimed_room_used_memory,
                );
                eprintln!("  · footprint: {footprint:?}");
                report.footprint = Some(footprint);
            }
            "join-flood" | "create-flood" => {
                if report.phases.is_empty() {
                    let baseline = phase(&args, &base, &mut redis, None).await?;
                    report.phases.push(baseline);
                }
                let flood = if scenario == "join-flood" {
                    Flood::Join
                } else {
                    Flood::Create
                };
                let mut measured = phase(&args, &base, &mut redis, Some(flood)).await?;
                measured.p50_ratio = measured.victim.p50_ms / report.phases[0].victim.p50_ms;
                report.phases.push(measured);
            }
            "bogus-hellos" | "connection-flood" => {
                // Addresses of their own (127.0.0.42–57).
                let victim = Victim::new(&base, 40, 16)?;
                let target = RelayTarget {
                    victim: &victim,
                    relay: args.relay.context("the relay scenarios need --relay")?,
                    metrics: args
                        .relay_metrics
                        .context("the relay scenarios need --relay-metrics")?,
                    seconds: args.seconds,
                    connections: args.hellos,
                    victim_rate: args.victim_rate,
                };
                if report.relay_phases.is_empty() {
                    let baseline = hellos::phase(&target, &mut redis, None, None).await?;
                    report.relay_phases.push(baseline);
                }
                let flood = if scenario == "bogus-hellos" {
                    hellos::Flood::BogusHello
                } else {
                    hellos::Flood::Silent
                };
                let measured = hellos::phase(
                    &target,
                    &mut redis,
                    Some(flood),
                    report.relay_phases.first(),
                )
                .await?;
                report.relay_phases.push(measured);
            }
            other => bail!("unknown scenario {other}"),
        }
    }
    print(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

fn print(report: &AbuseReport) {
    if let Some(f) = &report.footprint {
        println!(
            "unclaimed room {} B (used_memory {} B/room), ticket {} B, rate counter {} B, per member {} B",
            f.unclaimed_room,
            f.unclaimed_room_used_memory,
            f.per_ticket,
            f.rate_counter,
            f.per_member
        );
        for (members, bytes) in &f.live_room {
            println!("live room, {members} members: {bytes} B");
        }
    }
    if let Some(ceiling) = report.unclaimed_ceiling_bytes {
        println!("ceiling of unclaimed rooms: {ceiling} B");
    }
    print_api(&report.phases);
    print_relay(&report.relay_phases);
}

/// API phases: the victim's join latency, and the flood's answers.
fn print_api(phases: &[Phase]) {
    if phases.is_empty() {
        return;
    }
    println!(
        "{:<14}{:>9}{:>9}{:>9}{:>7}{:>8}{:>9}{:>9}{:>7}{:>12}",
        "phase", "p50 ms", "p99 ms", "×base", "errs", "flood/s", "2xx", "429", "503", "Redis max"
    );
    for p in phases {
        println!(
            "{:<14}{:>9.2}{:>9.2}{:>9.2}{:>7}{:>8.0}{:>9}{:>9}{:>7}{:>12}",
            p.name,
            p.victim.p50_ms,
            p.victim.p99_ms,
            p.p50_ratio,
            p.victim_errors,
            p.flood_offered_per_s,
            p.flood_accepted,
            p.flood_429,
            p.flood_503,
            p.redis_used_memory_max
        );
    }
}

/// Relay phases: the victim's join p50 and delivery p99, and the flood.
fn print_relay(phases: &[HelloPhase]) {
    if phases.is_empty() {
        return;
    }
    println!(
        "{:<14}{:>10}{:>8}{:>10}{:>10}{:>8}{:>8}{:>8}{:>8}{:>7}{:>12}",
        "relay phase",
        "join p50",
        "×base",
        "deliv p50",
        "deliv p99",
        "×base",
        "conns",
        "closed",
        "other",
        "tasks",
        "Redis max"
    );
    for p in phases {
        println!(
            "{:<14}{:>10.2}{:>8.2}{:>10.2}{:>10.2}{:>8.2}{:>8}{:>8}{:>8}{:>7}{:>12}",
            p.name,
            p.victim_join.p50_ms,
            p.join_p50_ratio,
            p.victim_delivery.p50_ms,
            p.victim_delivery.p99_ms,
            p.delivery_p99_ratio,
            p.flood_sent,
            p.flood_closed_as_expected,
            p.flood_other,
            p.relay_room_tasks_started,
            p.redis_used_memory_max
        );
    }
}

/// `MEMORY USAGE key SAMPLES 0`, 0 for a missing key.
async fn memory_usage(redis: &mut redis::aio::MultiplexedConnection, key: &str) -> Result<u64> {
    let bytes: Option<u64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(redis)
        .await?;
    Ok(bytes.unwrap_or(0))
}

/// Every key matching `pattern` (a private Redis: SCAN is fine).
async fn keys(redis: &mut redis::aio::MultiplexedConnection, pattern: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(redis)
            .await?;
        found.extend(batch);
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// Sum of `MEMORY USAGE` of every key of `room`.
async fn room_bytes(redis: &mut redis::aio::MultiplexedConnection, room: &RoomId) -> Result<u64> {
    let mut total = 0;
    for key in keys(redis, &vroom_shared::redis::room_pattern(room)).await? {
        total += memory_usage(redis, &key).await?;
    }
    Ok(total)
}

/// Samples Redis `used_memory` every 250 ms until `stop`; the task's
/// result is the highest value seen.
pub(crate) fn sample_used_memory(
    mut redis: redis::aio::MultiplexedConnection,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut max = 0;
        while !stop.load(Ordering::Relaxed) {
            max = max.max(used_memory(&mut redis).await.unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        max
    })
}

/// Redis `used_memory`.
pub(crate) async fn used_memory(redis: &mut redis::aio::MultiplexedConnection) -> Result<u64> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(redis).await?;
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .context("INFO memory without used_memory")
}

/// The bytes of a room in its states (see [`Footprint`]).
async fn footprint(
    base: &str,
    relay: SocketAddr,
    redis: &mut redis::aio::MultiplexedConnection,
) -> Result<Footprint> {
    // An address of its own (127.0.0.200): its joins do not count against
    // the victim's.
    let api = Victim::new(base, 198, 1)?;
    let mut footprint = Footprint::default();

    // Unclaimed: created, nobody connected; one and then many.
    let (room, creator) = api.create(0).await?;
    footprint.unclaimed_room = room_bytes(redis, &room.id).await?;
    // An outstanding ticket: a join of another such room, not redeemed.
    let (other, _) = api.create(1).await?;
    let before = room_bytes(redis, &other.id).await?;
    api.join(&other, 0).await?;
    footprint.per_ticket = room_bytes(redis, &other.id).await?.saturating_sub(before);
    const MANY: usize = 1000;
    let before = used_memory(redis).await?;
    // From 100 addresses of their own, within the per-address limit.
    let many = Victim {
        base: base.to_string(),
        clients: (1..=100)
            .map(|n| client_from(Some(IpAddr::V4(Ipv4Addr::new(127, 3, 0, n))), 1))
            .collect(),
    };
    for n in 0..MANY {
        many.create(n).await?;
    }
    footprint.unclaimed_room_used_memory =
        (used_memory(redis).await?.saturating_sub(before)) / MANY as u64;
    for key in keys(redis, "vroom:{rate}:*").await?.iter().take(1) {
        footprint.rate_counter = memory_usage(redis, key).await?;
    }

    // Live: the creator and members connected through the relay.
    let mut members = vec![Member::join(System::Vroom, relay, &creator).await?];
    let mut counted = 1;
    for target in [1usize, 2, 8, 32] {
        while members.len() < target {
            let ticket = api.join(&room, counted).await?;
            counted += 1;
            members.push(Member::join(System::Vroom, relay, &ticket).await?);
        }
        let bytes = room_bytes(redis, &room.id).await?;
        footprint.live_room.push((target, bytes));
    }
    let first = footprint.live_room[0].1;
    let last = footprint.live_room[footprint.live_room.len() - 1];
    footprint.per_member = (last.1.saturating_sub(first)) / (last.0 as u64 - 1);
    for member in members {
        let _ = member.leave(Duration::from_secs(5)).await;
    }
    Ok(footprint)
}

/// Which flood runs beside the victim.
#[derive(Clone, Copy)]
enum Flood {
    /// Joins of one room the attacker created.
    Join,
    /// Creates of fresh rooms.
    Create,
}

/// A room the bench created: its id and base64 join key.
#[derive(Clone)]
pub(crate) struct Room {
    pub(crate) id: RoomId,
    id_text: String,
    join_key: String,
}

/// HTTP clients on addresses of their own: the victim's are 127.0.0.2–17.
pub(crate) struct Victim {
    base: String,
    clients: Vec<HttpClient>,
}

impl Victim {
    /// Clients on 127.0.0.(2 + first) and the `addresses - 1` after it.
    pub(crate) fn new(base: &str, first: u8, addresses: u8) -> Result<Self> {
        ensure!(addresses > 0 && first.checked_add(addresses + 2).is_some());
        Ok(Self {
            base: base.to_string(),
            clients: (first..first + addresses)
                .map(|n| client_from(Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n))), 1))
                .collect(),
        })
    }

    fn client(&self, n: usize) -> &HttpClient {
        &self.clients[n % self.clients.len()]
    }

    /// Creates a room from address `n`; returns it and the creator ticket.
    pub(crate) async fn create(&self, n: usize) -> Result<(Room, RoomRef)> {
        let (status, body) = create(self.client(n), &self.base).await?;
        let (room, ticket) = match (status, body) {
            (201, Some(created)) => created,
            (status, _) => bail!("create: HTTP {status}"),
        };
        Ok((
            room.clone(),
            RoomRef::Vroom {
                room: room.id,
                ticket,
            },
        ))
    }

    /// A member ticket for `room` from address `n`.
    pub(crate) async fn join(&self, room: &Room, n: usize) -> Result<RoomRef> {
        let (status, body) = join(self.client(n), &self.base, room).await?;
        ensure!(status == 200, "join: HTTP {status}");
        let joined: vroom_shared::api::JoinRoomResponse = serde_json::from_slice(&body)?;
        Ok(RoomRef::Vroom {
            room: room.id.clone(),
            ticket: joined.ticket,
        })
    }
}

/// `POST /api/rooms` of a fresh room: the status, and on 201 the room and
/// the creator ticket.
async fn create(
    client: &HttpClient,
    base: &str,
) -> Result<(u16, Option<(Room, vroom_shared::Ticket)>)> {
    let (id_text, join_key) = new_room_credentials()?;
    let (status, body) = send(
        client,
        http::Method::POST,
        &format!("{base}/api/rooms"),
        Some(format!(
            r#"{{"room_id":"{id_text}","join_key":"{join_key}"}}"#
        )),
        None,
    )
    .await?;
    if status != 201 {
        return Ok((status, None));
    }
    let created: vroom_shared::api::CreateRoomResponse = serde_json::from_slice(&body)?;
    let room = Room {
        id: created.room_id,
        id_text,
        join_key,
    };
    Ok((status, Some((room, created.ticket))))
}

/// `POST /api/rooms/{id}/join`: the status and body.
async fn join(client: &HttpClient, base: &str, room: &Room) -> Result<(u16, bytes::Bytes)> {
    send(
        client,
        http::Method::POST,
        &format!("{base}/api/rooms/{}/join", room.id_text),
        Some(format!(r#"{{"join_key":"{}"}}"#, room.join_key)),
        None,
    )
    .await
}

/// The victim alone (`flood` None) or beside a flood, for `args.seconds`.
async fn phase(
    args: &AbuseArgs,
    base: &str,
    redis: &mut redis::aio::MultiplexedConnection,
    flood: Option<Flood>,
) -> Result<Phase> {
    let name = match flood {
        None => "baseline",
        Some(Flood::Join) => "join-flood",
        Some(Flood::Create) => "create-flood",
    };
    eprintln!("  · phase {name}: {} s", args.seconds);
    let victim = Arc::new(Victim::new(base, 0, 16)?);
    let mut rooms = Vec::new();
    for n in 0..8 {
        rooms.push(victim.create(n).await?.0);
    }
    let memory_before = used_memory(redis).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let flood_task = flood.map(|kind| {
        tokio::spawn(run_flood(
            kind,
            base.to_string(),
            args.flood_rate,
            args.flood_addresses,
            stop.clone(),
        ))
    });
    let sampler = sample_used_memory(redis.clone(), stop.clone());
    // Let the flood reach its pace before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (histogram, errors) = run_victim(&victim, &rooms, args.victim_rate, args.seconds).await?;
    let victim_errors = errors.len() as u64;
    stop.store(true, Ordering::Relaxed);
    let counts = match flood_task {
        Some(task) => task.await??,
        None => FloodCounts::default(),
    };
    Ok(Phase {
        name: name.into(),
        victim: Latency::of(&histogram),
        victim_errors,
        victim_error_statuses: errors,
        p50_ratio: 1.0,
        flood_offered_per_s: if flood.is_some() {
            args.flood_rate
        } else {
            0.0
        },
        flood_sent: counts.sent,
        flood_accepted: counts.accepted,
        flood_429: counts.too_many,
        flood_503: counts.busy,
        flood_other: counts.other,
        redis_used_memory_before: memory_before,
        redis_used_memory_max: sampler.await?,
    })
}

/// Joins `rooms` round-robin at `rate` per second for `seconds`; the
/// latency of each 200, and the status of each that was not (0: no answer).
async fn run_victim(
    victim: &Victim,
    rooms: &[Room],
    rate: f64,
    seconds: f64,
) -> Result<(Histogram<u64>, Vec<u16>)> {
    let mut histogram = stats::histogram();
    let mut errors = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut n = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let started = Instant::now();
        match join(victim.client(n), &victim.base, &rooms[n % rooms.len()]).await {
            Ok((200, _)) => stats::record(&mut histogram, started.elapsed()),
            Ok((status, _)) => errors.push(status),
            Err(_) => errors.push(0),
        }
        n += 1;
    }
    Ok((histogram, errors))
}

#[derive(Default)]
struct FloodCounts {
    sent: u64,
    accepted: u64,
    too_many: u64,
    busy: u64,
    other: u64,
}

/// Offers `rate` requests per second from `addresses` loopback addresses
/// (127.2.x.y, one kept-alive connection each) until `stop`.
async fn run_flood(
    kind: Flood,
    base: String,
    rate: f64,
    addresses: usize,
    stop: Arc<AtomicBool>,
) -> Result<FloodCounts> {
    let clients: Arc<Vec<HttpClient>> = Arc::new(
        (0..addresses)
            .map(|n| {
                let [_, _, x, y] = u32::try_from(n + 1).unwrap_or(1).to_be_bytes();
                client_from(Some(IpAddr::V4(Ipv4Addr::new(127, 2, x, y))), 1)
            })
            .collect(),
    );
    let target = match kind {
        Flood::Join => match create(&clients[0], &base).await? {
            (201, Some((room, _))) => Some(room),
            (status, _) => bail!("the flood's room: HTTP {status}"),
        },
        Flood::Create => None,
    };
    let counters: Arc<[AtomicU64; 5]> = Arc::new(Default::default());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            continue;
        };
        let (clients, base, target, counters) = (
            clients.clone(),
            base.clone(),
            target.clone(),
            counters.clone(),
        );
        tokio::spawn(async move {
            let client = &clients[n % clients.len()];
            let status = match &target {
                Some(room) => join(client, &base, room).await.map(|(s, _)| s),
                None => create(client, &base).await.map(|(s, _)| s),
            };
            let slot = match status {
                Ok(200..=299) => 1,
                Ok(429) => 2,
                Ok(503) => 3,
                _ => 4,
            };
            counters[0].fetch_add(1, Ordering::Relaxed);
            counters[slot].fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
        n += 1;
    }
    let _ = in_flight.acquire_many(256).await;
    let read = |i: usize| counters[i].load(Ordering::Relaxed);
    Ok(FloodCounts {
        sent: read(0),
        accepted: read(1),
        too_many: read(2),
        busy: read(3),
        other: read(4),
    })
}
