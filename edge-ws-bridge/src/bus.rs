//! Redis: the command connection, the publisher (one FIFO pipeline per node,
//! so frames keep their order), and the subscriber (one RESP3 pub/sub
//! connection per node, subscribed only to rooms with state here,
//! reconnecting). Everything goes through the `redis` crate, over TCP or
//! TLS (`rediss://`, rustls) with the URL's ACL user.

use crate::config::Config;
use crate::metrics::{self, Metrics};
use crate::room::RoomCmd;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{
    AsyncConnectionConfig, IntoConnectionInfo as _, ProtocolVersion, PushInfo, PushKind,
    RedisError, TlsCertificates, Value,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long opening a Redis connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one Redis command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

/// One message for a room channel.
pub(crate) struct Publish {
    pub channel: Bytes,
    pub payload: Bytes,
}

pub(crate) enum SubCmd {
    Sub {
        channel: Bytes,
        id: u64,
        tx: crate::queue::Sender<RoomCmd>,
        ack: oneshot::Sender<bool>,
    },
    Unsub {
        channel: Bytes,
        id: u64,
    },
}

/// The command connection: one Redis (multiplexed, reconnecting) or a
/// Redis Cluster (routed by slot, reconnecting).
#[derive(Clone)]
pub(crate) enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Handles to the node's Redis connections.
#[derive(Clone)]
pub(crate) struct Bus {
    /// Commands and scripts.
    pub conn: RedisConn,
    publish_tx: mpsc::UnboundedSender<Publish>,
    sub_tx: mpsc::UnboundedSender<SubCmd>,
    /// Bytes waiting to be published, and the most that may wait.
    publish_queued: Arc<AtomicUsize>,
    publish_limit: usize,
    metrics: Arc<Metrics>,
}

/// What an error says about the Redis link, for logs and for the operator:
/// the `redis` crate's text (never a URL or a password), and for a TLS
/// failure the certificate problem rustls found.
pub(crate) fn describe(err: &RedisError) -> String {
    match tls_problem(err) {
        Some(problem) => format!(
            "TLS handshake with Redis failed: {problem} (is the server's CA trusted? \
             see --redis-ca-file)"
        ),
        None => err.to_string(),
    }
}

/// The rustls error behind `err`, if a TLS handshake failed.
fn tls_problem(err: &RedisError) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(tls) = rustls_error(e) {
            return Some(tls.to_string());
        }
        source = e.source();
    }
    None
}

/// `e` as a rustls error: itself, inside an I/O error (tokio-rustls), or
/// inside the `Arc` the `redis` crate keeps I/O errors in (whose `source`
/// skips the I/O error itself).
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    }
    e.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>()
        .and_then(|inner| rustls_error(&**inner))
}

/// A failure that retrying cannot mend: a certificate rustls refuses, or
/// credentials Redis refuses.
fn is_permanent(err: &RedisError) -> bool {
    tls_problem(err).is_some()
        || err.kind() == redis::ErrorKind::AuthenticationFailed
        || err
            .code()
            .is_some_and(|code| matches!(code, "WRONGPASS" | "NOPERM" | "NOAUTH"))
}

/// The CA certificates of `--redis-ca-file`, if given.
fn tls_roots(config: &Config) -> anyhow::Result<Option<TlsCertificates>> {
    let Some(path) = &config.redis_ca_file else {
        return Ok(None);
    };
    let pem = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("--redis-ca-file {}: {e}", path.display()))?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        anyhow::bail!(
            "--redis-ca-file {}: no PEM certificate in it",
            path.display()
        );
    }
    Ok(Some(TlsCertificates {
        client_tls: None,
        root_cert: Some(pem),
    }))
}

