//! Command-line flags and environment variables of a relay node.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use vroom_shared::client_addr::ClientAddrSource;

/// Settings of one relay node. Every flag has an environment variable (shown
/// by `--help`); durations are in milliseconds so tests can shrink them.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "edge-ws-bridge",
    version,
    about = "Vroom's WebSocket relay node"
)]
pub struct Config {
    /// Address to listen on (HTTP/1.1: `/ws` WebSocket, `/healthz`). Port 0
    /// picks a free port; the first line on stdout tells which.
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:3001")]
    pub listen: SocketAddr,

    /// Address of the Prometheus `GET /metrics` endpoint, kept off the
    /// public port (loopback by default). Port 0 picks a free port; the
    /// second line on stdout tells which.
    #[arg(long, env = "RELAY_METRICS_LISTEN", default_value = "127.0.0.1:9091")]
    pub metrics_listen: SocketAddr,

    /// Redis URL: `redis://[user:pass@]host:port[/db]`, or `rediss://…`
    /// for TLS (the server's certificate checked against the system's
    /// roots, `SSL_CERT_FILE`/`SSL_CERT_DIR` if set, or `--redis-ca-file`);
    /// `user:pass` is an ACL user, percent-encoded. With `--redis-cluster`,
    /// comma-separated seed nodes. Never logged.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: String,

    /// PEM file of the CA certificate(s) that signed the Redis server's
    /// certificate, trusted instead of the system's roots (a private or
    /// managed Redis with its own CA). Needs a `rediss://` URL.
    #[arg(long, env = "RELAY_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// This node's id (1–64 bytes), carried in every frame it publishes.
    /// Default: `relay-<pid>-<random>`. Must differ between live nodes.
    #[arg(long, env = "RELAY_NODE_ID")]
    pub node_id: Option<String>,

    /// Allowed `Origin` of WebSocket clients (exact match, e.g.
    /// `https://vroom.example`); repeat or comma-separate. Required: the
    /// node refuses to start without one unless `--allow-any-origin` is
    /// given.
    #[arg(
        long = "allowed-origin",
        env = "RELAY_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Accept WebSocket clients of any `Origin`, or none (development and
    /// tests only; exclusive with `--allowed-origin`).
    #[arg(long, env = "RELAY_ALLOW_ANY_ORIGIN")]
    pub allow_any_origin: bool,

    /// Where a client's address comes from for the per-address connection
    /// cap: a forwarding header that trusted proxies in front append to
    /// (`X-Forwarded-For`, `Forwarded`, `CF-Connecting-IP`, …), read from
    /// its right end (`vroom_shared::client_addr`). Default: the TCP peer
    /// address. A request whose header lacks a usable entry counts in one
    /// shared "unknown" bucket.
    #[arg(long, env = "RELAY_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// Proxies in front that append to `--client-ip-header`: the client's
    /// address is the entry this many places from the right.
    #[arg(long, env = "RELAY_TRUSTED_PROXY_HOPS", default_value_t = 1)]
    pub trusted_proxy_hops: usize,

    /// Most WebSocket connections from one client address (an IPv4 address
    /// or an IPv6 /64); beyond, the upgrade is answered 429.
    #[arg(long, env = "RELAY_MAX_CONNECTIONS_PER_ADDR", default_value_t = 64)]
    pub max_connections_per_addr: usize,

    /// Use Redis sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+). Must
    /// match the rooms API's `redis_sharded_pubsub`.
    #[arg(long, env = "RELAY_SHARDED_PUBSUB")]
    pub sharded_pubsub: bool,

    /// Talk to a Redis Cluster: `--redis-url` lists seed nodes,
    /// comma-separated; commands and scripts are routed by slot (all keys of
    /// a room share its hash tag) and room channels use sharded pub/sub,
    /// subscribed on the shard that owns them. Implies `--sharded-pubsub`.
    #[arg(long, env = "RELAY_REDIS_CLUSTER")]
    pub redis_cluster: bool,

    /// Largest WebSocket message accepted, in bytes (close 4003 beyond).
    /// The default is the protocol's largest legitimate client frame
    /// (`vroom_shared::relay::MAX_CLIENT_FRAME`, 16,487 bytes).
    #[arg(long, env = "RELAY_MAX_FRAME", default_value_t = vroom_shared::relay::MAX_CLIENT_FRAME)]
    pub max_frame: usize,

    /// Frames per second a socket may send on average (refill rate).
    #[arg(long, env = "RELAY_RATE_PER_SEC", default_value_t = 50)]
    pub rate_per_sec: u32,

