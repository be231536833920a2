//! `cargo xtask bench`: benchmarks (not tests).
//!
//! - `cargo xtask bench [--quick]`: Vroom's relay side by side with the
//!   Socket.IO + Redis peer (`../shared/peers/socketio-redis`, installed into
//!   a temporary copy with `npm install`): two nodes of each on the same
//!   Redis, the rooms API serving Vroom's tickets, `vroom-bench compare`
//!   driving both. A full run writes `docs/bench/` and the generated part of
//!   `docs/BENCHMARKS.md` § "Relay vs Socket.IO peer"; `--quick` writes to
//!   `target/bench/quick/` only.
//! - `cargo xtask bench api [--rate 200,500,1000]`: the rooms API alone, on
//!   a private Redis, closed loop or at fixed offered loads, with the server
//!   CPU (host and Redis) per call.
//! - `cargo xtask bench abuse [--scenario memory,join-flood,create-flood,bogus-hellos,connection-flood]`:
//!   another room's joins (and, beside bogus relay Hellos or silent relay
//!   connections, its relay delivery) during floods, and Redis bytes per
//!   room, on a private Redis with the app's and the relay's default limits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::cmd::{self, repo_root, run, step, target_dir};
use crate::redis::{self, Redis};
use crate::{fleet, terminate, tools, wait_for_port};

/// `cargo xtask bench` flags.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Option<BenchTarget>,
    /// Short run (under five minutes); results go to target/bench/quick/.
    #[arg(long)]
    quick: bool,
    /// Measure Vroom only (no Node.js needed).
    #[arg(long)]
    vroom_only: bool,
}

#[derive(clap::Subcommand)]
enum BenchTarget {
    /// Rooms API through the host against Redis: create → join → end per round.
    Api {
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Measured seconds (per rate with `--rate`).
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// Open loop at these offered loads, API calls per second
        /// (e.g. `200,500,1000`) instead of `--clients` closed-loop clients.
        #[arg(long)]
        rate: Option<String>,
        /// Also write the results as JSON here.
        #[arg(long)]
        json: Option<String>,
    },
    /// Isolation under abuse: another room's join latency alone and during a
    /// join flood, a create flood, and floods of bogus relay Hellos and of
    /// silent relay connections from many addresses (and its relay delivery
    /// latency beside those); Redis bytes per room and member.
    Abuse {
        /// Sub-scenarios, in order: memory, join-flood, create-flood,
        /// bogus-hellos, connection-flood.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "memory,join-flood,create-flood,bogus-hellos,connection-flood"
        )]
        scenario: Vec<String>,
        /// Measured seconds per phase.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// Requests per second each flood offers.
        #[arg(long, default_value_t = 300.0)]
        flood_rate: f64,
        /// Also write the results as JSON here.
        #[arg(long)]
        json: Option<String>,
    },
}

/// Runs the chosen benchmark.
pub fn run_bench(args: BenchArgs) -> Result<()> {
    match args.which {
        Some(BenchTarget::Api {
            clients,
            seconds,
            rate,
            json,
        }) => bench_api(clients, seconds, rate, json),
        Some(BenchTarget::Abuse {
            scenario,
            seconds,
            flood_rate,
            json,
        }) => bench_abuse(&scenario, seconds, flood_rate, json),
        None => relay_vs_peer(args.quick, args.vroom_only),
    }
}

/// Child processes stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Default)]
struct Started(Vec<Child>);

impl Drop for Started {
    fn drop(&mut self) {
        for child in &mut self.0 {
            terminate(child);
        }
    }
}

/// Everything that runs, plus the load generator.
fn build_with_bench() -> Result<()> {
    tools::build_all()?;
    step("Building the load generator (release)");
    run(cmd::cargo(&["build", "--release", "-p", "vroom-bench"]))
}

/// Variables of a host whose rate limits are lifted, rooms of up to 64.
const LIFTED_LIMITS: [(&str, &str); 4] = [
    ("RATE_CREATE_PER_MIN", "1000000000"),
    ("RATE_JOIN_PER_MIN", "1000000000"),
    ("RATE_CREATE_GLOBAL_PER_MIN", "1000000000"),
    ("ROOM_MAX_MEMBERS", "64"),
];

/// The host on a free port with a fresh `rate_key_secret`, these
/// `SPIN_VARIABLE_*` overrides and extra flags; `what` says how it is set up.
fn start_host(
    redis: &Redis,
    started: &mut Started,
    variables: &[(&str, &str)],
    flags: &[&str],
    what: &str,
) -> Result<String> {
    let listen = format!("127.0.0.1:{}", redis::free_port()?);
    step(&format!("Starting the host on {listen} ({what})"));
    let mut host = Command::new(target_dir().join("release/vroom"));
    host.args(["up", "-f", "spin.toml", "--listen", &listen])
        .args(flags)
        .current_dir(repo_root())
        .envs(redis.spin_variables())
        .env("SPIN_VARIABLE_RATE_KEY_SECRET", cmd::rate_key_secret()?)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    for (name, value) in variables {
        host.env(format!("SPIN_VARIABLE_{name}"), value);
    }
    started
        .0
        .push(host.spawn().context("cannot start the host")?);
    wait_for_port(&listen)?;
    Ok(listen)
}

