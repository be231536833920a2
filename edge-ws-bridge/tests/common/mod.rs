//! Test harness: real relay processes, real Redis, real WebSocket clients.
//! Rooms and tickets are made with the shared scripts exactly as the rooms
//! API makes them, so no HTTP host is needed.

#![allow(dead_code)]

use futures_util::{SinkExt as _, StreamExt as _};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use vroom_shared::redis::scripts::{CREATE_ROOM, END_ROOM, EXPEL_MEMBER, JOIN_ROOM, LOCK_ROOM};
use vroom_shared::redis::{
    TICKET_TTL_SECS, TICKETS_PER_SEAT, channel, presence_key, room_key, room_pattern, ticket_key,
    tickets_key,
};
use vroom_shared::relay::{ClientFrame, RelayFrame};
use vroom_shared::{CreatorToken, JoinKey, RoomId, Ticket};
pub use vroom_test_support::random;

pub async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Timings short enough for tests.
pub const FAST: &[&str] = &[
    "--presence-interval-ms",
    "200",
    "--presence-stale-ms",
    "1200",
    "--creator-grace-ms",
    "1500",
    "--creator-leave-grace-ms",
    "500",
    "--ping-interval-ms",
    "10000",
    "--ping-timeout-ms",
    "10000",
    "--hello-timeout-ms",
    "1500",
    "--redis-outage-ms",
    "1500",
    "--shutdown-timeout-ms",
    "3000",
];

/// A relay process, killed when dropped.
pub struct Relay {
    pub child: Child,
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served (not the public port).
    pub metrics_addr: SocketAddr,
}

