//! `edge-ws-bridge`: one relay node. Prints `Listening on ws://ADDR/ws` as
//! its first line on stdout once it serves, and `Metrics on
//! http://ADDR/metrics` as its second; logs go to stderr. `--healthcheck`
//! probes a running node instead (exit status 0 when it is healthy).

use clap::Parser as _;
use edge_ws_bridge::{Config, Relay};
use std::io::Write as _;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELAY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::parse();
    if config.healthcheck {
        if let Err(why) = edge_ws_bridge::probe::check(config.listen) {
            eprintln!("unhealthy: {why}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let mut runtime = match config.threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if n > 1 {
                builder.worker_threads(n);
            }
            builder
        }
    };
    runtime.enable_all().build()?.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let relay = Relay::start(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Listening on ws://{}/ws", relay.local_addr())?;
        writeln!(out, "Metrics on http://{}/metrics", relay.metrics_addr())?;
        out.flush()?;
    }
    wait_for_signal().await;
    tracing::info!("shutting down: closing sockets with 1012");
    relay.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
