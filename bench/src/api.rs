//! `vroom-bench api`: drives the rooms API the way clients do: each virtual
//! client loops create → join → end over a kept-alive HTTP/1.1 connection and
//! every request's latency is recorded.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::{self, HttpClient, new_room_credentials, send};

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
    /// Write the results as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
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
    clients: usize,
    seconds: f64,
    create: CallStats,
    join: CallStats,
    end: CallStats,
    /// create + join together, the figure the goal is stated in.
    create_and_join: CallStats,
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

/// One create → join → end round; returns false if any call failed.
async fn round(client: &HttpClient, base: &str, recorder: Option<&mut Recorder>) -> Result<bool> {
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
        return Ok(false);
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
    if let Some(recorder) = recorder {
        for (call, elapsed) in timings {
            recorder.record(call, elapsed);
        }
    }
    Ok(joined && status == 204)
}

/// Runs the API benchmark.
pub async fn api(args: ApiArgs) -> Result<()> {
    ensure!(args.clients > 0, "--clients must be at least 1");
    let base = args.url.trim_end_matches('/').to_string();
    let warmup = Duration::from_secs_f64(args.warmup);
    let measured = Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let client = http::client(1);
            let mut recorder = Recorder::new()?;
            while started.elapsed() < warmup {
                round(&client, &base, None).await?;
            }
            while started.elapsed() < warmup + measured {
                match round(&client, &base, Some(&mut recorder)).await {
                    Ok(true) => {}
                    Ok(false) | Err(_) => recorder.errors += 1,
                }
            }
            anyhow::Ok(recorder)
        }));
    }
    let mut total = Recorder::new()?;
    for task in tasks {
        total.merge(&task.await??)?;
    }
    let seconds = measured.as_secs_f64();
    let mut both = total.histograms[Call::Create as usize].clone();
    both.add(&total.histograms[Call::Join as usize])?;
    let report = ApiReport {
        clients: args.clients,
        seconds,
        create: stats(&total.histograms[Call::Create as usize], seconds),
        join: stats(&total.histograms[Call::Join as usize], seconds),
        end: stats(&total.histograms[Call::End as usize], seconds),
        create_and_join: stats(&both, seconds),
        errors: total.errors,
    };
    println!(
        "clients {} · {seconds:.0} s measured · errors {}",
        report.clients, report.errors
    );
    println!(
        "{:<16}{:>10}{:>10}{:>10}{:>10}{:>10}",
        "call", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (name, call) in [
        ("create", &report.create),
        ("join", &report.join),
        ("end", &report.end),
        ("create+join", &report.create_and_join),
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
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    }
    if report.create.requests == 0 {
        bail!("no request completed");
    }
    Ok(())
}
