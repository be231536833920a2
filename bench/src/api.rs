//! `vroom-bench api`: drives the rooms API the way clients do, create →
//! join → end per round over kept-alive HTTP/1.1 connections, recording
//! every request's latency. Closed loop (default): each virtual client loops
//! rounds on its own connection. Open loop (`--rate`): rounds start on a
//! fixed schedule whatever the answers, so latency includes queueing at
//! that offered load. Either way, with `--host-pid` and `--redis`, the
//! server CPU per call: the host's (`/proc/<pid>/stat`) and Redis'
//! (`INFO cpu`) CPU time over the measured window, divided by the calls.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::{self, HttpClient, new_room_credentials, send};
use crate::stats;

/// Flags of `vroom-bench api`.
#[derive(clap::Args)]
pub struct ApiArgs {
    /// Base URL of the app, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: String,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Open loop: offered loads in API calls per second, one run each
    /// (e.g. `200,500,1000`); a round (3 calls) starts every 3/rate s.
    #[arg(long, value_delimiter = ',')]
    rate: Vec<f64>,
    /// The host's process id, for its CPU time per call.
    #[arg(long)]
    host_pid: Option<u32>,
    /// The Redis the host uses (`host:port`), for its CPU time per call
    /// (`INFO cpu`; use a Redis nothing else uses).
    #[arg(long)]
    redis: Option<String>,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// Open-loop rounds allowed in flight at once; a round due beyond this is
/// not started and counts as an error (the server is far past saturation).
const MAX_OPEN_ROUNDS: usize = 4096;

/// Server CPU time per API call over a measured window, in microseconds.
#[derive(Serialize, Clone, Copy, Default)]
struct ServerCpu {
    /// The host process (`vroom`): HTTP, wasmtime, the guest, host calls.
    host_us_per_call: Option<f64>,
    /// Redis: the scripts and their round trips.
    redis_us_per_call: Option<f64>,
}

impl ServerCpu {
    fn total(&self) -> Option<f64> {
        match (self.host_us_per_call, self.redis_us_per_call) {
            (None, None) => None,
            (host, redis) => Some(host.unwrap_or(0.0) + redis.unwrap_or(0.0)),
        }
    }
}

/// Reads the server processes' CPU seconds.
struct CpuMeter {
    host_pid: Option<u32>,
    redis: Option<redis::aio::MultiplexedConnection>,
}

/// CPU seconds of host and Redis at one instant.
#[derive(Clone, Copy)]
struct CpuSample {
    host: Option<f64>,
    redis: Option<f64>,
}

impl CpuMeter {
    async fn new(host_pid: Option<u32>, redis: Option<&str>) -> Result<Self> {
        let redis = match redis {
            Some(addr) => Some(
                redis::Client::open(format!("redis://{addr}"))?
                    .get_multiplexed_async_connection()
                    .await
                    .context("cannot reach --redis")?,
            ),
            None => None,
        };
        Ok(Self { host_pid, redis })
    }

    async fn sample(&mut self) -> Result<CpuSample> {
        let redis = match &mut self.redis {
            Some(con) => {
                let info: String = redis::cmd("INFO").arg("cpu").query_async(con).await?;
                let field = |name: &str| {
                    info.lines()
                        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .with_context(|| format!("INFO cpu without {name}"))
                };
                Some(field("used_cpu_sys")? + field("used_cpu_user")?)
            }
            None => None,
        };
        Ok(CpuSample {
            host: self.host_pid.map(stats::cpu_secs),
            redis,
        })
    }

    /// CPU per call between `before` and `after`.
    fn per_call(before: CpuSample, after: CpuSample, calls: u64) -> ServerCpu {
        let per_call = |a: Option<f64>, b: Option<f64>| {
            a.zip(b)
                .filter(|_| calls > 0)
                .map(|(a, b)| (b - a) * 1e6 / calls as f64)
        };
        ServerCpu {
            host_us_per_call: per_call(before.host, after.host),
            redis_us_per_call: per_call(before.redis, after.redis),
        }
    }
}

/// One API call's latency distribution, in microseconds.
#[derive(Serialize)]
struct CallStats {
    requests: u64,
    per_second: f64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
}

#[derive(Serialize)]
struct ApiReport {
    /// Closed loop: concurrent clients; open loop: 0.
    clients: usize,
    /// Open loop: offered API calls per second.
    offered_calls_per_second: Option<f64>,
    seconds: f64,
    create: CallStats,
    join: CallStats,
    end: CallStats,
    /// create + join together, the figure the goal is stated in.
    create_and_join: CallStats,
    /// Every call.
    all: CallStats,
    /// Server CPU per call (every call).
    server_cpu: ServerCpu,
    errors: u64,
}

#[derive(Clone, Copy)]
enum Call {
    Create,
    Join,
    End,
}

struct Recorder {
    histograms: [Histogram<u64>; 3],
    errors: u64,
}

impl Recorder {
    fn new() -> Result<Self> {
        let histogram = || Histogram::<u64>::new_with_bounds(1, 60_000_000, 3);
        Ok(Self {
            histograms: [histogram()?, histogram()?, histogram()?],
            errors: 0,
        })
    }