    /// Frames a socket may send in a burst (bucket size).
    #[arg(long, env = "RELAY_RATE_BURST", default_value_t = 200)]
    pub rate_burst: u32,

    /// Bytes that may wait in one socket's send queue before the socket is
    /// cut off as a slow reader (close 4005).
    #[arg(long, env = "RELAY_SEND_QUEUE_BYTES", default_value_t = 1 << 20)]
    pub send_queue_bytes: usize,

    /// Bytes that may wait to be published to Redis, and (apart) bytes
    /// received from Redis that may wait for the room tasks; beyond, frames
    /// are dropped (counted) rather than buffered without bound.
    #[arg(long, env = "RELAY_PUBLISH_QUEUE_BYTES", default_value_t = 16 << 20)]
    pub publish_queue_bytes: usize,

    /// Bytes per second one room may publish to Redis on average (its
    /// members' frames for other nodes); beyond, they are dropped (counted)
    /// so one busy room cannot use up the node's publish queue.
    #[arg(long, env = "RELAY_ROOM_PUBLISH_BYTES_PER_SEC", default_value_t = 1 << 20)]
    pub room_publish_bytes_per_sec: u64,

    /// Bytes one room may publish in a burst. The default is a quarter of
    /// the default `--publish-queue-bytes`.
    #[arg(long, env = "RELAY_ROOM_PUBLISH_BURST_BYTES", default_value_t = 4 << 20)]
    pub room_publish_burst_bytes: u64,

    /// WebSocket read buffer per socket, in bytes (allocated eagerly; grows
    /// only while a larger frame arrives). 512 holds the smallest E2E
    /// message (354 bytes) in one read and keeps idle sockets small
    /// (`cargo xtask bench`: 2048 → 512 saves ~1.5 KiB per idle socket).
    #[arg(long, env = "RELAY_READ_BUFFER", default_value_t = 512)]
    pub read_buffer: usize,

    /// WebSocket write buffer threshold per socket, in bytes.
    #[arg(long, env = "RELAY_WRITE_BUFFER", default_value_t = 4096)]
    pub write_buffer: usize,

    /// Most connections this node holds on its public port, WebSockets and
    /// connections still in their HTTP handshake alike: beyond, a new
    /// connection is closed at once, before anything is read from it. A
    /// process here may hold at most 20,000 file descriptors.
    #[arg(long, env = "RELAY_MAX_CONNECTIONS", default_value_t = 19_000)]
    pub max_connections: usize,

    /// Interval of WebSocket pings to each client (ms).
    #[arg(long, env = "RELAY_PING_INTERVAL_MS", default_value_t = 20_000)]
    pub ping_interval_ms: u64,

    /// A client silent this long after a ping is dropped as dead (ms).
    #[arg(long, env = "RELAY_PING_TIMEOUT_MS", default_value_t = 20_000)]
    pub ping_timeout_ms: u64,

    /// Handshake deadline (ms): a new connection has this long to send its
    /// HTTP request headers (else it is cut), and again, once upgraded, to
    /// send its hello frame (else close 4007).
    #[arg(long, env = "RELAY_HELLO_TIMEOUT_MS", default_value_t = 5_000)]
    pub hello_timeout_ms: u64,

    /// A write to a client blocked this long cuts it off (ms).
    #[arg(long, env = "RELAY_WRITE_TIMEOUT_MS", default_value_t = 10_000)]
    pub write_timeout_ms: u64,

    /// How often this node refreshes its members' presence, pushes the idle
    /// deadline after activity, and sweeps stale members, per room (ms).
    #[arg(long, env = "RELAY_PRESENCE_INTERVAL_MS", default_value_t = 1_000)]
    pub presence_interval_ms: u64,

    /// A presence entry not refreshed for this long belongs to a dead node:
    /// any node of the room removes it and tells the room (ms).
    #[arg(long, env = "RELAY_PRESENCE_STALE_MS", default_value_t = 10_000)]
    pub presence_stale_ms: u64,

    /// Time the creator has to come back after its connection dropped
    /// without a leave frame, before the room ends (ms).
    #[arg(long, env = "RELAY_CREATOR_GRACE_MS", default_value_t = 30_000)]
    pub creator_grace_ms: u64,

    /// After the creator's leave frame (its tab closed, or reloaded: a page
    /// cannot tell which), how long its creator token may still bring it back
    /// before the room ends (ms). 0 ends the room at once.
    #[arg(long, env = "RELAY_CREATOR_LEAVE_GRACE_MS", default_value_t = 5_000)]
    pub creator_leave_grace_ms: u64,