/// The host with [`LIFTED_LIMITS`].
fn start_lifted_host(redis: &Redis, started: &mut Started) -> Result<String> {
    start_host(
        redis,
        started,
        &LIFTED_LIMITS,
        &[],
        "rate limits lifted for the benchmark",
    )
}

/// The rooms API alone, on a private Redis so that its CPU time is the
/// API's alone.
fn bench_api(
    clients: usize,
    seconds: f64,
    rate: Option<String>,
    json: Option<String>,
) -> Result<()> {
    build_with_bench()?;
    step("Starting a private Redis");
    let redis = Redis::start_private()?;
    let mut started = Started::default();
    let listen = start_lifted_host(&redis, &mut started)?;
    let host_pid = started.0.last().context("the host just started")?.id();
    let mut bench = Command::new(target_dir().join("release/vroom-bench"));
    bench.args(["api", "--url", &format!("http://{listen}")]);
    bench.args([
        "--host-pid",
        &host_pid.to_string(),
        "--redis",
        &redis.host_port,
    ]);
    bench.args(["--seconds", &seconds.to_string()]);
    match &rate {
        Some(rate) => {
            step(&format!("Offering {rate} calls/s, {seconds} s each"));
            bench.args(["--rate", rate]);
        }
        None => {
            step(&format!("Running {clients} clients for {seconds} s"));
            bench.args(["--clients", &clients.to_string()]);
        }
    }
    if let Some(json) = &json {
        bench.args(["--json", json]);
    }
    let result = run(&mut bench);
    drop(started);
    drop(redis);
    result
}

/// The abuse benchmark: a private Redis (its memory figures are Vroom's
/// alone), the host with the app's default limits (more connections, so the
/// flood's thousand addresses are not refused by the host itself), one relay
/// node with its default limits.
fn bench_abuse(
    scenario: &[String],
    seconds: f64,
    flood_rate: f64,
    json: Option<String>,
) -> Result<()> {
    build_with_bench()?;
    step("Starting a private Redis");
    let redis = Redis::start_private()?;
    let mut started = Started::default();
    // More connections than the default, so the flood's thousand addresses
    // are not refused by the host itself.
    let listen = start_host(
        &redis,
        &mut started,
        &[],
        &["--max-connections", "4096"],
        "the app's default limits",
    )?;
    let (relay, relay_metrics) = start_relay(&redis, 1, &[], &mut started)?;
    let relay = relay.split('=').next().unwrap_or_default().to_string();
    step("Running the abuse scenarios");
    let mut bench = Command::new(target_dir().join("release/vroom-bench"));
    bench
        .args(["abuse", "--api", &format!("http://{listen}")])
        .args(["--redis", &redis.host_port, "--relay", &relay])
        .args(["--relay-metrics", &relay_metrics.to_string()])
        .args(["--scenario", &scenario.join(",")])
        .args(["--seconds", &seconds.to_string()])
        .args(["--flood-rate", &flood_rate.to_string()]);
    if let Some(json) = &json {
        bench.args(["--json", json]);
    }
    let result = run(&mut bench);
    drop(started);
    drop(redis);
    result
}

/// The relay's limits lifted for the comparison with the peer, which has
/// none: the per-socket rate, the per-room publish budget, the per-address
/// cap (the bench's members come from many loopback addresses anyway).
const UNLIMITED_RELAY: &[&str] = &[
    "--rate-per-sec",
    "1000000",
    "--rate-burst",
    "1000000",
    "--room-publish-bytes-per-sec",
    "1000000000000",
    "--room-publish-burst-bytes",
    "1000000000000",
    "--max-connections-per-addr",
    "19500",
];

/// Starts relay node `index` with `limits` (flags); returns `ADDR=PID` and
/// its metrics address. Each node runs on one thread, as each peer node
/// (Node.js) does: two nodes on a two-core machine, one per core, with no
/// cross-thread wake-ups.
fn start_relay(
    redis: &Redis,
    index: usize,
    limits: &[&str],
    started: &mut Started,
) -> Result<(String, std::net::SocketAddr)> {
    let child = Command::new(target_dir().join("release/edge-ws-bridge"))
        .args(["--listen", "127.0.0.1:0", "--redis-url", &redis.url])
        .args(["--metrics-listen", "127.0.0.1:0", "--allow-any-origin"])
        .args(["--node-id", &format!("bench-{index}")])
        .args(limits)
        .args(["--max-connections", "19500", "--threads", "1"])
        .env("RELAY_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start edge-ws-bridge")?;
    let pid = child.id();
    started.0.push(child);
    let (addr, metrics) = started
        .0
        .last_mut()
        .map(fleet::read_listen_addrs)
        .context("the relay just started")??;
    eprintln!("    relay bench-{index} on ws://{addr}/ws (pid {pid})");
    Ok((format!("{addr}={pid}"), metrics))
}

