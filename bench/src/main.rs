//! `vroom-bench`: load generators for Vroom.
//!
//! - `vroom-bench api` drives the rooms API: create → join → end.
//! - `vroom-bench compare` measures Vroom's relay (`edge-ws-bridge`) and the
//!   Socket.IO + Redis peer side by side on running nodes: fan-out knees,
//!   latency at a fixed load, memory per idle socket, join churn, and the
//!   Redis PUBLISH ceiling; writes JSON, SVG charts and a Markdown section.
//!   `cargo xtask bench` starts everything and runs it.
//! - `vroom-bench abuse` measures whether one client's abuse (a join flood,
//!   a create flood) reaches another room, and Redis bytes per room.
//! - `vroom-bench hold` is the worker `compare` uses to hold idle sockets
//!   (a process may hold at most 20,000 file descriptors).

mod abuse;
mod api;
mod ceiling;
mod chart;
mod churn;
mod conn;
mod fanout;
mod hellos;
mod http;
mod idle;
mod report;
mod stats;
mod target;
mod tickets;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use crate::conn::System;
use crate::fanout::{Plan, Swarm};
use crate::report::{Machine, Report, SystemRun, num};
use crate::target::Target;

#[derive(Parser)]
#[command(name = "vroom-bench")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Rooms API: create → join → end per iteration.
    Api(api::ApiArgs),
    /// Vroom's relay vs the Socket.IO peer, on running nodes.
    Compare(Box<CompareArgs>),
    /// Isolation under abuse: another room's joins during floods; Redis bytes.
    Abuse(abuse::AbuseArgs),
    /// Worker: hold idle sockets until standard input closes.
    Hold(idle::HoldArgs),
}

/// Flags of `vroom-bench compare`.
#[derive(clap::Args)]
struct CompareArgs {
    /// The rooms API of the host serving Vroom (`http://host:port`).
    #[arg(long)]
    api: String,
    /// A Vroom relay node, `ADDR=PID` (repeat).
    #[arg(long = "vroom", required = true)]
    vroom: Vec<String>,
    /// A peer node, `ADDR=PID` (repeat; none: Vroom only).
    #[arg(long = "peer")]
    peer: Vec<String>,
    /// The Redis both use, `host:port` (for `redis-benchmark`).
    #[arg(long, default_value = "127.0.0.1:6379")]
    redis: String,
    /// Short settings (a couple of minutes).
    #[arg(long)]
    quick: bool,
    /// Tiny settings (seconds): the smoke test.
    #[arg(long)]
    smoke: bool,
    /// Directory for `relay-vs-peer.json`, `.md` and the SVG charts.
    #[arg(long)]
    out: PathBuf,
    /// Prefix of the chart links in the Markdown.
    #[arg(long, default_value = "")]
    chart_prefix: String,
    /// The command to print in the report.
    #[arg(long, default_value = "vroom-bench compare")]
    command: String,
    /// Skip `redis-benchmark`.
    #[arg(long)]
    no_ceiling: bool,
    /// Scenarios to run (for profiling one): idle, fanout, churn.
    #[arg(long, value_delimiter = ',', default_value = "idle,fanout,churn")]
    scenarios: Vec<String>,
    /// Idle socket counts instead of the mode's (cumulative).
    #[arg(long, value_delimiter = ',')]
    idle_counts: Vec<usize>,
    /// Fan-out room shapes instead of the mode's, e.g. `10x50`.
    #[arg(long, value_delimiter = ',')]
    shapes: Vec<String>,
    /// First fan-out rate per member instead of the mode's.
    #[arg(long)]
    first_rate: Option<f64>,
    /// Most fan-out steps instead of the mode's.
    #[arg(long)]
    max_steps: Option<usize>,
    /// Measured seconds per fan-out step instead of the mode's.
    #[arg(long)]
    step_secs: Option<f64>,
}

/// Sizes of one run.
struct Settings {
    idle: Vec<usize>,
    shapes: Vec<(usize, usize)>,
    plan: Plan,
    fixed_load: f64,
    fixed_secs: f64,
    churn_rooms: usize,
    churn_clients: usize,
    churn_secs: f64,
    ceiling_requests: usize,
}

