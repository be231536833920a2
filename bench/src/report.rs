//! The comparison report: JSON, the ratio table, and the Markdown section
//! for `docs/BENCHMARKS.md`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::ceiling::Ceiling;
use crate::churn::Churn;
use crate::conn::System;
use crate::fanout::{Fanout, FixedLoad};
use crate::idle::IdlePoint;

/// The machine and how busy it was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs.
    pub cores: usize,
    /// 1-minute load average before the run.
    pub load_before: f64,
    /// 1-minute load average after the run.
    pub load_after: f64,
    /// Highest 1-minute load average seen between scenarios.
    pub load_max: f64,
    /// UTC start time.
    pub started: String,
}

impl Machine {
    /// What this machine is, now.
    pub fn now() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_default();
        let load = crate::stats::load_average();
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            load_before: load,
            load_after: load,
            load_max: load,
            started: std::process::Command::new("date")
                .args(["-u", "+%Y-%m-%d %H:%M UTC"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default(),
        }
    }
}

/// Everything measured for one system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemRun {
    /// Which.
    pub system: System,
    /// Idle sockets and memory.
    pub idle: Vec<IdlePoint>,
    /// Latency at the fixed load.
    pub fixed: Option<FixedLoad>,
    /// Fan-out knees, one per room shape.
    pub fanout: Vec<Fanout>,
    /// Join churn.
    pub churn: Option<Churn>,
}

impl SystemRun {
    /// Nothing measured yet.
    pub fn new(system: System) -> Self {
        Self {
            system,
            idle: Vec::new(),
            fixed: None,
            fanout: Vec::new(),
            churn: None,
        }
    }

    fn knee(&self, rooms: usize, members: usize) -> Option<&Fanout> {
        self.fanout
            .iter()
            .find(|f| f.rooms == rooms && f.members == members)
    }
}

/// One row of the ratio table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ratio {
    /// What is compared.
    pub metric: String,
    /// Vroom's figure.
    pub vroom: f64,
    /// The peer's figure (or the reference, e.g. Redis).
    pub peer: f64,
    /// How many times better Vroom is (> 1: better).
    pub advantage: f64,
    /// The goal, in words.
    pub goal: String,
    /// Whether the goal is met.
    pub met: Option<bool>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The command that produced it.
    pub command: String,
    /// `--quick`.
    pub quick: bool,
    /// The machine.
    pub machine: Machine,
    /// The Redis both systems use, `host:port`.
    pub redis: String,
    /// `redis-benchmark` PUBLISH.
    pub ceiling: Option<Ceiling>,
    /// Vroom.
    pub vroom: SystemRun,
    /// The peer, when it ran.
    pub peer: Option<SystemRun>,
    /// The ratio table.
    pub ratios: Vec<Ratio>,
}

