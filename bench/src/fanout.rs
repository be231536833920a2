//! Fan-out: R rooms × M members, every member broadcasting at a fixed rate.
//! The rate steps up until delivery falls behind or p99 passes 100 ms (the
//! knee); the same rooms also give the latency at a fixed moderate load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures_util::{SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{Incoming, Member};
use crate::stats::{Latency, cpu_secs, histogram, now_micros};
use crate::target::{Target, teardown};

/// p99 above this is past the knee.
pub const P99_LIMIT_MS: f64 = 100.0;
/// Delivered below this share of what was sent × (M − 1) is past the knee.
pub const DELIVERY_FLOOR: f64 = 0.95;
/// Sent below this share of the offered rate: the load generator (or the
/// server's back-pressure on it) is the limit.
pub const SEND_FLOOR: f64 = 0.90;

/// One measured step at one rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// Messages per second each member was asked to send.
    pub rate_per_member: f64,
    /// Deliveries per second that rate asks for (members × rate × (M − 1)).
    pub offered_per_s: f64,
    /// Messages actually sent per second.
    pub sent_per_s: f64,
    /// Deliveries received per second.
    pub delivered_per_s: f64,
    /// Delivered ÷ (sent × (M − 1)).
    pub delivery_ratio: f64,
    /// Send → receive latency of the deliveries.
    pub latency: Latency,
    /// Sockets lost during the step.
    pub errors: u64,
    /// CPU of the server nodes, in cores (1.0 = one core busy).
    pub server_cores: f64,
    /// CPU of the load generator, in cores.
    pub generator_cores: f64,
    /// Within the limits (delivery, p99, no errors, sends at the offered rate).
    pub sustained: bool,
}

/// Fan-out results for one room shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fanout {
    /// Rooms.
    pub rooms: usize,
    /// Members per room.
    pub members: usize,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// Highest sustained delivered frames/s (0 if none).
    pub knee_delivered_per_s: f64,
    /// Messages sent per second at the knee (each is one Redis PUBLISH on
    /// the Vroom relay).
    pub knee_sent_per_s: f64,
    /// Why the stepping stopped.
    pub stopped_because: String,
}

impl Fanout {
    /// Server CPU time per delivered frame at the knee, in µs: the servers'
    /// efficiency, whatever share of the machine they got.
    pub fn cpu_per_delivery_us(&self) -> Option<f64> {
        self.steps
            .iter()
            .filter(|s| s.sustained && s.delivered_per_s > 0.0)
            .max_by(|a, b| a.delivered_per_s.total_cmp(&b.delivered_per_s))
            .map(|s| s.server_cores / s.delivered_per_s * 1e6)
    }
}

/// Latency at a fixed load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixedLoad {
    /// Rooms × members used.
    pub rooms: usize,
    /// Members per room.
    pub members: usize,
    /// The step at the fixed rate.
    pub step: Step,
}

/// Settings of the step-up.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Unmeasured seconds after a rate change.
    pub warmup: Duration,
    /// Measured seconds per step.
    pub measure: Duration,
    /// First rate per member.
    pub first_rate: f64,
    /// Most steps.
    pub max_steps: usize,
    /// Bisection steps between the last sustained and the first failed
    /// rate (each halves the gap).
    pub refine: usize,
    /// Run a failed step once more before calling it the knee (a build on
    /// the shared machine can spoil one step).
    pub retry: bool,
}

struct Shared {
    measuring: AtomicBool,
    sent: AtomicU64,
    delivered: AtomicU64,
    /// Deliveries whether measuring or not (drain detection).
    seen: AtomicU64,
    errors: AtomicU64,
    /// One histogram for every member: they all run on the generator's one
    /// thread, and one histogram stays in cache (one per member, 280 KiB
    /// each, did not).
    latency: Mutex<Histogram<u64>>,
}

/// Rooms whose members run a sender/reader task each.
pub struct Swarm {
    target: Target,
    rooms: usize,
    members: usize,
    shared: Arc<Shared>,
    rate: watch::Sender<f64>,
    /// (room index, task) per member, creators first within a room.
    tasks: Vec<(usize, tokio::task::JoinHandle<Option<Member>>)>,
}