    fn record(&mut self, call: Call, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.histograms[call as usize].saturating_record(micros);
    }

    /// Records a round's outcome (an `Err` is a failed round).
    fn record_round(&mut self, outcome: Result<(bool, Timings)>) {
        match outcome {
            Ok((ok, timings)) => {
                for (call, elapsed) in timings {
                    self.record(call, elapsed);
                }
                if !ok {
                    self.errors += 1;
                }
            }
            Err(_) => self.errors += 1,
        }
    }

    fn merge(&mut self, other: &Recorder) -> Result<()> {
        for (mine, theirs) in self.histograms.iter_mut().zip(&other.histograms) {
            mine.add(theirs)?;
        }
        self.errors += other.errors;
        Ok(())
    }
}

fn stats(histogram: &Histogram<u64>, seconds: f64) -> CallStats {
    CallStats {
        requests: histogram.len(),
        per_second: histogram.len() as f64 / seconds,
        p50_us: histogram.value_at_quantile(0.50),
        p90_us: histogram.value_at_quantile(0.90),
        p99_us: histogram.value_at_quantile(0.99),
        max_us: histogram.max(),
    }
}

/// The latency of each call of a round.
type Timings = Vec<(Call, Duration)>;

/// One create → join → end round: whether every call succeeded, and the
/// latency of each call made.
async fn round(client: &HttpClient, base: &str) -> Result<(bool, Timings)> {
    let (room_id, join_key) = new_room_credentials()?;
    let mut timings = Vec::with_capacity(3);

    let started = Instant::now();
    let (status, body) = send(
        client,
        ::http::Method::POST,
        &format!("{base}/api/rooms"),
        Some(format!(
            r#"{{"room_id":"{room_id}","join_key":"{join_key}"}}"#
        )),
        None,
    )
    .await?;
    timings.push((Call::Create, started.elapsed()));
    if status != 201 {
        return Ok((false, timings));
    }
    let created: serde_json::Value = serde_json::from_slice(&body)?;
    let token = created["creator_token"]
        .as_str()
        .context("no creator token")?
        .to_string();

    let started = Instant::now();
    let (status, _) = send(
        client,
        ::http::Method::POST,
        &format!("{base}/api/rooms/{room_id}/join"),
        Some(format!(r#"{{"join_key":"{join_key}"}}"#)),
        None,
    )
    .await?;
    timings.push((Call::Join, started.elapsed()));
    let joined = status == 200;

    let started = Instant::now();
    let (status, _) = send(
        client,
        ::http::Method::DELETE,
        &format!("{base}/api/rooms/{room_id}"),
        None,
        Some(&token),
    )
    .await?;
    timings.push((Call::End, started.elapsed()));
    Ok((joined && status == 204, timings))
}

/// Runs the API benchmark: closed loop, or open loop at each `--rate`.
pub async fn api(args: ApiArgs) -> Result<()> {
    ensure!(args.clients > 0, "--clients must be at least 1");
    ensure!(
        args.rate.iter().all(|rate| rate.is_finite() && *rate > 0.0),
        "--rate takes positive calls per second"
    );
    let base = args.url.trim_end_matches('/').to_string();
    let mut meter = CpuMeter::new(args.host_pid, args.redis.as_deref()).await?;
    let mut reports = Vec::new();
    if args.rate.is_empty() {
        reports.push(closed_loop(&args, &base, &mut meter).await?);
    } else {
        for &rate in &args.rate {
            reports.push(open_loop(&args, &base, rate, &mut meter).await?);
        }
    }
    for report in &reports {
        print_report(report);
    }
    if let Some(path) = &args.json {
        let json = match reports.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            all => serde_json::to_string_pretty(all)?,
        };
        std::fs::write(path, json)?;
    }
    if reports.iter().any(|report| report.create.requests == 0) {
        bail!("no request completed");
    }
    Ok(())
}

/// Each of `--clients` loops rounds on its own connection.
async fn closed_loop(args: &ApiArgs, base: &str, meter: &mut CpuMeter) -> Result<ApiReport> {
    let warmup = Duration::from_secs_f64(args.warmup);
    let measured = Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let client = http::client(1);
            let mut recorder = Recorder::new()?;
            while started.elapsed() < warmup {
                round(&client, &base).await?;
            }
            while started.elapsed() < warmup + measured {
                recorder.record_round(round(&client, &base).await);
            }
            anyhow::Ok(recorder)
        }));
    }
    tokio::time::sleep(warmup.saturating_sub(started.elapsed())).await;
    let before = meter.sample().await?;
    let mut total = Recorder::new()?;
    for task in tasks {
        total.merge(&task.await??)?;
    }
    let after = meter.sample().await?;
    report(&total, args.clients, None, measured, before, after)
}

