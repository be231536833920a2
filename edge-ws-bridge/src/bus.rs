//! Redis: the command connection, the publisher (one FIFO pipeline per node,
//! so frames keep their order), and the subscriber (one pub/sub connection
//! per node, subscribed only to rooms with state here, reconnecting).

use crate::metrics::{self, Metrics};
use crate::room::RoomCmd;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{PushInfo, PushKind, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

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

impl Bus {
    /// Connects (retrying for up to `patience`) and starts the publisher and
    /// subscriber tasks.
    pub async fn start(
        url: &str,
        cluster: bool,
        sharded: bool,
        publish_limit: usize,
        metrics: Arc<Metrics>,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        if cluster {
            return Self::start_cluster(url, publish_limit, metrics, patience).await;
        }
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("invalid Redis URL: {:?}", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(3)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let started = tokio::time::Instant::now();
        let conn = loop {
            match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                Ok(conn) => break conn,
                Err(err) if started.elapsed() < patience => {
                    tracing::warn!(error = ?err.kind(), "Redis not reachable yet, retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => anyhow::bail!("cannot reach Redis: {:?}", err.kind()),
            }
        };
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
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
        tokio::spawn(subscriber(client, sub_rx, sharded, metrics.clone()));
        Ok(Self {
            conn,
            publish_tx,
            sub_tx,
            publish_queued,
            publish_limit,
            metrics,
        })
    }

    async fn start_cluster(
        urls: &str,
        publish_limit: usize,
        metrics: Arc<Metrics>,
        patience: Duration,
    ) -> anyhow::Result<Self> {
        let seeds: Vec<String> = urls.split(',').map(|u| u.trim().to_owned()).collect();
        let client = ClusterClientBuilder::new(seeds.clone())
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| anyhow::anyhow!("invalid Redis Cluster URLs: {:?}", e.kind()))?;
        let started = tokio::time::Instant::now();
        let conn = loop {
            match client.get_async_connection().await {
                Ok(conn) => break conn,
                Err(err) if started.elapsed() < patience => {
                    tracing::warn!(error = ?err.kind(), "Redis Cluster not reachable yet, retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => anyhow::bail!("cannot reach Redis Cluster: {:?}", err.kind()),
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
        tokio::spawn(cluster_subscriber(seeds, sub_rx, metrics.clone()));
        Ok(Self {
            conn,
            publish_tx,
            sub_tx,
            publish_queued,
            publish_limit,
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
                tracing::warn!(error = ?err.kind(), frames = n, "publish failed");
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

async fn subscriber(
    client: redis::Client,
    mut rx: mpsc::UnboundedReceiver<SubCmd>,
    sharded: bool,
    metrics: Arc<Metrics>,
) {
    let (sub_cmd, unsub_cmd) = if sharded {
        ("SSUBSCRIBE", "SUNSUBSCRIBE")
    } else {
        ("SUBSCRIBE", "UNSUBSCRIBE")
    };
    let mut subs: Subscribers = HashMap::new();
    let mut was_up = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        let conn = match tokio::time::timeout(Duration::from_secs(2), connect(&client)).await {
            Ok(Ok(conn)) => Some(conn),
            Ok(Err(err)) => {
                tracing::warn!(error = ?err.kind(), "pub/sub connection failed");
                None
            }
            Err(_) => None,
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
        // Subscribe again to every channel with a room task.
        if !subs.is_empty() {
            let channels: Vec<&[u8]> = subs.keys().map(|c| &c[..]).collect();
            if let Err(err) = conn.command(sub_cmd, &channels).await {
                tracing::warn!(error = ?err.kind(), "resubscribe failed");
                continue;
            }
        }
        metrics.redis_up.store(1, Relaxed);
        if was_up || !subs.is_empty() {
            tracing::info!(rooms = subs.len(), "pub/sub connection to Redis restored");
            notify_all(&subs, || RoomCmd::RedisUp);
        }
        was_up = true;
        let mut ping = tokio::time::interval(Duration::from_secs(5));
        ping.tick().await;
        let lost = loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(SubCmd::Sub { channel, id, tx, ack }) => {
                        let list = subs.entry(channel.clone()).or_default();
                        let fresh = list.is_empty();
                        list.push((id, tx));
                        if fresh {
                            metrics::add(&metrics.subscriptions, 1);
                            if let Err(err) = conn.command(sub_cmd, &[&channel[..]]).await {
                                tracing::warn!(error = ?err.kind(), "subscribe failed");
                                remove(&mut subs, &channel, id, &metrics);
                                let _ = ack.send(false);
                                break true;
                            }
                        }
                        let _ = ack.send(true);
                    }
                    Some(SubCmd::Unsub { channel, id }) => {
                        if remove(&mut subs, &channel, id, &metrics)
                            && conn.command(unsub_cmd, &[&channel[..]]).await.is_err()
                        {
                            break true;
                        }
                    }
                },
                msg = conn.next_message() => match msg {
                    Some((channel, payload)) => {
                        metrics::inc(&metrics.received);
                        if let Some(list) = subs.get(&channel[..]) {
                            for (_, tx) in list {
                                let _ = tx.send(RoomCmd::Bus(payload.clone()));
                            }
                        }
                    }
                    None => break true,
                },
                _ = ping.tick() => {
                    if conn.ping().await.is_err() {
                        break true;
                    }
                }
            }
        };
        if lost {
            metrics.redis_up.store(0, Relaxed);
            tracing::warn!("pub/sub connection to Redis lost, reconnecting");
            notify_all(&subs, || RoomCmd::RedisDown);
        }
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

async fn connect(client: &redis::Client) -> redis::RedisResult<crate::pubsub::PubSubConn> {
    crate::pubsub::PubSubConn::connect(client).await
}

/// The subscriber for a Redis Cluster: sharded subscriptions on a RESP3
/// cluster connection, which sends each `SSUBSCRIBE` to the shard owning the
/// channel's slot and subscribes again after reconnects and slot moves.
async fn cluster_subscriber(
    seeds: Vec<String>,
    mut rx: mpsc::UnboundedReceiver<SubCmd>,
    metrics: Arc<Metrics>,
) {
    let (push_tx, mut push_rx) = mpsc::unbounded_channel::<PushInfo>();
    let client = match ClusterClientBuilder::new(seeds)
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(push_tx)
        .connection_timeout(Duration::from_secs(2))
        .response_timeout(Duration::from_secs(3))
        .build()
    {
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
                tracing::warn!(error = ?err.kind(), "cluster pub/sub connection failed");
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
                            tracing::warn!(error = ?err.kind(), "SSUBSCRIBE failed");
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
                    PushKind::SMessage | PushKind::Message => {
                        if let [Value::BulkString(channel), Value::BulkString(payload)] = &push.data[..] {
                            metrics::inc(&metrics.received);
                            if let Some(list) = subs.get(&channel[..]) {
                                let payload = Bytes::copy_from_slice(payload);
                                for (_, tx) in list {
                                    let _ = tx.send(RoomCmd::Bus(payload.clone()));
                                }
                            }
                        }
                    }
                    PushKind::Disconnection if !down => {
                        down = true;
                        metrics.redis_up.store(0, Relaxed);
                        tracing::warn!("cluster pub/sub connection lost, reconnecting");
                        notify_all(&subs, || RoomCmd::RedisDown);
                    }
                    _ => {}
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