/// A client for one Redis `url`, speaking `protocol`, trusting `roots` for
/// `rediss://` if given.
fn client(
    url: &str,
    protocol: ProtocolVersion,
    roots: Option<&TlsCertificates>,
) -> anyhow::Result<redis::Client> {
    let invalid = |e: RedisError| anyhow::anyhow!("invalid Redis URL: {:?}", e.kind());
    let info = url.into_connection_info().map_err(invalid)?;
    let settings = info.redis_settings().clone().set_protocol(protocol);
    let info = info.set_redis_settings(settings);
    match roots {
        Some(roots) => redis::Client::build_with_tls(info, roots.clone()).map_err(invalid),
        None => redis::Client::open(info).map_err(invalid),
    }
}

impl Bus {
    /// Connects (retrying for up to `patience`, but not past a certificate
    /// or credentials Redis refuses) and starts the publisher and subscriber
    /// tasks.
    pub async fn start(
        config: &Config,
        metrics: Arc<Metrics>,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let roots = tls_roots(config)?;
        if config.redis_cluster {
            return Self::start_cluster(config, roots, metrics, patience).await;
        }
        let url = config.redis_url.trim();
        let commands = client(url, ProtocolVersion::RESP2, roots.as_ref())?;
        let subscriptions = client(url, ProtocolVersion::RESP3, roots.as_ref())?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let started = tokio::time::Instant::now();
        let conn = loop {
            match ConnectionManager::new_with_config(commands.clone(), manager.clone()).await {
                Ok(conn) => break conn,
                Err(err) if started.elapsed() < patience && !is_permanent(&err) => {
                    tracing::warn!(error = %describe(&err), "Redis not reachable yet, retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => anyhow::bail!("cannot use Redis: {}", describe(&err)),
            }
        };
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let sharded = config.sharded();
        let command = if sharded { "SPUBLISH" } else { "PUBLISH" };
        let publish_queued = Arc::new(AtomicUsize::new(0));
        let conn = RedisConn::Single(conn);
        tokio::spawn(publisher(
            conn.clone(),
            publish_rx,
            command,
            metrics.clone(),
            publish_queued.clone(),
        ));
        let (ready, subscribed) = oneshot::channel();
        tokio::spawn(subscriber(
            subscriptions,
            sub_rx,
            sharded,
            config.publish_queue_bytes,
            metrics.clone(),
            ready,
        ));
        wait_for_pubsub(subscribed, started, patience).await?;
        Ok(Self {
            conn,
            publish_tx,
            sub_tx,
            publish_queued,
            publish_limit: config.publish_queue_bytes,
            metrics,
        })
    }

    async fn start_cluster(
        config: &Config,
        roots: Option<TlsCertificates>,
        metrics: Arc<Metrics>,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let seeds: Vec<String> = config
            .redis_url
            .split(',')
            .map(|u| u.trim().to_owned())
            .collect();
        let mut builder = ClusterClientBuilder::new(seeds.clone())
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT);
        if let Some(roots) = roots.clone() {
            builder = builder.certs(roots);
        }
        let client = builder
            .build()
            .map_err(|e| anyhow::anyhow!("invalid Redis Cluster URLs: {:?}", e.kind()))?;
        let started = tokio::time::Instant::now();
        let conn = loop {
            match client.get_async_connection().await {
                Ok(conn) => break conn,
                Err(err) if started.elapsed() < patience && !is_permanent(&err) => {
                    tracing::warn!(error = %describe(&err), "Redis Cluster not reachable yet, retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => anyhow::bail!("cannot use Redis Cluster: {}", describe(&err)),
            }
        };
        let conn = RedisConn::Cluster(conn);
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let publish_queued = Arc::new(AtomicUsize::new(0));
        tokio::spawn(publisher(
            conn.clone(),
            publish_rx,
            "SPUBLISH",
            metrics.clone(),
            publish_queued.clone(),
        ));
        let (ready, subscribed) = oneshot::channel();
        tokio::spawn(cluster_subscriber(
            seeds,
            roots,
            sub_rx,
            config.publish_queue_bytes,
            metrics.clone(),
            ready,
        ));
        wait_for_pubsub(subscribed, started, patience).await?;
        Ok(Self {
            conn,
            publish_tx,
            sub_tx,
            publish_queued,
            publish_limit: config.publish_queue_bytes,
            metrics,
        })
    }

    /// Queues one message; the publisher sends queued messages in order.
    /// While Redis lags by more than the publish queue limit, messages are
    /// dropped (counted) instead of buffered without bound.
    pub fn publish(&self, channel: &Bytes, payload: Bytes) {
        let len = payload.len();
        if self.publish_queued.fetch_add(len, Relaxed) + len > self.publish_limit {
            self.publish_queued.fetch_sub(len, Relaxed);
            metrics::inc(&self.metrics.publish_dropped);
            return;
        }
        let _ = self.publish_tx.send(Publish {
            channel: channel.clone(),
            payload,
        });
    }

    /// Bytes waiting to be published.
    pub fn publish_backlog(&self) -> usize {
        self.publish_queued.load(Relaxed)
    }

    /// Subscribes `tx` (the room task `id`) to `channel`; true once Redis
    /// confirmed the subscription.
    pub async fn subscribe(
        &self,
        channel: &Bytes,
        id: u64,
        tx: crate::queue::Sender<RoomCmd>,
    ) -> bool {
        let (ack, rx) = oneshot::channel();
        let sent = self.sub_tx.send(SubCmd::Sub {
            channel: channel.clone(),
            id,
            tx,
            ack,
        });
        sent.is_ok() && rx.await.unwrap_or(false)
    }

    /// Drops the subscription of room task `id`.
    pub fn unsubscribe(&self, channel: &Bytes, id: u64) {
        let _ = self.sub_tx.send(SubCmd::Unsub {
            channel: channel.clone(),
            id,
        });
    }
}

/// Waits (within what is left of `patience` since `started`) until the
/// subscriber's connection is up, so a node that says it listens can
/// already hear the other nodes.
async fn wait_for_pubsub(
    subscribed: oneshot::Receiver<()>,
    started: tokio::time::Instant,
    patience: Duration,
) -> anyhow::Result<()> {
    let left = patience
        .saturating_sub(started.elapsed())
        .max(CONNECT_TIMEOUT);
    match tokio::time::timeout(left, subscribed).await {
        Ok(Ok(())) => Ok(()),
        _ => anyhow::bail!("the pub/sub connection to Redis did not come up (see the log above)"),
    }
}

async fn publisher(
    mut conn: RedisConn,
    mut rx: mpsc::UnboundedReceiver<Publish>,
    command: &'static str,
    metrics: Arc<Metrics>,
    queued: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for p in &batch {
            pipe.cmd(command)
                .arg(&p.channel[..])
                .arg(&p.payload[..])
                .ignore();
        }
        let n = batch.len() as u64;
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                metrics.published.fetch_add(n, Relaxed);
            }
            Err(err) => {
                metrics.publish_errors.fetch_add(n, Relaxed);
                tracing::warn!(error = %describe(&err), frames = n, "publish failed");
            }
        }
        let bytes: usize = batch.iter().map(|p| p.payload.len()).sum();
        queued.fetch_sub(bytes, Relaxed);
        batch.clear();
    }
}

