//! Smoke test of `vroom-bench compare` on tiny settings (a few seconds), so
//! the benchmark never rots: the real host (tickets through the rooms API)
//! and two real relay nodes, as the system tests start them. The Socket.IO
//! peer runs too when `VROOM_PEER_DIR` names an installed copy of it
//! (`npm install` done); `cargo xtask test` does not need Node.js.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use vroom_system_tests::{Host, RelayNode};

fn spec(node: &RelayNode) -> String {
    let addr = node
        .url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_string();
    format!("{addr}={}", node.pid().expect("the relay runs"))
}

/// Two peer nodes, if `VROOM_PEER_DIR` holds an installed peer.
async fn peers() -> Vec<(Child, String)> {
    let Some(dir) = std::env::var_os("VROOM_PEER_DIR").map(PathBuf::from) else {
        return Vec::new();
    };
    if !dir.join("node_modules").exists() {
        return Vec::new();
    }
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("node")
            .arg(dir.join("server.js"))
            .env("PORT", port.to_string())
            .env("REDIS_URL", vroom_system_tests::redis_url())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let pid = child.id().expect("the peer runs");
        nodes.push((child, format!("{addr}={pid}")));
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_runs_on_tiny_settings() {
    let host = Host::start(&[
        ("rate_create_per_min", "1000000000"),
        ("rate_join_per_min", "1000000000"),
    ])
    .await;
    // As `cargo xtask bench` lifts them: the peer has no such limits.
    let lifted = [
        "--rate-per-sec",
        "1000000",
        "--rate-burst",
        "1000000",
        "--room-publish-bytes-per-sec",
        "1000000000000",
        "--room-publish-burst-bytes",
        "1000000000000",
    ];
    let a = RelayNode::start("smoke-bench-1", &lifted).await;
    let b = RelayNode::start("smoke-bench-2", &lifted).await;
    let peers = peers().await;
    let out = std::env::temp_dir().join(format!("vroom-bench-smoke-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_vroom-bench"));
    command
        .args(["compare", "--smoke", "--api", &host.base])
        .args(["--vroom", &spec(&a), "--vroom", &spec(&b)])
        .arg("--out")
        .arg(&out);
    for (_, spec) in &peers {
        command.args(["--peer", spec]);
    }
    let status = tokio::time::timeout(Duration::from_secs(120), command.status())
        .await
        .expect("the smoke run ends within 120 s")
        .expect("vroom-bench runs");
    assert!(status.success(), "vroom-bench compare --smoke failed");

    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("relay-vs-peer.json")).expect("the JSON report"),
    )
    .expect("valid JSON");
    let mut systems = vec![&report["vroom"]];
    if !peers.is_empty() {
        systems.push(&report["peer"]);
    }
    for run in systems {
        assert_eq!(run["idle"][0]["sockets"], 40, "{run}");
        assert_eq!(run["idle"][0]["errors"], 0, "{run}");
        assert!(run["fixed"]["step"]["delivered_per_s"].as_f64() > Some(0.0));
        // Too short to judge a knee: only check that frames flowed.
        assert!(run["fanout"][0]["steps"][0]["delivered_per_s"].as_f64() > Some(0.0));
        assert!(run["churn"]["cycles_per_s"].as_f64() > Some(0.0));
    }
    for chart in ["latency.svg", "throughput.svg", "memory.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).expect("a chart");
        assert!(svg.starts_with("<svg"));
    }
    assert!(
        std::fs::read_to_string(out.join("relay-vs-peer.md"))
            .expect("the Markdown")
            .contains("| metric |")
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// `vroom-bench api` in its open-loop mode, briefly: every call answered,
/// and the host's CPU time per call measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_open_loop_runs_on_tiny_settings() {
    let host = Host::start(&[
        ("rate_create_per_min", "1000000000"),
        ("rate_join_per_min", "1000000000"),
    ])
    .await;
    let json = std::env::temp_dir().join(format!("vroom-bench-api-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_vroom-bench"))
        .args(["api", "--url", &host.base, "--rate", "150"])
        .args(["--seconds", "2", "--warmup", "0.5"])
        .args([
            "--host-pid",
            &host.pid().expect("the host runs").to_string(),
        ])
        .arg("--json")
        .arg(&json)
        .status()
        .await
        .expect("vroom-bench runs");
    assert!(status.success(), "vroom-bench api --rate failed");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON report")).expect("JSON");
    let _ = std::fs::remove_file(&json);
    assert_eq!(report["offered_calls_per_second"], 150.0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    // 2 s at 150 calls/s: about 300 calls, in whole rounds of 3.
    let calls = report["all"]["requests"].as_u64().expect("a count");
    assert!((240..=330).contains(&calls), "{report}");
    assert!(
        report["server_cpu"]["host_us_per_call"].as_f64() > Some(0.0),
        "{report}"
    );
    assert!(
        report["server_cpu"]["redis_us_per_call"].is_null(),
        "{report}"
    );
}