impl Report {
    /// Fills [`Report::ratios`].
    pub fn compute_ratios(&mut self) {
        let mut rows = Vec::new();
        let vroom = &self.vroom;
        if let Some(peer) = &self.peer {
            for f in &vroom.fanout {
                if let Some(p) = peer.knee(f.rooms, f.members) {
                    let advantage = ratio(f.knee_delivered_per_s, p.knee_delivered_per_s);
                    rows.push(Ratio {
                        metric: format!(
                            "fan-out {}×{}: delivered frames/s at the knee",
                            f.rooms, f.members
                        ),
                        vroom: f.knee_delivered_per_s,
                        peer: p.knee_delivered_per_s,
                        advantage,
                        goal: "≥ 10×".into(),
                        met: Some(advantage >= 10.0),
                    });
                }
            }
            for f in &vroom.fanout {
                if let (Some(v), Some(p)) = (
                    f.cpu_per_delivery_us(),
                    peer.knee(f.rooms, f.members)
                        .and_then(Fanout::cpu_per_delivery_us),
                ) {
                    rows.push(Ratio {
                        metric: format!(
                            "fan-out {}×{}: server CPU µs per delivery at the knee",
                            f.rooms, f.members
                        ),
                        vroom: v,
                        peer: p,
                        advantage: ratio(p, v),
                        goal: "— (efficiency, whatever share of the machine each got)".into(),
                        met: None,
                    });
                }
            }
            if let (Some(v), Some(p)) = (&vroom.fixed, &peer.fixed) {
                let advantage = ratio(p.step.latency.p99_ms, v.step.latency.p99_ms);
                rows.push(Ratio {
                    metric: format!(
                        "p99 latency (ms) at {:.0} deliveries/s",
                        v.step.offered_per_s
                    ),
                    vroom: v.step.latency.p99_ms,
                    peer: p.step.latency.p99_ms,
                    advantage,
                    goal: "≤ 1/10 of the peer's".into(),
                    met: Some(advantage >= 10.0),
                });
            }
            if let (Some(v), Some(p)) = (vroom.idle.last(), peer.idle.last()) {
                let advantage = ratio(p.bytes_per_socket, v.bytes_per_socket);
                rows.push(Ratio {
                    metric: format!("resident bytes per idle socket ({} sockets)", v.sockets),
                    vroom: v.bytes_per_socket,
                    peer: p.bytes_per_socket,
                    advantage,
                    goal: "≤ 1/10 of the peer's and < 8 KiB".into(),
                    met: Some(advantage >= 10.0 && v.bytes_per_socket < 8192.0),
                });
            }
            if let (Some(v), Some(p)) = (&vroom.churn, &peer.churn) {
                rows.push(Ratio {
                    metric: "join + leave cycles/s".into(),
                    vroom: v.cycles_per_s,
                    peer: p.cycles_per_s,
                    advantage: ratio(v.cycles_per_s, p.cycles_per_s),
                    goal: "— (Vroom's cycle includes the rooms API call)".into(),
                    met: None,
                });
            }
        }
        if let Some(ceiling) = &self.ceiling {
            let delivered = vroom
                .fanout
                .iter()
                .map(|f| f.knee_delivered_per_s)
                .fold(0.0, f64::max);
            rows.push(Ratio {
                metric: "relay deliveries/s at its best knee vs redis-benchmark PUBLISH/s (2 subscribers)".into(),
                vroom: delivered,
                peer: ceiling.publish_2_subscribers_per_s,
                advantage: ratio(delivered, ceiling.publish_2_subscribers_per_s),
                goal: "— (deliveries, not PUBLISH calls: the goal's other reading)".into(),
                met: None,
            });
            let sent = vroom
                .fanout
                .iter()
                .map(|f| f.knee_sent_per_s)
                .fold(0.0, f64::max);
            for (what, reference) in [
                ("no subscriber", ceiling.publish_per_s),
                ("2 subscribers", ceiling.publish_2_subscribers_per_s),
            ] {
                let advantage = ratio(sent, reference);
                rows.push(Ratio {
                    metric: format!(
                        "relay PUBLISH/s at its knee vs redis-benchmark PUBLISH/s ({what})"
                    ),
                    vroom: sent,
                    peer: reference,
                    advantage,
                    goal: "within 2× (≥ 0.5)".into(),
                    met: Some(advantage >= 0.5),
                });
            }
        }
        self.ratios = rows;
    }