type Subscribers = HashMap<Bytes, Vec<(u64, crate::queue::Sender<RoomCmd>)>>;

fn notify_all(subs: &Subscribers, cmd: fn() -> RoomCmd) {
    for list in subs.values() {
        for (_, tx) in list {
            let _ = tx.send(cmd());
        }
    }
}

/// Where a connection's driver hands its pushes to the subscriber task,
/// without ever waiting: at most `limit` bytes of messages wait; beyond,
/// messages are dropped and counted (the bound Redis' own output buffer
/// limit gave the old hand-written client, which read only as fast as it
/// delivered). Confirmations and the disconnection notice always pass.
struct PushSink {
    tx: mpsc::UnboundedSender<PushInfo>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    metrics: Arc<Metrics>,
}

/// The receiving side of a [`PushSink`].
struct PushQueue {
    rx: mpsc::UnboundedReceiver<PushInfo>,
    queued: Arc<AtomicUsize>,
}

/// A push for [`PushSink`], and how many bytes of message it holds.
fn push_size(push: &PushInfo) -> usize {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return 0;
    }
    push.data
        .iter()
        .map(|value| match value {
            Value::BulkString(bytes) => bytes.len(),
            _ => 0,
        })
        .sum()
}

/// A sink bounded by `limit` bytes and the queue it fills.
fn push_channel(limit: usize, metrics: Arc<Metrics>) -> (PushSink, PushQueue) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let sink = PushSink {
        tx,
        queued: queued.clone(),
        limit,
        metrics,
    };
    (sink, PushQueue { rx, queued })
}

