//! `vroom`: runs the HTTP application a `spin.toml` describes, locally, on
//! wasmtime — the same components, manifest and words as `spin up`.

mod app;
mod manifest;
mod outbound;
mod routing;
mod server;
mod spin;
mod state;
mod variables;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{App, EPOCH_TICK};
use crate::server::ServerLimits;

/// A Spin-compatible local host for Vroom's components.
#[derive(Parser)]
#[command(name = "vroom", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application described by a Spin manifest.
    Up(UpArgs),
    /// Print a component's imports and exports, one per line.
    Inspect {
        /// Path of the component (`.wasm`).
        component: PathBuf,
    },
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "VROOM_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
    /// Directory for compiled components (default: ~/.cache/vroom/wasmtime).
    #[arg(long, env = "VROOM_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not cache compiled components on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Seconds a request may run before it gets 504.
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
    /// Largest request body accepted, in bytes (the rooms API takes 4 KiB).
    #[arg(long, default_value_t = 64 * 1024)]
    max_body: usize,
    /// Seconds a client may take to send its request headers; also how long
    /// a kept-alive connection may wait idle for its next request.
    #[arg(long, default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds a client may take to send its request body (408 beyond).
    #[arg(long, default_value_t = 10.0)]
    body_timeout: f64,
    /// Connections open at once; more are answered 503 and closed.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Requests running a component at once; more are answered 503.
    #[arg(long, default_value_t = 64)]
    max_in_flight: usize,
    /// Runtime worker threads: 1 serves everything on one thread (no
    /// cross-thread wake-ups: the least CPU per request, one core's
    /// throughput), 0 one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up(args) => {
            let mut runtime = match args.threads {
                1 => tokio::runtime::Builder::new_current_thread(),
                n => {
                    let mut builder = tokio::runtime::Builder::new_multi_thread();
                    if n > 1 {
                        builder.worker_threads(n);
                    }
                    builder
                }
            };
            runtime.enable_all().build()?.block_on(up(args))
        }
        Command::Inspect { component } => inspect(&component),
    }
}

async fn up(args: UpArgs) -> Result<()> {
    let cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.or_else(default_cache_dir)
    };
    let limits = ServerLimits {
        request_deadline: seconds(args.request_timeout, "--request-timeout")?,
        max_request_body: args.max_body,
        header_read_timeout: seconds(args.header_timeout, "--header-timeout")?,
        body_read_timeout: seconds(args.body_timeout, "--body-timeout")?,
        max_connections: positive(args.max_connections, "--max-connections")?,
        max_in_flight: positive(args.max_in_flight, "--max-in-flight")?,
    };
    let manifest = args.manifest.clone();
    let app = tokio::task::spawn_blocking(move || {
        App::load(
            &manifest,
            cache_dir.as_deref(),
            limits.max_in_flight,
            |name| std::env::var(name).ok(),
        )
    })
    .await??;
    let app = Arc::new(app);
    let engine = app.engine().clone();
    std::thread::Builder::new()
        .name("epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })?;

    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Serving http://{addr}");
    println!("Available Routes:");
    for route in app.router().routes() {
        println!(
            "  {}: http://{addr}{}",
            app.component_id(route.component),
            route.raw
        );
    }
    server::serve(
        listener,
        app,
        limits,
        shutdown_signal(),
        Duration::from_secs(10),
    )
    .await
}

/// A positive duration in seconds, or an error naming `flag`.
fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero())
        .with_context(|| format!("{flag} must be a positive number of seconds"))
}

/// `value` if it is at least 1, or an error naming `flag`.
fn positive(value: usize, flag: &str) -> Result<usize> {
    anyhow::ensure!(value > 0, "{flag} must be at least 1");
    Ok(value)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                let _ = ctrl_c.await;
                return;
            }
        };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate.recv() => {},
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("vroom").join("wasmtime"))
}

fn inspect(path: &std::path::Path) -> Result<()> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model_async(true);
    let engine = wasmtime::Engine::new(&config)?;
    let component = wasmtime::component::Component::from_file(&engine, path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot load {}", path.display()))?;
    let ty = component.component_type();
    for (name, _) in ty.imports(&engine) {
        println!("import {name}");
    }
    for (name, _) in ty.exports(&engine) {
        println!("export {name}");
    }
    Ok(())
}