    /// The ratio table as text for the terminal.
    pub fn ratio_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<70} {:>12} {:>12} {:>9}  goal",
            "metric", "Vroom", "peer/ref", "Vroom ×"
        );
        for row in &self.ratios {
            let _ = writeln!(
                out,
                "{:<70} {:>12} {:>12} {:>9.2}  {} {}",
                row.metric,
                num(row.vroom),
                num(row.peer),
                row.advantage,
                row.goal,
                mark(row.met)
            );
        }
        out
    }

    /// The Markdown body of the `## Relay vs Socket.IO peer` section (the
    /// generated part), with charts under `chart_prefix`.
    pub fn markdown(&self, chart_prefix: &str) -> String {
        let mut md = String::new();
        let m = &self.machine;
        let _ = writeln!(
            md,
            "Run {} — `{}`{}.\n",
            m.started,
            self.command,
            if self.quick { " (quick mode)" } else { "" }
        );
        let _ = writeln!(
            md,
            "Machine: {} cores, \"{}\", loopback only, the Redis at `{}`. 1-minute load \
             average {:.2} before, {:.2} after, at most {:.2} between scenarios.\n",
            m.cores, m.cpu, self.redis, m.load_before, m.load_after, m.load_max
        );
        let _ = writeln!(
            md,
            "| metric | Vroom | peer / reference | Vroom better by | goal | met |"
        );
        let _ = writeln!(md, "| --- | ---: | ---: | ---: | --- | --- |");
        for row in &self.ratios {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.2}× | {} | {} |",
                row.metric,
                num(row.vroom),
                num(row.peer),
                row.advantage,
                row.goal,
                mark(row.met)
            );
        }
        if let Some(c) = &self.ceiling {
            let _ = writeln!(
                md,
                "\nRedis ceiling: `{}` → {} PUBLISH/s without subscribers, {} PUBLISH/s with two \
                 subscribed connections reading every message ({}-byte payload: the relay's \
                 envelope around a 256-byte message as base64).",
                c.command,
                num(c.publish_per_s),
                num(c.publish_2_subscribers_per_s),
                c.payload_bytes
            );
        }
        let _ = writeln!(
            md,
            "\n![latency at the fixed load]({chart_prefix}latency.svg)\n\
             ![delivered vs offered]({chart_prefix}throughput.svg)\n\
             ![memory per idle socket]({chart_prefix}memory.svg)\n"
        );
        let runs: Vec<&SystemRun> = std::iter::once(&self.vroom)
            .chain(self.peer.as_ref())
            .collect();
        let _ = writeln!(md, "#### Fan-out steps\n");
        let _ = writeln!(
            md,
            "| system | rooms × members | msg/s per member | offered deliveries/s | sent/s | \
             delivered/s | delivered share | p50 ms | p99 ms | max ms | server CPU (cores) | \
             generator CPU | sustained |"
        );
        let _ = writeln!(
            md,
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        );
        for run in &runs {
            for f in &run.fanout {
                for s in &f.steps {
                    let _ = writeln!(
                        md,
                        "| {} | {}×{} | {} | {} | {} | {} | {:.1}% | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                        run.system.label(),
                        f.rooms,
                        f.members,
                        s.rate_per_member,
                        num(s.offered_per_s),
                        num(s.sent_per_s),
                        num(s.delivered_per_s),
                        s.delivery_ratio * 100.0,
                        s.latency.p50_ms,
                        s.latency.p99_ms,
                        s.latency.max_ms,
                        s.server_cores,
                        s.generator_cores,
                        if s.sustained { "yes" } else { "no" }
                    );
                }
            }
        }
        let _ = writeln!(md);
        for run in &runs {
            for f in &run.fanout {
                let _ = writeln!(
                    md,
                    "- {} {}×{}: knee {} delivered/s ({} sent/s); stopped {}.",
                    run.system.label(),
                    f.rooms,
                    f.members,
                    num(f.knee_delivered_per_s),
                    num(f.knee_sent_per_s),
                    f.stopped_because
                );
            }
        }
        let _ = writeln!(md, "\n#### Latency at the fixed load\n");
        let _ = writeln!(
            md,
            "| system | rooms × members | delivered/s | p50 ms | p90 ms | p99 ms | max ms | server CPU (cores) |"
        );
        let _ = writeln!(
            md,
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for run in &runs {
            if let Some(fixed) = &run.fixed {
                let s = &fixed.step;
                let _ = writeln!(
                    md,
                    "| {} | {}×{} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                    run.system.label(),
                    fixed.rooms,
                    fixed.members,
                    num(s.delivered_per_s),
                    s.latency.p50_ms,
                    s.latency.p90_ms,
                    s.latency.p99_ms,
                    s.latency.max_ms,
                    s.server_cores
                );
            }
        }
        let _ = writeln!(
            md,
            "\n#### Idle sockets (rooms of 4, both nodes together)\n"
        );
        let _ = writeln!(
            md,
            "| system | sockets | join errors | RSS before (MiB) | RSS after (MiB) | bytes per socket | connect time (s) |"
        );
        let _ = writeln!(md, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for run in &runs {
            for p in &run.idle {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.1} | {:.1} | {:.0} | {:.1} |",
                    run.system.label(),
                    p.sockets,
                    p.errors,
                    p.rss_before_kib as f64 / 1024.0,
                    p.rss_after_kib as f64 / 1024.0,
                    p.bytes_per_socket,
                    p.connect_secs
                );
            }
        }
        let _ = writeln!(md, "\n#### Join churn\n");
        let _ = writeln!(
            md,
            "| system | clients | rooms | cycles/s | p50 ms | p99 ms | max ms | errors | server CPU (cores) |"
        );
        let _ = writeln!(
            md,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for run in &runs {
            if let Some(c) = &run.churn {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {:.2} |",
                    run.system.label(),
                    c.clients,
                    c.rooms,
                    num(c.cycles_per_s),
                    c.cycle.p50_ms,
                    c.cycle.p99_ms,
                    c.cycle.max_ms,
                    c.errors,
                    c.server_cores
                );
            }
        }
        md
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::INFINITY }
}

fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "✔",
        Some(false) => "✘",
        None => "",
    }
}

/// A number for a table: thousands separated, at most 2 decimals below 100.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "∞".into();
    }
    if x.abs() < 100.0 {
        return format!("{x:.2}");
    }
    let whole = format!("{:.0}", x);
    let (sign, digits) = whole.split_at(usize::from(whole.starts_with('-')));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}
