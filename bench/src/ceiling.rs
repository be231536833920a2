//! The Redis ceiling: `redis-benchmark` running `PUBLISH` with the payload
//! the relay publishes per message (its envelope around a 256 B message as
//! base64), pipelined as the relay's publisher pipelines.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::conn::PAYLOAD_CHARS;

/// What `redis-benchmark` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ceiling {
    /// The command line (payload elided).
    pub command: String,
    /// Bytes per published message.
    pub payload_bytes: usize,
    /// PUBLISH per second to a channel nobody subscribes to.
    pub publish_per_s: f64,
    /// PUBLISH per second with two subscribed connections reading every
    /// message (as the two relay nodes of a room do).
    pub publish_2_subscribers_per_s: f64,
}

/// Bytes the relay publishes per broadcast: envelope header (version, node
/// id length, node id `bench-1`, `to`) + relay frame (type, `from`) + payload.
pub const fn relay_publish_bytes() -> usize {
    1 + 1 + 7 + 4 + 1 + 4 + PAYLOAD_CHARS
}

/// Runs `redis-benchmark` against `host_port` with `requests` PUBLISHes,
/// once without subscribers and once with two.
pub async fn measure(host_port: &str, requests: usize) -> Result<Ceiling> {
    let bare = tokio::task::spawn_blocking({
        let host_port = host_port.to_string();
        move || run(&host_port, requests)
    })
    .await??;
    let mut readers = Vec::new();
    for _ in 0..2 {
        readers.push(subscriber(host_port).await?);
    }
    let subscribed = tokio::task::spawn_blocking({
        let host_port = host_port.to_string();
        move || run(&host_port, requests)
    })
    .await??;
    for reader in readers {
        reader.abort();
    }
    Ok(Ceiling {
        publish_2_subscribers_per_s: subscribed.publish_per_s,
        ..bare
    })
}

/// A connection subscribed to the benchmark channel that reads and drops
/// everything.
async fn subscriber(host_port: &str) -> Result<tokio::task::JoinHandle<()>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(host_port).await?;
    stream
        .write_all(b"SUBSCRIBE vroom-bench-ceiling\r\n")
        .await?;
    let mut buf = vec![0u8; 64];
    let n = stream.read(&mut buf).await?;
    if n == 0 {
        bail!("Redis closed the subscriber");
    }
    Ok(tokio::spawn(async move {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    }))
}

fn run(host_port: &str, requests: usize) -> Result<Ceiling> {
    let (host, port) = host_port.rsplit_once(':').context("--redis host:port")?;
    let payload = "x".repeat(relay_publish_bytes());
    let args = [
        "-h".to_string(),
        host.to_string(),
        "-p".to_string(),
        port.to_string(),
        "-n".to_string(),
        requests.to_string(),
        "-c".to_string(),
        "50".to_string(),
        "-P".to_string(),
        "16".to_string(),
        "-q".to_string(),
        "PUBLISH".to_string(),
        "vroom-bench-ceiling".to_string(),
    ];
    let output = Command::new("redis-benchmark")
        .args(&args)
        .arg(&payload)
        .output()
        .context("cannot run redis-benchmark")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .split(['\r', '\n'])
        .rfind(|l| l.contains("requests per second"))
        .context("no result from redis-benchmark")?;
    let before = line
        .split("requests per second")
        .next()
        .unwrap_or_default()
        .trim_end();
    let number = before.rsplit(' ').next().unwrap_or_default();
    let Ok(publish_per_s) = number.parse::<f64>() else {
        bail!("cannot read redis-benchmark's result: {line:?}");
    };
    Ok(Ceiling {
        command: format!(
            "redis-benchmark {} <{}-byte payload>",
            args.join(" "),
            payload.len()
        ),
        payload_bytes: payload.len(),
        publish_per_s,
        publish_2_subscribers_per_s: 0.0,
    })
}