impl redis::aio::AsyncPushSender for PushSink {
    fn send(&self, push: PushInfo) -> Result<(), redis::aio::SendError> {
        let size = push_size(&push);
        if size > 0 && self.queued.fetch_add(size, Relaxed) + size > self.limit {
            self.queued.fetch_sub(size, Relaxed);
            metrics::inc(&self.metrics.received_dropped);
            return Ok(());
        }
        self.tx.send(push).map_err(|_| redis::aio::SendError)
    }
}

impl PushQueue {
    async fn recv(&mut self) -> Option<PushInfo> {
        let push = self.rx.recv().await?;
        self.queued.fetch_sub(push_size(&push), Relaxed);
        Some(push)
    }
}

/// A room channel's message in a RESP3 push (`message`/`smessage`).
fn as_message(push: PushInfo) -> Option<(Vec<u8>, Bytes)> {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return None;
    }
    let mut data = push.data.into_iter();
    match (data.next(), data.next()) {
        (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) => {
            Some((channel, Bytes::from(payload)))
        }
        _ => None,
    }
}

/// Hands a message to the room tasks subscribed to its channel.
fn deliver(subs: &Subscribers, metrics: &Metrics, push: PushInfo) {
    if let Some((channel, payload)) = as_message(push) {
        metrics::inc(&metrics.received);
        if let Some(list) = subs.get(&channel[..]) {
            for (_, tx) in list {
                let _ = tx.send(RoomCmd::Bus(payload.clone()));
            }
        }
    }
}

/// One (un)subscribe command for one channel: on RESP3 its confirmation is
/// its reply.
async fn channel_command(
    conn: &mut MultiplexedConnection,
    command: &str,
    channel: &[u8],
) -> redis::RedisResult<()> {
    redis::cmd(command).arg(channel).query_async(conn).await
}