impl Swarm {
    /// Makes `rooms` rooms of `members` members and starts their tasks (silent).
    pub async fn start(target: &Target, rooms: usize, members: usize) -> Result<Self> {
        let made = target.rooms_of(0, rooms, members, 16).await?;
        let total = rooms * members;
        let shared = Arc::new(Shared {
            measuring: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            latency: Mutex::new(histogram()),
        });
        let (rate, _) = watch::channel(0.0);
        let mut tasks = Vec::with_capacity(total);
        let members_by_room = made
            .into_iter()
            .enumerate()
            .flat_map(|(room, (_, members))| members.into_iter().map(move |m| (room, m)));
        for (room, member) in members_by_room {
            let task = tokio::spawn(run_member(member, shared.clone(), rate.subscribe()));
            tasks.push((room, task));
        }
        Ok(Self {
            target: target.clone(),
            rooms,
            members,
            shared,
            rate,
            tasks,
        })
    }

    /// Runs one step at `rate` messages per second per member.
    pub async fn step(&self, rate: f64, warmup: Duration, measure: Duration) -> Step {
        let shared = &self.shared;
        let _ = self.rate.send(rate);
        tokio::time::sleep(warmup).await;
        shared.sent.store(0, Relaxed);
        shared.delivered.store(0, Relaxed);
        shared
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reset();
        let errors0 = shared.errors.load(Relaxed);
        let server0 = self.target.cpu_secs();
        let me0 = cpu_secs(std::process::id());
        shared.measuring.store(true, Relaxed);
        let started = Instant::now();
        tokio::time::sleep(measure).await;
        shared.measuring.store(false, Relaxed);
        let secs = started.elapsed().as_secs_f64();
        let server_cores = (self.target.cpu_secs() - server0) / secs;
        let generator_cores = (cpu_secs(std::process::id()) - me0) / secs;
        let sent = shared.sent.load(Relaxed) as f64;
        let delivered = shared.delivered.load(Relaxed) as f64;
        let errors = shared.errors.load(Relaxed) - errors0;
        let all = shared
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let _ = self.rate.send(0.0);
        self.drain().await;
        let total = (self.rooms * self.members) as f64;
        let fan = (self.members - 1) as f64;
        let offered = total * rate * fan;
        let expected = sent * fan;
        let latency = Latency::of(&all);
        let delivery_ratio = if expected > 0.0 {
            delivered / expected
        } else {
            0.0
        };
        let sustained = delivery_ratio >= DELIVERY_FLOOR
            && latency.p99_ms <= P99_LIMIT_MS
            && errors == 0
            && sent / secs >= SEND_FLOOR * total * rate;
        Step {
            rate_per_member: rate,
            offered_per_s: offered,
            sent_per_s: sent / secs,
            delivered_per_s: delivered / secs,
            delivery_ratio,
            latency,
            errors,
            server_cores,
            generator_cores,
            sustained,
        }
    }

    /// Waits until nothing has been delivered for 300 ms (at most 15 s).
    async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = self.shared.seen.load(Relaxed);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.shared.seen.load(Relaxed);
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// Steps the rate up (×2) until a step is not sustained.
    pub async fn knee(&self, plan: &Plan, log: &dyn Fn(&Step)) -> Fanout {
        let mut steps: Vec<Step> = Vec::new();
        let mut rate = plan.first_rate;
        let mut stopped_because = format!("reached {} steps", plan.max_steps);
        for _ in 0..plan.max_steps {
            let mut step = self.step(rate, plan.warmup, plan.measure).await;
            log(&step);
            if !step.sustained && plan.retry {
                let again = self.step(rate, plan.warmup, plan.measure).await;
                log(&again);
                steps.push(step);
                step = again;
            }
            let ok = step.sustained;
            if !ok {
                stopped_because = why(&step, self.rooms * self.members);
            }
            steps.push(step);
            if !ok {
                break;
            }
            rate *= 2.0;
        }
        let last_ok = steps
            .iter()
            .rev()
            .find(|s| s.sustained)
            .map(|s| s.rate_per_member);
        let failed = steps
            .last()
            .filter(|s| !s.sustained)
            .map(|s| s.rate_per_member);
        // Bisect between the last sustained and the first failed rate.
        if let (Some(mut good), Some(mut bad)) = (last_ok, failed) {
            for _ in 0..plan.refine {
                let rate = (good + bad) / 2.0;
                let step = self.step(rate, plan.warmup, plan.measure).await;
                log(&step);
                if step.sustained {
                    good = rate;
                } else {
                    bad = rate;
                }
                steps.push(step);
            }
        }
        let knee = steps
            .iter()
            .filter(|s| s.sustained)
            .max_by(|a, b| a.delivered_per_s.total_cmp(&b.delivered_per_s));
        Fanout {
            rooms: self.rooms,
            members: self.members,
            knee_delivered_per_s: knee.map_or(0.0, |s| s.delivered_per_s),
            knee_sent_per_s: knee.map_or(0.0, |s| s.sent_per_s),
            steps,
            stopped_because,
        }
    }

