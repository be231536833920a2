//! `cargo xtask`: the project's own commands.
//!
//! - `cargo xtask up` builds everything and runs Vroom locally.
//! - `cargo xtask test` builds what the tests need and runs every test.
//! - `cargo xtask image` builds the container images (`deploy/containers/`).

mod bench;
mod cmd;
mod fleet;
mod image;
mod redis;
mod site;
mod tools;

use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::cmd::{repo_root, run, step, target_dir};
use crate::redis::Redis;

#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the components and the host, then serve Vroom locally.
    Up {
        /// Address to serve on (default: 127.0.0.1:3000, or a free port if that is taken).
        #[arg(long)]
        listen: Option<String>,
        /// Relay nodes to run behind the local round-robin front.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
    },
    /// Build what the tests need and run every test of the project.
    Test {
        /// Skip `cargo clippy` (formatting is still checked).
        #[arg(long)]
        no_clippy: bool,
    },
    /// Build the site into `site/dist` (what the static component serves).
    Site,
    /// Benchmarks (not tests): `cargo xtask bench [--quick]` (relay vs the
    /// Socket.IO peer), `cargo xtask bench api`.
    Bench(bench::BenchArgs),
    /// Build the container images of deploy/containers with podman or
    /// docker: `localhost/vroom-relay:TAG` and `localhost/vroom-http:TAG`.
    Image(image::ImageArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::Up { listen, nodes } => up(listen, nodes),
        Task::Test { no_clippy } => test(!no_clippy),
        Task::Site => {
            tools::ensure_build_tools()?;
            site::build_site()
        }
        Task::Bench(args) => bench::run_bench(args),
        Task::Image(args) => image::run_image(args),
    }
}

fn up(listen: Option<String>, nodes: usize) -> Result<()> {
    if nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    let stop = stop_flag()?;
    tools::build_all()?;
    step("Finding Redis");
    let redis = Redis::find_or_start()?;
    let listen = listen.unwrap_or_else(|| preferred_or_free("127.0.0.1:3000"));
    let port = listen.rsplit(':').next().unwrap_or_default();
    let origins = [
        format!("http://{listen}"),
        format!("http://localhost:{port}"),
    ];

    step(&format!(
        "Starting {nodes} relay node(s) behind a round-robin front"
    ));
    let fleet = fleet::Fleet::start(
        nodes,
        &redis.url,
        &origins,
        &preferred_or_free("127.0.0.1:3001"),
    )?;
    let relay_url = format!("ws://{}/ws", fleet.front);
    eprintln!("    relay front on {relay_url}");

    step(&format!("Starting the app on http://{listen}"));
    let mut host = Command::new(target_dir().join("release/vroom"))
        .args(["up", "-f", "spin.toml", "--listen", &listen])
        .current_dir(repo_root())
        .envs(redis.spin_variables())
        .env("SPIN_VARIABLE_RELAY_URL", &relay_url)
        .env("SPIN_VARIABLE_RATE_KEY_SECRET", cmd::rate_key_secret()?)
        .spawn()
        .context("cannot start the host")?;
    eprintln!("\nVroom is running: open http://{listen} (Ctrl-C stops everything)");
    if let [.., last] = &fleet.nodes()[..]
        && nodes > 1
        && let Some(pid) = last.pid
    {
        eprintln!(
            "A relay node that dies is skipped by the front and started again after {} s: \
             try `kill {pid}` ({}) mid-chat.",
            fleet::RESTART_DELAY.as_secs(),
            last.name
        );
    }
    eprintln!();
    let result = supervise(&mut host, &stop);
    terminate(&mut host);
    drop(fleet);
    drop(redis);
    result
}

/// `preferred` if it is free now, else a free port on 127.0.0.1.
fn preferred_or_free(preferred: &str) -> String {
    if std::net::TcpListener::bind(preferred).is_ok() {
        return preferred.to_string();
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_or_else(|_| preferred.to_string(), |addr| addr.to_string())
}

/// Waits until Ctrl-C or until the host exits on its own (an error; the
/// relay fleet looks after its own nodes).
fn supervise(host: &mut Child, stop: &AtomicBool) -> Result<()> {
    while !stop.load(Ordering::SeqCst) {
        if let Some(status) = host.try_wait()? {
            bail!("the host exited unexpectedly ({status})");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("\nStopping…");
    Ok(())
}

/// Asks a child to stop (SIGTERM), then kills it if it lingers.
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..50 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    Ok(stop)
}

fn wait_for_port(address: &str) -> Result<()> {
    for _ in 0..600 {
        if std::net::TcpStream::connect(address).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on {address} after 60 s")
}

fn test(clippy: bool) -> Result<()> {
    step("Checking formatting");
    run(cmd::cargo(&["fmt", "--all", "--check"]))?;
    tools::ensure_browsers()?;
    let axe = tools::ensure_axe_core()?;
    let container_tool = tools::ensure_container_tool()?;
    tools::build_all()?;
    let image_contexts = image::stage()?;
    step("Finding Redis");
    let redis = Redis::find_or_start()?;

    step("Running the native tests (unit, Redis, and the host serving the real components)");
    run(cmd::cargo(&["test", "--release", "--workspace"])
        .env("REDIS_URL", &redis.url)
        .env("VROOM_HOST_BIN", target_dir().join("release/vroom"))
        .env(
            "VROOM_RELAY_BIN",
            target_dir().join("release/edge-ws-bridge"),
        )
        .env("VROOM_AXE_JS", axe)
        .env("VROOM_CONTAINER_TOOL", container_tool)
        .env("VROOM_IMAGE_CONTEXTS", image_contexts))?;

    step("Running the protocol crate's tests in headless Chromium (wasm32-unknown-unknown)");
    run(cmd::cargo(&[
        "test",
        "--release",
        "-p",
        "vroom-e2e",
        "--target",
        "wasm32-unknown-unknown",
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    )
    .env("CHROMEDRIVER", "/usr/bin/chromedriver"))?;

    if clippy {
        step("Linting (cargo clippy --all-targets -D warnings)");
        run(cmd::cargo(&[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    eprintln!("\nAll tests passed.");
    Ok(())
}