/// The subscriber for one Redis: a RESP3 connection whose pushes carry the
/// messages, subscribed to every channel with a room task here (again after
/// each reconnect); rooms hear when it goes down and comes back.
async fn subscriber(
    client: redis::Client,
    mut rx: mpsc::UnboundedReceiver<SubCmd>,
    sharded: bool,
    queue_limit: usize,
    metrics: Arc<Metrics>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let (sub_cmd, unsub_cmd) = if sharded {
        ("SSUBSCRIBE", "SUNSUBSCRIBE")
    } else {
        ("SUBSCRIBE", "UNSUBSCRIBE")
    };
    let mut subs: Subscribers = HashMap::new();
    let mut was_up = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        // A fresh push channel per connection: a disconnection notice of an
        // earlier connection never ends this one.
        let (push_tx, mut push_rx) = push_channel(queue_limit, metrics.clone());
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_push_sender(push_tx);
        let conn = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => Some(conn),
            Err(err) => {
                tracing::warn!(error = %describe(&err), "pub/sub connection failed");
                None
            }
        };
        let Some(mut conn) = conn else {
            // While Redis is away, refuse subscriptions and wait.
            let sleep = tokio::time::sleep(backoff);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    cmd = rx.recv() => match cmd {
                        None => return,
                        Some(SubCmd::Sub { ack, .. }) => {
                            let _ = ack.send(false);
                        }
                        Some(SubCmd::Unsub { channel, id }) => {
                            remove(&mut subs, &channel, id, &metrics);
                        }
                    },
                }
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        };
        backoff = Duration::from_millis(100);
        // Subscribe again to every channel with a room task, in one
        // pipeline of one command per channel.
        if !subs.is_empty() {
            let mut pipe = redis::pipe();
            for channel in subs.keys() {
                pipe.cmd(sub_cmd).arg(&channel[..]).ignore();
            }
            if let Err(err) = pipe.query_async::<()>(&mut conn).await {
                tracing::warn!(error = %describe(&err), "resubscribe failed");
                continue;
            }
        }
        metrics.redis_up.store(1, Relaxed);
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        if was_up || !subs.is_empty() {
            tracing::info!(rooms = subs.len(), "pub/sub connection to Redis restored");
            notify_all(&subs, || RoomCmd::RedisUp);
        }
        was_up = true;
        let mut ping = tokio::time::interval(Duration::from_secs(5));
        ping.tick().await;
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(SubCmd::Sub { channel, id, tx, ack }) => {
                        let list = subs.entry(channel.clone()).or_default();
                        let fresh = list.is_empty();
                        list.push((id, tx));
                        if fresh {
                            metrics::add(&metrics.subscriptions, 1);
                            if let Err(err) = channel_command(&mut conn, sub_cmd, &channel).await {
                                tracing::warn!(error = %describe(&err), "subscribe failed");
                                remove(&mut subs, &channel, id, &metrics);
                                let _ = ack.send(false);
                                break;
                            }
                        }
                        let _ = ack.send(true);
                    }
                    Some(SubCmd::Unsub { channel, id }) => {
                        if remove(&mut subs, &channel, id, &metrics)
                            && channel_command(&mut conn, unsub_cmd, &channel).await.is_err()
                        {
                            break;
                        }
                    }
                },
                push = push_rx.recv() => match push {
                    Some(push) if push.kind == PushKind::Disconnection => break,
                    Some(push) => deliver(&subs, &metrics, push),
                    None => break,
                },
                _ = ping.tick() => {
                    if redis::cmd("PING").query_async::<Value>(&mut conn).await.is_err() {
                        break;
                    }
                }
            }
        }
        metrics.redis_up.store(0, Relaxed);
        tracing::warn!("pub/sub connection to Redis lost, reconnecting");
        notify_all(&subs, || RoomCmd::RedisDown);
    }
}

/// Removes room task `id` from `channel`; true if that was the last one.
fn remove(subs: &mut Subscribers, channel: &Bytes, id: u64, metrics: &Metrics) -> bool {
    let Some(list) = subs.get_mut(channel) else {
        return false;
    };
    list.retain(|(i, _)| *i != id);
    if list.is_empty() {
        subs.remove(channel);
        metrics::add(&metrics.subscriptions, -1);
        true
    } else {
        false
    }
}