    /// Latency at `deliveries_per_s` in total.
    pub async fn fixed(
        &self,
        deliveries_per_s: f64,
        warmup: Duration,
        measure: Duration,
    ) -> FixedLoad {
        let per_member = deliveries_per_s / (self.rooms * self.members * (self.members - 1)) as f64;
        FixedLoad {
            rooms: self.rooms,
            members: self.members,
            step: self.step(per_member, warmup, measure).await,
        }
    }

    /// Stops the tasks and leaves every room.
    pub async fn stop(self) {
        let _ = self.rate.send(-1.0);
        let mut rooms: Vec<Vec<Member>> = (0..self.rooms).map(|_| Vec::new()).collect();
        for (room, task) in self.tasks {
            if let Ok(Some(member)) = task.await {
                rooms[room].push(member);
            }
        }
        let _ = teardown(rooms, 64).await;
    }
}

fn why(step: &Step, members: usize) -> String {
    let mut reasons = Vec::new();
    if step.latency.p99_ms > P99_LIMIT_MS {
        reasons.push(format!(
            "p99 {:.1} ms > {P99_LIMIT_MS} ms",
            step.latency.p99_ms
        ));
    }
    if step.delivery_ratio < DELIVERY_FLOOR {
        reasons.push(format!(
            "delivered {:.1}% of sent × (M − 1)",
            step.delivery_ratio * 100.0
        ));
    }
    if step.errors > 0 {
        reasons.push(format!("{} sockets lost", step.errors));
    }
    if step.sent_per_s < SEND_FLOOR * members as f64 * step.rate_per_member {
        reasons.push(format!(
            "sent {:.0}/s of {:.0}/s offered",
            step.sent_per_s,
            members as f64 * step.rate_per_member
        ));
    }
    format!(
        "at {} msg/s per member: {}",
        step.rate_per_member,
        reasons.join(", ")
    )
}

/// A member's task: sends at the current rate, reads and times deliveries.
async fn run_member(
    mut member: Member,
    shared: Arc<Shared>,
    mut rate: watch::Receiver<f64>,
) -> Option<Member> {
    let system = member.system;
    let mut period: Option<Duration> = None;
    let mut next = Instant::now();
    // One timer, moved as `next` moves: a fresh `sleep_until` per loop
    // would register and cancel a timer for every message received.
    let timer = tokio::time::sleep_until(next);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            biased;
            changed = rate.changed() => {
                if changed.is_err() {
                    return Some(member);
                }
                let r = *rate.borrow_and_update();
                if r < 0.0 {
                    return Some(member);
                }
                period = (r > 0.0).then(|| Duration::from_secs_f64(1.0 / r));
                if let Some(p) = period {
                    // Spread the members over the period.
                    let phase = f64::from(crate::http::random_bytes(1).map_or(0, |b| b[0])) / 256.0;
                    next = Instant::now() + p.mul_f64(phase);
                    timer.as_mut().reset(next);
                }
            }
            () = &mut timer, if period.is_some() => {
                let message = member.message();
                if member.ws.send(message).await.is_err() {
                    shared.errors.fetch_add(1, Relaxed);
                    return None;
                }
                if shared.measuring.load(Relaxed) {
                    shared.sent.fetch_add(1, Relaxed);
                }
                let p = period.unwrap_or_default();
                next += p;
                let now = Instant::now();
                if next + p < now {
                    // Behind by more than a period: skip, do not burst.
                    next = now;
                }
                timer.as_mut().reset(next);
            }
            message = member.ws.next() => {
                let Some(Ok(message)) = message else {
                    shared.errors.fetch_add(1, Relaxed);
                    return None;
                };
                match Member::classify(system, &message) {
                    Incoming::Delivery(sent_at) => {
                        shared.seen.fetch_add(1, Relaxed);
                        if shared.measuring.load(Relaxed) {
                            shared.delivered.fetch_add(1, Relaxed);
                            let micros = now_micros().saturating_sub(sent_at).max(1);
                            shared
                                .latency
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .saturating_record(micros);
                        }
                    }
                    Incoming::EnginePing => {
                        if member.ws.send(Message::text("3")).await.is_err() {
                            shared.errors.fetch_add(1, Relaxed);
                            return None;
                        }
                    }
                    Incoming::Closed => {
                        shared.errors.fetch_add(1, Relaxed);
                        return None;
                    }
                    Incoming::Other => {}
                }
            }
        }
    }
}