    /// Redis unreachable this long closes this node's sockets with 1013 (ms).
    #[arg(long, env = "RELAY_REDIS_OUTAGE_MS", default_value_t = 10_000)]
    pub redis_outage_ms: u64,

    /// Runtime worker threads: 1 runs the node on one thread (no
    /// cross-thread wake-ups; run one node per core), 0 one per core.
    #[arg(long, env = "RELAY_THREADS", default_value_t = 0)]
    pub threads: usize,

    /// On SIGTERM/SIGINT, time to close sockets (1012) and take their
    /// members out of presence before exiting (ms).
    #[arg(long, env = "RELAY_SHUTDOWN_TIMEOUT_MS", default_value_t = 5_000)]
    pub shutdown_timeout_ms: u64,

    /// Do not serve: ask the node on `--listen` for `GET /healthz` and exit
    /// 0 if it answered 200, else 1 (the container image's health check).
    #[arg(long)]
    pub healthcheck: bool,

    /// The chunk lane's budgets, file limit and queues.
    #[command(flatten)]
    pub flow: crate::flow::FlowConfig,
}

impl Config {
    /// Parses flags and environment of the given arguments (tests).
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }

    /// Checks values clap cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(id) = &self.node_id
            && !(1..=vroom_shared::relay::MAX_NODE_ID).contains(&id.len())
        {
            anyhow::bail!("--node-id must be 1 to 64 bytes");
        }
        if self.max_frame < vroom_shared::relay::HELLO_LEN {
            anyhow::bail!(
                "--max-frame must be at least {}",
                vroom_shared::relay::HELLO_LEN
            );
        }
        if self.allowed_origins.is_empty() && !self.allow_any_origin {
            anyhow::bail!(
                "no --allowed-origin given: list the site's origin(s), or pass \
                 --allow-any-origin (development only)"
            );
        }
        if self.allow_any_origin && !self.allowed_origins.is_empty() {
            anyhow::bail!("--allow-any-origin and --allowed-origin exclude each other");
        }
        if self.client_ip_header.is_some() && self.trusted_proxy_hops == 0 {
            anyhow::bail!("--trusted-proxy-hops must be at least 1");
        }
        if self.max_connections == 0 || self.max_connections_per_addr == 0 {
            anyhow::bail!("--max-connections and --max-connections-per-addr must be positive");
        }
        if self.room_publish_bytes_per_sec == 0
            || self.room_publish_burst_bytes < vroom_shared::relay::MAX_CLIENT_FRAME as u64
        {
            anyhow::bail!(
                "--room-publish-bytes-per-sec must be positive and \
                 --room-publish-burst-bytes at least {}",
                vroom_shared::relay::MAX_CLIENT_FRAME
            );
        }
        self.flow.validate()?;
        if self.rate_per_sec == 0 || self.rate_burst == 0 {
            anyhow::bail!("--rate-per-sec and --rate-burst must be positive");
        }
        if self.presence_interval_ms == 0 || self.presence_stale_ms <= self.presence_interval_ms {
            anyhow::bail!("--presence-stale-ms must exceed --presence-interval-ms (> 0)");
        }
        if self.ping_interval_ms == 0 {
            anyhow::bail!("--ping-interval-ms must be positive");
        }
        let urls: Vec<&str> = self.redis_url.split(',').map(str::trim).collect();
        let tls = urls.iter().all(|u| u.starts_with("rediss://"));
        if !tls && urls.iter().any(|u| !u.starts_with("redis://")) {
            anyhow::bail!(
                "--redis-url must start with redis:// or rediss:// (TLS), the same for every seed"
            );
        }
        if urls.len() > 1 && !self.redis_cluster {
            anyhow::bail!("several --redis-url seeds need --redis-cluster");
        }
        if self.redis_ca_file.is_some() && !tls {
            anyhow::bail!("--redis-ca-file needs a rediss:// --redis-url");
        }
        Ok(())
    }

    /// Where the client address is read from: `None` for the TCP peer.
    pub fn client_addr_source(&self) -> Option<ClientAddrSource> {
        self.client_ip_header
            .as_ref()
            .map(|name| ClientAddrSource::Header {
                name: name.trim().to_ascii_lowercase(),
                hops: self.trusted_proxy_hops,
            })
    }

    /// Whether room channels use sharded pub/sub.
    pub fn sharded(&self) -> bool {
        self.sharded_pubsub || self.redis_cluster
    }

    /// `PUBLISH` or `SPUBLISH`.
    pub fn publish_command(&self) -> &'static str {
        if self.sharded() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }
}