/// The subscriber for a Redis Cluster: sharded subscriptions on a RESP3
/// cluster connection, which sends each `SSUBSCRIBE` to the shard owning the
/// channel's slot and subscribes again after reconnects and slot moves.
async fn cluster_subscriber(
    seeds: Vec<String>,
    roots: Option<TlsCertificates>,
    mut rx: mpsc::UnboundedReceiver<SubCmd>,
    queue_limit: usize,
    metrics: Arc<Metrics>,
    ready: oneshot::Sender<()>,
) {
    let (push_tx, mut push_rx) = push_channel(queue_limit, metrics.clone());
    let mut builder = ClusterClientBuilder::new(seeds)
        .use_protocol(ProtocolVersion::RESP3)
        .push_sender(push_tx)
        .connection_timeout(CONNECT_TIMEOUT)
        .response_timeout(RESPONSE_TIMEOUT);
    if let Some(roots) = roots {
        builder = builder.certs(roots);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = ?err.kind(), "cluster pub/sub client");
            return;
        }
    };
    let mut subs: Subscribers = HashMap::new();
    let mut conn = loop {
        match client.get_async_connection().await {
            Ok(conn) => break conn,
            Err(err) => {
                tracing::warn!(error = %describe(&err), "cluster pub/sub connection failed");
                let sleep = tokio::time::sleep(Duration::from_millis(500));
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        cmd = rx.recv() => match cmd {
                            None => return,
                            Some(SubCmd::Sub { ack, .. }) => {
                                let _ = ack.send(false);
                            }
                            Some(SubCmd::Unsub { .. }) => {}
                        },
                    }
                }
            }
        }
    };
    metrics.redis_up.store(1, Relaxed);
    let _ = ready.send(());
    let mut down = false;
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                None => return,
                Some(SubCmd::Sub { channel, id, tx, ack }) => {
                    if down {
                        let _ = ack.send(false);
                        continue;
                    }
                    let list = subs.entry(channel.clone()).or_default();
                    let fresh = list.is_empty();
                    list.push((id, tx));
                    if fresh {
                        metrics::add(&metrics.subscriptions, 1);
                        if let Err(err) = conn.ssubscribe(&channel[..]).await {
                            tracing::warn!(error = %describe(&err), "SSUBSCRIBE failed");
                            remove(&mut subs, &channel, id, &metrics);
                            let _ = ack.send(false);
                            continue;
                        }
                    }
                    let _ = ack.send(true);
                }
                Some(SubCmd::Unsub { channel, id }) => {
                    if remove(&mut subs, &channel, id, &metrics) {
                        let _ = conn.sunsubscribe(&channel[..]).await;
                    }
                }
            },
            push = push_rx.recv() => {
                let Some(push) = push else { return };
                match push.kind {
                    PushKind::Disconnection if !down => {
                        down = true;
                        metrics.redis_up.store(0, Relaxed);
                        tracing::warn!("cluster pub/sub connection lost, reconnecting");
                        notify_all(&subs, || RoomCmd::RedisDown);
                    }
                    PushKind::Disconnection => {}
                    _ => deliver(&subs, &metrics, push),
                }
            }
            _ = check.tick() => {
                let ok = redis::cmd("PING").query_async::<Value>(&mut conn).await.is_ok();
                if down && ok {
                    down = false;
                    metrics.redis_up.store(1, Relaxed);
                    tracing::info!(rooms = subs.len(), "cluster pub/sub connection restored");
                    notify_all(&subs, || RoomCmd::RedisUp);
                } else if !down && !ok {
                    down = true;
                    metrics.redis_up.store(0, Relaxed);
                    notify_all(&subs, || RoomCmd::RedisDown);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::aio::AsyncPushSender as _;

    fn message(payload: usize) -> PushInfo {
        PushInfo {
            kind: PushKind::Message,
            data: vec![
                Value::BulkString(b"vroom:{room}:ch".to_vec()),
                Value::BulkString(vec![0; payload]),
            ],
        }
    }

    #[tokio::test]
    async fn the_push_queue_holds_at_most_its_limit_and_counts_what_it_drops() {
        let metrics = Arc::new(Metrics::default());
        let channel = b"vroom:{room}:ch".len();
        let (sink, mut queue) = push_channel(3 * (channel + 1000), metrics.clone());
        for _ in 0..5 {
            sink.send(message(1000)).unwrap();
        }
        assert_eq!(metrics.received_dropped.load(Relaxed), 2);
        // The disconnection notice always passes.
        sink.send(PushInfo {
            kind: PushKind::Disconnection,
            data: Vec::new(),
        })
        .unwrap();
        for _ in 0..3 {
            assert_eq!(queue.recv().await.map(|p| p.kind), Some(PushKind::Message));
        }
        assert_eq!(
            queue.recv().await.map(|p| p.kind),
            Some(PushKind::Disconnection)
        );
        // Taken messages make room again.
        sink.send(message(1000)).unwrap();
        assert_eq!(metrics.received_dropped.load(Relaxed), 2);
        assert!(as_message(queue.recv().await.unwrap()).is_some());
    }
}