impl Settings {
    fn new(quick: bool, smoke: bool) -> Self {
        if smoke {
            return Self {
                idle: vec![40],
                shapes: vec![(4, 4)],
                plan: Plan {
                    warmup: Duration::from_millis(300),
                    measure: Duration::from_millis(700),
                    first_rate: 2.0,
                    max_steps: 2,
                    refine: 0,
                    retry: false,
                },
                fixed_load: 100.0,
                fixed_secs: 1.0,
                churn_rooms: 2,
                churn_clients: 2,
                churn_secs: 1.0,
                ceiling_requests: 2000,
            };
        }
        if quick {
            return Self {
                idle: vec![1_000, 4_000],
                shapes: vec![(100, 8), (10, 50)],
                plan: Plan {
                    warmup: Duration::from_millis(500),
                    measure: Duration::from_millis(1500),
                    first_rate: 0.5,
                    max_steps: 8,
                    refine: 0,
                    retry: false,
                },
                fixed_load: 2_000.0,
                fixed_secs: 3.0,
                churn_rooms: 20,
                churn_clients: 16,
                churn_secs: 3.0,
                ceiling_requests: 200_000,
            };
        }
        Self {
            idle: vec![1_000, 10_000, 20_000],
            shapes: vec![(100, 8), (10, 50)],
            plan: Plan {
                warmup: Duration::from_secs(1),
                measure: Duration::from_secs(4),
                first_rate: 0.25,
                max_steps: 12,
                refine: 3,
                retry: true,
            },
            fixed_load: 2_000.0,
            fixed_secs: 10.0,
            churn_rooms: 50,
            churn_clients: 32,
            churn_secs: 10.0,
            ceiling_requests: 1_000_000,
        }
    }
}

fn target_args(system: System, specs: &[String], api: &str) -> Vec<String> {
    let mut args = vec![
        "--system".to_string(),
        match system {
            System::Vroom => "vroom",
            System::Peer => "peer",
        }
        .to_string(),
    ];
    for spec in specs {
        args.push("--node".into());
        args.push(spec.clone());
    }
    if system == System::Vroom {
        args.push("--api".into());
        args.push(api.to_string());
    }
    args
}

fn note(what: &str) {
    eprintln!("  · {what}");
}