/// Rounds start every `3 / rate` seconds, each as its own task on a shared
/// pool of kept-alive connections; latency includes any wait for the server.
async fn open_loop(
    args: &ApiArgs,
    base: &str,
    rate: f64,
    meter: &mut CpuMeter,
) -> Result<ApiReport> {
    let warmup = Duration::from_secs_f64(args.warmup);
    let measured = Duration::from_secs_f64(args.seconds);
    let period = Duration::from_secs_f64(3.0 / rate);
    let client = http::client(MAX_OPEN_ROUNDS);
    let total = Arc::new(Mutex::new(Recorder::new()?));
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_OPEN_ROUNDS));
    let started = tokio::time::Instant::now();
    let mut before = None;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0u32.. {
        let due = period * n;
        if due >= warmup + measured {
            break;
        }
        tokio::time::sleep_until(started + due).await;
        let measuring = due >= warmup;
        if measuring && before.is_none() {
            before = Some(meter.sample().await?);
        }
        let Ok(permit) = open.clone().try_acquire_owned() else {
            if measuring {
                lock(&total).errors += 1;
            }
            continue;
        };
        let (client, base, total) = (client.clone(), base.to_string(), total.clone());
        tasks.spawn(async move {
            let _permit = permit;
            let outcome = round(&client, &base).await;
            if measuring {
                lock(&total).record_round(outcome);
            }
        });
        // Reap finished rounds as we go: the set stays small.
        while let Some(done) = tasks.try_join_next() {
            done?;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done?;
    }
    let after = meter.sample().await?;
    let before = before.context("no round was measured: --seconds too short")?;
    let total = lock(&total);
    report(&total, 0, Some(rate), measured, before, after)
}

fn lock(recorder: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn report(
    total: &Recorder,
    clients: usize,
    rate: Option<f64>,
    measured: Duration,
    before: CpuSample,
    after: CpuSample,
) -> Result<ApiReport> {
    let seconds = measured.as_secs_f64();
    let of = |call: Call| &total.histograms[call as usize];
    let mut both = of(Call::Create).clone();
    both.add(of(Call::Join))?;
    let mut all = both.clone();
    all.add(of(Call::End))?;
    Ok(ApiReport {
        clients,
        offered_calls_per_second: rate,
        seconds,
        create: stats(of(Call::Create), seconds),
        join: stats(of(Call::Join), seconds),
        end: stats(of(Call::End), seconds),
        create_and_join: stats(&both, seconds),
        all: stats(&all, seconds),
        server_cpu: CpuMeter::per_call(before, after, all.len()),
        errors: total.errors,
    })
}

fn print_report(report: &ApiReport) {
    match report.offered_calls_per_second {
        Some(rate) => println!(
            "open loop, {rate:.0} calls/s offered · {:.0} s measured · errors {}",
            report.seconds, report.errors
        ),
        None => println!(
            "clients {} · {:.0} s measured · errors {}",
            report.clients, report.seconds, report.errors
        ),
    }
    println!(
        "{:<16}{:>10}{:>10}{:>10}{:>10}{:>10}",
        "call", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (name, call) in [
        ("create", &report.create),
        ("join", &report.join),
        ("end", &report.end),
        ("create+join", &report.create_and_join),
        ("all", &report.all),
    ] {
        println!(
            "{name:<16}{:>10.0}{:>10.2}{:>10.2}{:>10.2}{:>10.2}",
            call.per_second,
            call.p50_us as f64 / 1000.0,
            call.p90_us as f64 / 1000.0,
            call.p99_us as f64 / 1000.0,
            call.max_us as f64 / 1000.0
        );
    }
    let cpu = &report.server_cpu;
    let us = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
    println!(
        "server CPU per call: host {} µs + Redis {} µs = {} µs",
        us(cpu.host_us_per_call),
        us(cpu.redis_us_per_call),
        us(cpu.total())
    );
}
