//! `edge-ws-bridge`: Vroom's WebSocket relay node (DESIGN §3, §5, §7).
//!
//! A client connects to `/ws`, sends a hello frame with its room id and the
//! one-time ticket from the rooms API, and gets a member id. Frames are
//! delivered to the room's members on this node directly and published once
//! on the room's Redis channel for the other nodes, which subscribe only to
//! rooms they hold members of. Presence, the idle deadline and the creator's
//! grace period live in Redis; every way a room ends runs the shared
//! `END_ROOM` script. The wire format is [`vroom_shared::relay`].
//!
//! Nothing room-scoped runs before a client is authenticated: a connection
//! takes the node's permit and its client address's before the upgrade, and
//! a hello's ticket is redeemed (one `GETDEL`) before any room task,
//! subscription or room script.
//!
//! Modules: [`config`] (flags), `server` (HTTP, upgrade, metrics address),
//! `limits` (connection permits), `socket` (one task per connection),
//! `room` (one task per room per node), [`flow`] (the chunk lane: byte
//! budgets, file limit, chunk queues), `budget` (token buckets), `bus`
//! (Redis connections and pub/sub through the `redis` crate, TCP or TLS),
//! [`metrics`], [`probe`] (`--healthcheck`).

pub mod config;
pub mod flow;
pub mod metrics;
pub mod probe;

mod budget;
mod bus;
mod limits;
mod queue;
mod room;
mod server;
mod socket;

pub use config::Config;

use bytes::Bytes;
use metrics::Metrics;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use vroom_shared::RoomId;
use vroom_shared::client_addr::ClientAddrSource;
use vroom_shared::redis::scripts::{END_ROOM, MAINTAIN_ROOM, REDEEM_TICKET, REMOVE_MEMBER};

/// The scripts, loaded once (`EVALSHA`, falling back to `EVAL`).
struct Scripts {
    redeem: redis::Script,
    remove: redis::Script,
    maintain: redis::Script,
    end: redis::Script,
}

/// State shared by every task of the node.
pub(crate) struct Node {
    config: Config,
    node_id: Bytes,
    metrics: Arc<Metrics>,
    bus: bus::Bus,
    scripts: Scripts,
    limits: Arc<limits::Limits>,
    addr_source: Option<ClientAddrSource>,
    rooms: Mutex<HashMap<RoomId, queue::Sender<room::RoomCmd>>>,
    next_serial: AtomicU64,
    shutdown: watch::Sender<bool>,
}

impl Node {
    /// The task of `room` on this node, started if needed.
    fn room(self: &Arc<Self>, id: &RoomId) -> queue::Sender<room::RoomCmd> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = rooms.get(id)
            && !tx.is_closed()
        {
            return tx.clone();
        }
        let tx = room::spawn(self.clone(), id.clone());
        rooms.insert(id.clone(), tx.clone());
        tx
    }

    fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn origin_allowed(&self, origin: Option<&http::HeaderValue>) -> bool {
        if self.config.allow_any_origin {
            return true;
        }
        let allowed = &self.config.allowed_origins;
        origin
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| allowed.iter().any(|a| a == o))
    }

    fn ws_config(&self) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
        server::ws_config(&self.config)
    }
}

/// A running relay node.
pub struct Relay {
    node: Arc<Node>,
    addr: SocketAddr,
    metrics_addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    metrics_server: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Connects to Redis, binds the listener and starts serving.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let node_id = config.node_id.clone().unwrap_or_else(default_node_id);
        let metrics = Arc::new(Metrics::default());
        let bus = bus::Bus::start(&config, metrics.clone(), Duration::from_secs(10)).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let metrics_listener = tokio::net::TcpListener::bind(config.metrics_listen).await?;
        let metrics_addr = metrics_listener.local_addr()?;
        let (shutdown, _) = watch::channel(false);
        let limits = limits::Limits::new(config.max_connections, config.max_connections_per_addr);
        let addr_source = config.client_addr_source();
        let node = Arc::new(Node {
            config,
            limits,
            addr_source,
            node_id: Bytes::from(node_id.into_bytes()),
            metrics,
            bus,
            scripts: Scripts {
                redeem: redis::Script::new(REDEEM_TICKET),
                remove: redis::Script::new(REMOVE_MEMBER),
                maintain: redis::Script::new(MAINTAIN_ROOM),
                end: redis::Script::new(END_ROOM),
            },
            rooms: Mutex::new(HashMap::new()),
            next_serial: AtomicU64::new(1),
            shutdown,
        });
        let server = tokio::spawn(server::serve(node.clone(), listener));
        let metrics_server = tokio::spawn(server::serve_metrics(node.clone(), metrics_listener));
        tracing::info!(
            %addr,
            %metrics_addr,
            node = %String::from_utf8_lossy(&node.node_id),
            "relay listening"
        );
        Ok(Self {
            node,
            addr,
            metrics_addr,
            server,
            metrics_server,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address `GET /metrics` is served on.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// This node's id.
    pub fn node_id(&self) -> String {
        String::from_utf8_lossy(&self.node.node_id).into_owned()
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.node.metrics
    }

    /// Graceful shutdown: stop accepting, close every socket with 1012 and
    /// take its member out of presence (rooms are not ended), then return
    /// once sockets are gone or the shutdown timeout passed.
    pub async fn shutdown(self) {
        let _ = self.node.shutdown.send(true);
        let rooms: Vec<_> = {
            let rooms = self.node.rooms.lock().unwrap_or_else(|e| e.into_inner());
            rooms.values().cloned().collect()
        };
        for tx in rooms {
            let _ = tx.send(room::RoomCmd::Shutdown);
        }
        let deadline = tokio::time::Instant::now()
            + Duration::from_millis(self.node.config.shutdown_timeout_ms);
        while tokio::time::Instant::now() < deadline
            && (self.node.metrics.sockets.load(Relaxed) > 0
                || self.node.metrics.rooms.load(Relaxed) > 0)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.server.abort();
        self.metrics_server.abort();
    }
}

fn default_node_id() -> String {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    format!(
        "relay-{}-{:02x}{:02x}{:02x}{:02x}",
        std::process::id(),
        bytes[0],
        bytes[1],
        bytes[2],
        bytes[3]
    )
}