async fn compare(args: CompareArgs) -> Result<()> {
    let mut settings = Settings::new(args.quick, args.smoke);
    if !args.idle_counts.is_empty() {
        settings.idle = args.idle_counts.clone();
    }
    if !args.shapes.is_empty() {
        settings.shapes = args
            .shapes
            .iter()
            .map(|shape| {
                let (r, m) = shape.split_once('x').unwrap_or((shape, "8"));
                Ok((r.parse()?, m.parse()?))
            })
            .collect::<Result<_>>()?;
    }
    if let Some(rate) = args.first_rate {
        settings.plan.first_rate = rate;
    }
    if let Some(steps) = args.max_steps {
        settings.plan.max_steps = steps;
    }
    if let Some(secs) = args.step_secs {
        settings.plan.measure = Duration::from_secs_f64(secs);
    }
    let wants = |name: &str| args.scenarios.iter().any(|s| s == name);
    std::fs::create_dir_all(&args.out)?;
    let mut machine = Machine::now();
    let mut systems = Vec::new();
    for (system, specs) in [(System::Vroom, &args.vroom), (System::Peer, &args.peer)] {
        if specs.is_empty() {
            continue;
        }
        let (nodes, pids) = Target::parse_nodes(specs)?;
        let target = Target {
            system,
            nodes,
            pids,
            api: (system == System::Vroom).then(|| tickets::Api::new(&args.api)),
        };
        systems.push((
            target,
            target_args(system, specs, &args.api),
            SystemRun::new(system),
        ));
    }
    let track_load = |machine: &mut Machine| {
        machine.load_max = machine.load_max.max(stats::load_average());
    };

    // Idle sockets first, while the nodes are fresh.
    for (target, worker_args, run) in systems.iter_mut().filter(|_| wants("idle")) {
        eprintln!(
            "\n{}: idle sockets {:?}",
            target.system.label(),
            settings.idle
        );
        run.idle = idle::idle(target, worker_args.clone(), &settings.idle, &|p| {
            note(&format!(
                "{} sockets ({} errors): RSS {:.1} → {:.1} MiB, {:.0} B/socket, connected in {:.1} s",
                p.sockets,
                p.errors,
                p.rss_before_kib as f64 / 1024.0,
                p.rss_after_kib as f64 / 1024.0,
                p.bytes_per_socket,
                p.connect_secs
            ));
        })
        .await?;
        track_load(&mut machine);
    }

    // Fan-out: the fixed load on the first shape, then the knee of each.
    for (target, _, run) in systems.iter_mut().filter(|_| wants("fanout")) {
        for (index, &(rooms, members)) in settings.shapes.iter().enumerate() {
            eprintln!("\n{}: fan-out {rooms}×{members}", target.system.label());
            let swarm = Swarm::start(target, rooms, members).await?;
            if index == 0 {
                let fixed = swarm
                    .fixed(
                        settings.fixed_load,
                        settings.plan.warmup,
                        Duration::from_secs_f64(settings.fixed_secs),
                    )
                    .await;
                note(&format!(
                    "fixed {:.0} deliveries/s: delivered {}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    settings.fixed_load,
                    num(fixed.step.delivered_per_s),
                    fixed.step.latency.p50_ms,
                    fixed.step.latency.p99_ms,
                    fixed.step.latency.max_ms
                ));
                run.fixed = Some(fixed);
            }
            let fanout = swarm
                .knee(&settings.plan, &|s| {
                    note(&format!(
                        "{} msg/s/member: offered {}/s, sent {}/s, delivered {}/s ({:.1}%), p99 {:.2} ms, \
                         errors {}, server {:.2} cores, generator {:.2} cores{}",
                        s.rate_per_member,
                        num(s.offered_per_s),
                        num(s.sent_per_s),
                        num(s.delivered_per_s),
                        s.delivery_ratio * 100.0,
                        s.latency.p99_ms,
                        s.errors,
                        s.server_cores,
                        s.generator_cores,
                        if s.sustained { "" } else { " — past the knee" }
                    ));
                })
                .await;
            note(&format!(
                "knee {} delivered/s; stopped {}",
                num(fanout.knee_delivered_per_s),
                fanout.stopped_because
            ));
            run.fanout.push(fanout);
            swarm.stop().await;
            track_load(&mut machine);
        }
    }

    // Join churn.
    for (target, _, run) in systems.iter_mut().filter(|_| wants("churn")) {
        eprintln!(
            "\n{}: join churn, {} clients over {} rooms",
            target.system.label(),
            settings.churn_clients,
            settings.churn_rooms
        );
        let churn = churn::churn(
            target,
            settings.churn_rooms,
            settings.churn_clients,
            settings.churn_secs,
        )
        .await?;
        note(&format!(
            "{} cycles/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            num(churn.cycles_per_s),
            churn.cycle.p50_ms,
            churn.cycle.p99_ms,
            churn.errors
        ));
        run.churn = Some(churn);
        track_load(&mut machine);
    }

    let ceiling = if args.no_ceiling {
        None
    } else {
        eprintln!("\nRedis ceiling: redis-benchmark PUBLISH");
        match ceiling::measure(&args.redis, settings.ceiling_requests).await {
            Ok(c) => {
                note(&format!(
                    "{} PUBLISH/s without subscribers, {} with two",
                    num(c.publish_per_s),
                    num(c.publish_2_subscribers_per_s)
                ));
                Some(c)
            }
            Err(e) => {
                note(&format!("redis-benchmark failed: {e:#}"));
                None
            }
        }
    };
    machine.load_after = stats::load_average();
    track_load(&mut machine);

    let mut runs = systems.into_iter().map(|(_, _, run)| run);
    let Some(vroom) = runs.next() else {
        bail!("no system measured");
    };
    let mut report = Report {
        command: args.command,
        quick: args.quick || args.smoke,
        machine,
        redis: args.redis,
        ceiling,
        vroom,
        peer: runs.next(),
        ratios: Vec::new(),
    };
    report.compute_ratios();
    std::fs::write(
        args.out.join("relay-vs-peer.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    chart::write_all(&report, &args.out)?;
    std::fs::write(
        args.out.join("relay-vs-peer.md"),
        report.markdown(&args.chart_prefix),
    )?;
    println!("\n{}", report.ratio_table());
    println!(
        "(load average {:.2} before, {:.2} after; results in {})",
        report.machine.load_before,
        report.machine.load_after,
        args.out.display()
    );
    Ok(())
}

fn main() -> Result<()> {
    stats::epoch();
    let cli = Cli::parse();
    // `compare` runs every client on one thread: no cross-thread wake-ups,
    // so the generator takes less of the machine it shares with the
    // servers (measured: about a fifth less CPU per delivery than on two
    // worker threads, at the same delivered rate).
    let mut runtime = match &cli.command {
        Bench::Compare(_) => tokio::runtime::Builder::new_current_thread(),
        Bench::Api(_) | Bench::Hold(_) | Bench::Abuse(_) => {
            tokio::runtime::Builder::new_multi_thread()
        }
    };
    runtime.enable_all().build()?.block_on(async {
        match cli.command {
            Bench::Api(args) => api::api(args).await,
            Bench::Compare(args) => compare(*args).await,
            Bench::Hold(args) => idle::hold(args).await,
            Bench::Abuse(args) => abuse::abuse(args).await,
        }
    })
}