/// Copies the peer into a temporary directory and installs it.
fn install_peer() -> Result<tempfile::TempDir> {
    let root = repo_root();
    let source = root
        .parent()
        .map_or_else(|| PathBuf::from("../shared"), |p| p.join("shared"))
        .join("peers/socketio-redis");
    if !source.join("server.js").exists() {
        bail!("{} is missing (or run with --vroom-only)", source.display());
    }
    if cmd::output(Command::new("node").arg("--version")).is_none()
        || cmd::output(Command::new("npm").arg("--version")).is_none()
    {
        bail!("the peer needs Node.js and npm on PATH (or run with --vroom-only)");
    }
    let dir = tempfile::tempdir()?;
    step(&format!(
        "Installing the Socket.IO peer into {}",
        dir.path().display()
    ));
    for name in ["package.json", "server.js"] {
        std::fs::copy(source.join(name), dir.path().join(name))?;
    }
    let lock = source.join("package-lock.json");
    if lock.exists() {
        std::fs::copy(&lock, dir.path().join("package-lock.json"))?;
    }
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(dir.path()))?;
    Ok(dir)
}

/// Starts a peer node; returns `ADDR=PID`.
fn start_peer(dir: &Path, redis: &Redis, started: &mut Started) -> Result<String> {
    let port = redis::free_port()?;
    let child = Command::new("node")
        .arg(dir.join("server.js"))
        .env("PORT", port.to_string())
        .env("REDIS_URL", &redis.url)
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start the peer")?;
    let pid = child.id();
    started.0.push(child);
    let addr = format!("127.0.0.1:{port}");
    wait_for_port(&addr)?;
    eprintln!("    peer node on {addr} (pid {pid})");
    Ok(format!("{addr}={pid}"))
}

fn relay_vs_peer(quick: bool, vroom_only: bool) -> Result<()> {
    if std::env::var("REDIS_URL").is_ok_and(|url| url.starts_with("rediss://")) {
        bail!(
            "the relay benchmark measures Redis with redis-benchmark over plain TCP: \
             unset REDIS_URL or point it at a redis:// Redis"
        );
    }
    let peer_dir = if vroom_only {
        None
    } else {
        Some(install_peer()?)
    };
    build_with_bench()?;
    step("Finding Redis");
    let redis = Redis::find_or_start()?;
    let mut started = Started::default();
    let api = start_lifted_host(&redis, &mut started)?;
    step("Starting two relay nodes and two peer nodes");
    let mut nodes = Vec::new();
    for index in 1..=2 {
        let (node, _) = start_relay(&redis, index, UNLIMITED_RELAY, &mut started)?;
        nodes.push(("--vroom", node));
    }
    if let Some(dir) = &peer_dir {
        for _ in 1..=2 {
            nodes.push(("--peer", start_peer(dir.path(), &redis, &mut started)?));
        }
    }
    let out: PathBuf = if quick {
        target_dir().join("bench/quick")
    } else {
        repo_root().join("docs/bench")
    };
    let mut shown = String::from("cargo xtask bench");
    if quick {
        shown.push_str(" --quick");
    }
    if vroom_only {
        shown.push_str(" --vroom-only");
    }
    step(&format!(
        "Running the scenarios ({})",
        if quick { "quick" } else { "full" }
    ));
    let mut bench = Command::new(target_dir().join("release/vroom-bench"));
    bench
        .args(["compare", "--api", &format!("http://{api}")])
        .args(["--redis", &redis.host_port])
        .arg("--out")
        .arg(&out)
        .args(["--chart-prefix", "bench/", "--command", &shown]);
    for (flag, spec) in &nodes {
        bench.args([flag, spec.as_str()]);
    }
    if quick {
        bench.arg("--quick");
    }
    let result = run(&mut bench);
    drop(started);
    drop(redis);
    drop(peer_dir);
    result?;
    if !quick {
        let section = std::fs::read_to_string(out.join("relay-vs-peer.md"))?;
        splice_section(&repo_root().join("docs/BENCHMARKS.md"), &section)?;
        eprintln!("    wrote docs/bench/ and docs/BENCHMARKS.md § Relay vs Socket.IO peer");
    } else {
        eprintln!("    quick results in {}", out.display());
    }
    Ok(())
}

const HEADING: &str = "## Relay vs Socket.IO peer";
const BEGIN: &str = "<!-- relay-vs-peer:begin (generated by cargo xtask bench) -->";
const END: &str = "<!-- relay-vs-peer:end -->";

/// Replaces the generated part of the section (between the markers), or
/// appends the section with it.
fn splice_section(path: &Path, generated: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let block = format!("{BEGIN}\n{}\n{END}", generated.trim_end());
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{block}{}", &text[..start], &text[end + END.len()..])
        }
        _ => format!("{}\n\n{HEADING}\n\n{block}\n", text.trim_end()),
    };
    std::fs::write(path, new)?;
    Ok(())
}