/// The address in a line `{prefix}ADDR{suffix}` of the relay's stdout.
fn listen_line(line: &str, prefix: &str, suffix: &str) -> SocketAddr {
    line.trim()
        .strip_prefix(prefix)
        .and_then(|s| s.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .parse()
        .unwrap()
}

impl Relay {
    /// Starts a node with [`FAST`] timings, a metrics address of its own
    /// and, unless `extra` lists origins, `--allow-any-origin`.
    pub fn start(redis_url: &str, extra: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_edge-ws-bridge"));
        if !extra.contains(&"--allowed-origin") {
            cmd.arg("--allow-any-origin");
        }
        // Flags in `extra` replace the same flags of FAST.
        let mut args: Vec<&str> = Vec::new();
        for pair in FAST.chunks(2) {
            if !extra.contains(&pair[0]) {
                args.extend_from_slice(pair);
            }
        }
        cmd.args(["--listen", "127.0.0.1:0", "--redis-url", redis_url])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .args(args)
            .args(extra)
            .env(
                "RELAY_LOG",
                std::env::var("RELAY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start relay");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = listen_line(&line, "Listening on ws://", "/ws");
        line.clear();
        stdout.read_line(&mut line).unwrap();
        let metrics_addr = listen_line(&line, "Metrics on http://", "/metrics");
        Self {
            child,
            addr,
            metrics_addr,
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn sigterm(&mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    pub fn wait(&mut self, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits until `/metrics` contains every one of `lines`.
    pub async fn wait_metrics(&self, lines: &[&str], within: Duration) {
        let start = Instant::now();
        loop {
            let body = self.metrics().await;
            if lines.iter().all(|l| body.contains(&format!("{l}\n"))) {
                return;
            }
            assert!(
                start.elapsed() < within,
                "metrics never showed {lines:?}:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET /metrics` on the metrics address.
    pub async fn metrics(&self) -> String {
        let (status, body) = get(self.metrics_addr, "/metrics").await;
        assert_eq!(status, 200);
        body
    }

    /// One counter or gauge of `/metrics` (`name` with its labels).
    pub async fn metric(&self, name: &str) -> i64 {
        let body = self.metrics().await;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{body}"))
    }

    /// `GET path` on the public port.
    pub async fn http_get(&self, path: &str) -> (u16, String) {
        get(self.addr, path).await
    }
}

/// `GET path` over a fresh connection: status and body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A room made as the rooms API makes it.
pub struct TestRoom {
    pub id: RoomId,
    pub join_key: JoinKey,
    pub creator: CreatorToken,
    pub creator_ticket: Ticket,
}

/// The rooms API's default claim deadline (`room_claim_secs`).
pub const CLAIM_SECS: u32 = 60;

pub async fn create_room(
    conn: &mut impl redis::aio::ConnectionLike,
    lifetime_secs: u32,
    idle_secs: u32,
    max_members: u32,
) -> TestRoom {
    let join_key = JoinKey::from_bytes(random());
    let id = RoomId::for_join_key(&join_key);
    let creator = CreatorToken::from_bytes(random());
    let ticket = Ticket::from_bytes(random());
    let reply: Vec<i64> = redis::Script::new(CREATE_ROOM)
        .key(room_key(&id))
        .key(presence_key(&id))
        .key(tickets_key(&id))
        .key(ticket_key(&id, &ticket))
        .arg(join_key.sha256_hex())
        .arg(creator.sha256_hex())
        .arg(lifetime_secs)
        .arg(idle_secs)
        .arg(max_members)
        .arg("create")
        .arg(TICKET_TTL_SECS)
        .arg(TICKETS_PER_SEAT)
        .arg(CLAIM_SECS)
        .invoke_async(conn)
        .await
        .unwrap();
    assert_eq!(reply[0], 1, "room created");
    TestRoom {
        id,
        join_key,
        creator,
        creator_ticket: ticket,
    }
}

impl TestRoom {
    /// A member ticket (or a creator ticket) through JOIN_ROOM.
    pub async fn ticket(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
        creator: bool,
    ) -> Ticket {
        self.try_ticket(conn, creator).await.expect("ticket issued")
    }

    pub async fn try_ticket(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
        creator: bool,
    ) -> Option<Ticket> {
        let ticket = Ticket::from_bytes(random());
        let reply: Vec<i64> = redis::Script::new(JOIN_ROOM)
            .key(room_key(&self.id))
            .key(presence_key(&self.id))
            .key(tickets_key(&self.id))
            .key(ticket_key(&self.id, &ticket))
            .arg(self.join_key.sha256_hex())
            .arg(if creator {
                self.creator.sha256_hex()
            } else {
                String::new()
            })
            .arg(TICKET_TTL_SECS)
            .arg(TICKETS_PER_SEAT)
            .invoke_async(conn)
            .await
            .unwrap();
        (reply[0] == 2).then_some(ticket)
    }

    /// What the API's `POST /api/rooms/{id}/lock` does: `[1, locked]`.
    pub async fn api_lock(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
        locked: bool,
    ) -> Vec<i64> {
        redis::Script::new(LOCK_ROOM)
            .key(room_key(&self.id))
            .arg(self.creator.sha256_hex())
            .arg(if locked { "1" } else { "0" })
            .invoke_async(conn)
            .await
            .unwrap()
    }

    /// What the API's `POST /api/rooms/{id}/remove` does: `[1]` when marked.
    pub async fn api_expel(&self, conn: &mut impl redis::aio::ConnectionLike, member: u32) -> i64 {
        let reply: Vec<i64> = redis::Script::new(EXPEL_MEMBER)
            .key(room_key(&self.id))
            .key(presence_key(&self.id))
            .arg(self.creator.sha256_hex())
            .arg(member)
            .invoke_async(conn)
            .await
            .unwrap();
        reply[0]
    }

    /// What the API's `DELETE /api/rooms/{id}` does.
    pub async fn api_end(&self, conn: &mut impl redis::aio::ConnectionLike) -> i64 {
        self.api_end_with(conn, "PUBLISH").await
    }

    /// `publish`: `PUBLISH`, or `SPUBLISH` for sharded pub/sub.
    pub async fn api_end_with(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
        publish: &str,
    ) -> i64 {
        let reply: Vec<i64> = redis::Script::new(END_ROOM)
            .key(room_key(&self.id))
            .key(presence_key(&self.id))
            .key(tickets_key(&self.id))
            .arg(self.creator.sha256_hex())
            .arg(publish)
            .arg(channel(&self.id))
            .invoke_async(conn)
            .await
            .unwrap();
        reply[0]
    }

    /// Every key of the room still in Redis.
    pub async fn keys(&self, conn: &mut impl redis::aio::ConnectionLike) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(room_pattern(&self.id))
                .arg("COUNT")
                .arg(1000)
                .query_async(conn)
                .await
                .unwrap();
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys
    }

    /// No key of the room remains. A key at its very expiry millisecond
    /// (`PTTL` 0, which the relay already treats as gone) is given a moment.
    pub async fn assert_gone(&self, conn: &mut impl redis::aio::ConnectionLike) {
        let mut keys = self.keys(conn).await;
        for _ in 0..10 {
            if keys.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            keys = self.keys(conn).await;
        }
        if !keys.is_empty() {
            let mut detail = String::new();
            for key in &keys {
                let ttl: i64 = redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap();
                detail.push_str(&format!("{key}: pttl {ttl}\n"));
            }
            let hash: Vec<(String, String)> = redis::cmd("HGETALL")
                .arg(room_key(&self.id))
                .query_async(conn)
                .await
                .unwrap();
            let time: Vec<String> = redis::cmd("TIME").query_async(conn).await.unwrap();
            panic!("keys of the room remain:\n{detail}room hash {hash:?}\nredis time {time:?}");
        }
    }

    pub async fn presence(&self, conn: &mut impl redis::aio::ConnectionLike) -> Vec<u32> {
        redis::cmd("ZRANGE")
            .arg(presence_key(&self.id))
            .arg(0)
            .arg(-1)
            .query_async(conn)
            .await
            .unwrap()
    }

    pub async fn pttl_ms(&self, conn: &mut impl redis::aio::ConnectionLike) -> i64 {
        redis::cmd("PTTL")
            .arg(room_key(&self.id))
            .query_async(conn)
            .await
            .unwrap()
    }
}

/// What a client saw, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Welcome {
        member: u32,
        creator: bool,
    },
    Joined(u32),
    Left(u32),
    Broadcast {
        from: u32,
        payload: Vec<u8>,
    },
    Direct {
        from: u32,
        payload: Vec<u8>,
    },
    /// A file chunk (the chunk lane).
    Chunk {
        from: u32,
        payload: Vec<u8>,
    },
    Pong(Vec<u8>),
    Ended,
    Error(u16),
    /// The room's lock state.
    State {
        locked: bool,
    },
    /// The close frame's code, or `None` for a connection that ended without one.
    Closed(Option<u16>),
}

pub struct Client {
    pub ws: WebSocketStream<TcpStream>,
    pub member: u32,
}

pub async fn connect(addr: SocketAddr, origin: Option<&str>) -> WebSocketStream<TcpStream> {
    connect_with(addr, origin, None).await
}

/// `recv_buffer`: a small kernel receive buffer, for a reader that falls
/// behind quickly.
pub async fn connect_with(
    addr: SocketAddr,
    origin: Option<&str>,
    recv_buffer: Option<u32>,
) -> WebSocketStream<TcpStream> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    if let Some(origin) = origin {
        req.headers_mut().insert("origin", origin.parse().unwrap());
    }
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let tcp = socket.connect(addr).await.unwrap();
    let config = WebSocketConfig::default().max_message_size(Some(1 << 24));
    client_async_with_config(req, tcp, Some(config))
        .await
        .unwrap()
        .0
}

pub async fn next_got(ws: &mut WebSocketStream<TcpStream>, within: Duration) -> Option<Got> {
    loop {
        let msg = match tokio::time::timeout(within, ws.next()).await {
            Err(_) => return None,
            Ok(None) => return Some(Got::Closed(None)),
            Ok(Some(Err(_))) => return Some(Got::Closed(None)),
            Ok(Some(Ok(msg))) => msg,
        };
        return Some(match msg {
            Message::Binary(b) => match RelayFrame::decode(&b).expect("valid relay frame") {
                RelayFrame::Welcome {
                    member, creator, ..
                } => Got::Welcome { member, creator },
                RelayFrame::Joined { member } => Got::Joined(member),
                RelayFrame::Left { member } => Got::Left(member),
                RelayFrame::Broadcast { from, payload } => Got::Broadcast {
                    from,
                    payload: payload.to_vec(),
                },
                RelayFrame::Direct { from, payload } => Got::Direct {
                    from,
                    payload: payload.to_vec(),
                },
                RelayFrame::Pong { data } => Got::Pong(data.to_vec()),
                RelayFrame::Ended => Got::Ended,
                RelayFrame::Error { code, .. } => Got::Error(code),
                RelayFrame::RoomState { locked } => Got::State { locked },
                RelayFrame::Chunk { from, payload } => Got::Chunk {
                    from,
                    payload: payload.to_vec(),
                },
            },
            Message::Close(frame) => Got::Closed(frame.map(|f| u16::from(f.code))),
            _ => continue,
        });
    }
}

/// Connects, says hello, returns the raw stream (no welcome read).
pub async fn hello(addr: SocketAddr, room: &RoomId, ticket: &Ticket) -> WebSocketStream<TcpStream> {
    hello_with(addr, room, ticket, None).await
}

pub async fn hello_with(
    addr: SocketAddr,
    room: &RoomId,
    ticket: &Ticket,
    recv_buffer: Option<u32>,
) -> WebSocketStream<TcpStream> {
    let mut ws = connect_with(addr, None, recv_buffer).await;
    let frame = ClientFrame::Hello {
        room: room.clone(),
        ticket: ticket.clone(),
    }
    .encode();
    ws.send(Message::Binary(frame.into())).await.unwrap();
    ws
}

impl Client {
    /// Joins and reads the welcome; the joined frames of present members
    /// stay queued.
    pub async fn join(addr: SocketAddr, room: &RoomId, ticket: &Ticket) -> Self {
        Self::join_with(addr, room, ticket, None).await
    }

    pub async fn join_with(
        addr: SocketAddr,
        room: &RoomId,
        ticket: &Ticket,
        recv_buffer: Option<u32>,
    ) -> Self {
        let mut ws = hello_with(addr, room, ticket, recv_buffer).await;
        match next_got(&mut ws, Duration::from_secs(5)).await {
            Some(Got::Welcome { member, .. }) => Self { ws, member },
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn send(&mut self, frame: ClientFrame<'_>) {
        self.ws
            .send(Message::Binary(frame.encode().into()))
            .await
            .unwrap();
    }

    pub async fn broadcast(&mut self, payload: &[u8]) {
        self.send(ClientFrame::Broadcast { payload }).await;
    }

    pub async fn direct(&mut self, to: u32, payload: &[u8]) {
        self.send(ClientFrame::Direct { to, payload }).await;
    }

    pub async fn chunk(&mut self, payload: &[u8]) {
        self.send(ClientFrame::Chunk { payload }).await;
    }

    pub async fn leave(&mut self) {
        self.send(ClientFrame::Leave).await;
    }

    pub async fn next(&mut self, within: Duration) -> Option<Got> {
        next_got(&mut self.ws, within).await
    }

    /// The next frame, which must come within 5 s.
    pub async fn expect(&mut self) -> Got {
        self.next(Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    /// Skips frames until `want`; panics after `within`.
    pub async fn wait_for(&mut self, want: &Got, within: Duration) {
        let start = Instant::now();
        loop {
            let left = within.saturating_sub(start.elapsed());
            match self.next(left).await {
                Some(got) if &got == want => return,
                Some(Got::Closed(code)) if !matches!(want, Got::Closed(_)) => {
                    panic!("closed ({code:?}) while waiting for {want:?}")
                }
                Some(_) => continue,
                None => panic!("no {want:?} within {within:?}"),
            }
        }
    }

    /// Reads whatever arrives until `quiet` passes without a frame.
    pub async fn settle(&mut self, quiet: Duration) -> Vec<Got> {
        let mut seen = Vec::new();
        while let Some(got) = self.next(quiet).await {
            seen.push(got);
        }
        seen
    }

    /// Asserts nothing but keep-alives arrive for `within`.
    pub async fn expect_silence(&mut self, within: Duration) {
        if let Some(got) = self.next(within).await {
            panic!("expected nothing, got {got:?}");
        }
    }

    /// Waits for the ended frame and the 4002 close.
    pub async fn expect_ended(&mut self, within: Duration) {
        self.wait_for(&Got::Ended, within).await;
        assert_eq!(self.expect().await, Got::Closed(Some(4002)));
    }

    /// Drops the TCP connection without a leave or close frame.
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

/// A private `redis-server` on a free port in a temporary directory, for
/// tests that stop and restart Redis. Killed when dropped.
pub struct PrivateRedis {
    pub port: u16,
    dir: std::path::PathBuf,
    persistent: bool,
    child: Option<Child>,
}

impl PrivateRedis {
    /// `persistent`: an append-only file synced on every write, so a
    /// restart keeps the data; otherwise nothing is saved.
    pub fn start(persistent: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!(
            "vroom-relay-redis-{}-{port}-{:08x}",
            std::process::id(),
            u32::from_be_bytes(random())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self {
            port,
            dir,
            persistent,
            child: None,
        };
        redis.run();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn run(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", self.dir.to_str().unwrap()])
            .args(["--save", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.persistent {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        self.child = Some(cmd.spawn().expect("redis-server on PATH"));
        let start = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read as _, Write as _};
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 64];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read(&mut buf)
                        .map(|n| buf[..n].starts_with(b"+PONG"))
                        .unwrap_or(false)
                {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (and directory).
    pub fn restart(&mut self) {
        self.kill9();
        self.run();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private three-shard Redis Cluster (no replicas) on free ports, for the
/// cluster-mode tests. Killed when dropped.
pub struct PrivateCluster {
    pub ports: Vec<u16>,
    dir: std::path::PathBuf,
    children: Vec<Child>,
}

impl PrivateCluster {
    pub fn start() -> Self {
        let listeners: Vec<_> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        // Cluster bus ports are port + 10000: keep the ports low enough.
        let mut ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        drop(listeners);
        if ports.iter().any(|p| *p > 55_000) {
            ports = (0..3).map(|_| free_port_below(55_000)).collect();
        }
        let dir = std::env::temp_dir().join(format!(
            "vroom-relay-cluster-{}-{:08x}",
            std::process::id(),
            u32::from_be_bytes(random())
        ));
        let mut children = Vec::new();
        for port in &ports {
            let d = dir.join(port.to_string());
            std::fs::create_dir_all(&d).unwrap();
            children.push(
                Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args([
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                    ])
                    .args(["--save", "", "--appendonly", "no"])
                    .current_dir(&d)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("redis-server on PATH"),
            );
        }
        let cluster = Self {
            ports,
            dir,
            children,
        };
        for port in &cluster.ports {
            wait_ping(*port);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &cluster.ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let status = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "redis-cli --cluster create failed");
        let start = Instant::now();
        loop {
            let ok = cluster.ports.iter().all(|p| {
                Command::new("redis-cli")
                    .args(["-p", &p.to_string(), "cluster", "info"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
                    .unwrap_or(false)
            });
            if ok {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "cluster not ok");
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    /// Seed URLs, comma-separated.
    pub fn urls(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub async fn connection(&self) -> redis::cluster_async::ClusterConnection {
        let urls: Vec<String> = self.urls().split(',').map(str::to_owned).collect();
        redis::cluster::ClusterClient::new(urls)
            .unwrap()
            .get_async_connection()
            .await
            .unwrap()
    }
}

fn free_port_below(max: u16) -> u16 {
    loop {
        let port = 20_000 + u16::from_be_bytes(random()) % (max - 20_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return port;
        }
    }
}

fn wait_ping(port: u16) {
    let start = Instant::now();
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read as _, Write as _};
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 64];
            if s.write_all(b"PING\r\n").is_ok()
                && s.read(&mut buf)
                    .map(|n| buf[..n].starts_with(b"+PONG"))
                    .unwrap_or(false)
            {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
