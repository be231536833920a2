//! Harness for the system tests: starts the real `vroom` host (built by
//! `cargo xtask test`) on the real `spin.toml`, talks to it over HTTP from a
//! unique loopback address per client, and inspects the real Redis.
//! [`browser`] drives the site in real browsers of every engine.

pub mod browser;
pub mod relay_client;

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub use vroom_test_support::{random, redis_url};

/// `host:port` of [`redis_url`].
pub fn redis_host_port() -> String {
    redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_string()
}

/// A connection to the tests' Redis.
pub async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("valid REDIS_URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

/// Every key of room `room_id` that exists in Redis right now.
pub async fn room_keys(room_id: &str) -> Vec<String> {
    let mut redis = redis().await;
    let pattern = format!("vroom:{{{room_id}}}*");
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut redis)
            .await
            .expect("SCAN works");
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; bind it soon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/<prefix>-<16 hex digits>`.
    pub fn new(prefix: &str) -> Self {
        let name: String = random::<8>().iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("{prefix}-{name}"));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` random bytes, base64url without padding.
pub fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh join key (32 bytes) and the room id bound to it (protocol v2), as
/// base64url: `(room_id, join_key)`.
pub fn new_room() -> (String, String) {
    let mut key = [0; 32];
    getrandom::fill(&mut key).expect("randomness");
    let key = vroom_shared::JoinKey::from_bytes(key);
    (
        vroom_shared::RoomId::for_join_key(&key).to_base64(),
        key.to_base64(),
    )
}

/// An HTTP client whose connections come from a random 127.x.y.z address,
/// so each test has its own rate-limit bucket.
pub fn client() -> reqwest::Client {
    let mut octets = [0u8; 3];
    getrandom::fill(&mut octets).expect("randomness");
    let address = Ipv4Addr::new(127, octets[0], octets[1], octets[2].max(2));
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// A running `vroom up`, stopped when dropped.
pub struct Host {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Its `rate_key_secret`: a fresh one per host unless the test set one,
    /// so each host's rate counters (the global budget too) are its own.
    pub rate_key_secret: String,
    log: Log,
}

/// The last lines a process wrote to stderr (echoed with `VROOM_TEST_LOGS`).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    /// Lines kept: enough for a test's own requests, bounded for long ones.
    const KEEP: usize = 400;

    /// Reads `stream` line by line until it ends.
    fn collect(&self, stream: impl AsyncRead + Unpin + Send + 'static) {
        let lines = self.0.clone();
        let echo = std::env::var_os("VROOM_TEST_LOGS").is_some();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if echo {
                    eprintln!("{line}");
                }
                let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                if lines.len() == Self::KEEP {
                    lines.remove(0);
                }
                lines.push(line);
            }
        });
    }

    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
    }
}

impl Host {
    /// Starts the host on the repository's `spin.toml`, with Redis at the
    /// tests' Redis and `SPIN_VARIABLE_*` overrides from `variables`.
    pub async fn start(variables: &[(&str, &str)]) -> Self {
        Self::start_with(&repo_root().join("spin.toml"), variables, &[]).await
    }

    /// Starts the host on `manifest` with variable overrides and extra arguments.
    pub async fn start_with(manifest: &Path, variables: &[(&str, &str)], args: &[&str]) -> Self {
        Self::start_with_env(manifest, variables, args, &[]).await
    }

    /// [`Self::start_with`], with more environment variables for the host
    /// process (e.g. `SSL_CERT_FILE`).
    pub async fn start_with_env(
        manifest: &Path,
        variables: &[(&str, &str)],
        args: &[&str],
        env: &[(&str, &OsStr)],
    ) -> Self {
        let rate_key_secret = variables
            .iter()
            .find(|(name, _)| *name == "rate_key_secret")
            .map_or_else(|| random_b64(32), |(_, value)| (*value).to_owned());
        let binary = std::env::var_os("VROOM_HOST_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/release/vroom"));
        assert!(
            binary.exists(),
            "{} is missing: run the tests with `cargo xtask test`",
            binary.display()
        );
        let mut command = Command::new(binary);
        command
            .arg("up")
            .arg("-f")
            .arg(manifest)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env(
                "SPIN_VARIABLE_REDIS_URL",
                format!("redis://{}", redis_host_port()),
            )
            .env("SPIN_VARIABLE_RATE_KEY_SECRET", &rate_key_secret)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in variables {
            command.env(
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                value,
            );
        }
        let mut child = command.spawn().expect("the host starts");
        let log = Log::default();
        log.collect(child.stderr.take().expect("stderr is piped"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await.expect("host stdout") {
                if let Some(url) = line.strip_prefix("Serving ") {
                    return url.trim().to_string();
                }
            }
            panic!("the host exited before serving");
        })
        .await
        .expect("the host serves within 120 s");
        // Keep draining stdout so the host never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            base,
            rate_key_secret,
            log,
        }
    }

    /// The last lines of the host's log (stderr).
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process id (for its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub async fn terminate(mut self) -> bool {
        terminate(&mut self.child).await
    }
}

/// Sends SIGTERM to `child` and waits (at most 15 s) for it to exit;
/// returns whether it exited cleanly.
async fn terminate(child: &mut Child) -> bool {
    let Some(pid) = child.id() else {
        return false;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    matches!(
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await,
        Ok(Ok(status)) if status.success()
    )
}

/// A running `edge-ws-bridge` relay node, stopped when dropped.
pub struct RelayNode {
    child: Child,
    /// `ws://127.0.0.1:port/ws`.
    pub url: String,
}

impl RelayNode {
    /// Starts a node against the tests' Redis with extra flags, a metrics
    /// address of its own and, unless `args` lists origins,
    /// `--allow-any-origin`.
    pub async fn start(node_id: &str, args: &[&str]) -> Self {
        Self::start_on(&redis_url(), node_id, args).await
    }

    /// [`Self::start`] against the Redis at `redis_url`.
    pub async fn start_on(redis_url: &str, node_id: &str, args: &[&str]) -> Self {
        let mut child = Self::command(redis_url, node_id, args)
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("VROOM_TEST_LOGS").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("the relay starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the relay prints its address within 30 s")
            .expect("relay stdout")
            .expect("a first line");
        let url = first
            .strip_prefix("Listening on ")
            .expect("`Listening on ws://…/ws`")
            .trim()
            .to_string();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, url }
    }

    /// The command that starts a node against `redis_url` (what
    /// [`Self::start_on`] runs; a test that expects the node to refuse to
    /// start runs it itself).
    pub fn command(redis_url: &str, node_id: &str, args: &[&str]) -> Command {
        let binary = std::env::var_os("VROOM_RELAY_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/release/edge-ws-bridge"));
        assert!(
            binary.exists(),
            "{} is missing: run the tests with `cargo xtask test`",
            binary.display()
        );
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--node-id", node_id])
            .args(["--redis-url", redis_url])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .args(if args.contains(&"--allowed-origin") {
                &[][..]
            } else {
                &["--allow-any-origin"][..]
            })
            .args(args);
        command
    }

    /// The process id (for signals).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the node the way a deploy does (SIGTERM: it closes its sockets
    /// with 1012 and leaves their rooms alive) and waits for it to exit;
    /// returns whether it exited cleanly.
    pub async fn terminate(mut self) -> bool {
        terminate(&mut self.child).await
    }
}
