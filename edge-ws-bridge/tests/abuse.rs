//! Hostile clients against real relay processes and the real Redis (issue
//! 10): every bound holds, is answered with its documented status or close
//! code, and another room does not notice. Counts and states are asserted,
//! never times.

mod common;

use common::*;
use futures_util::SinkExt as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async};
use vroom_shared::relay::{ClientFrame, MAX_CLIENT_FRAME, MAX_PAYLOAD, close};
use vroom_shared::{RoomId, Ticket};
use vroom_test_support::redis_url;

const S5: Duration = Duration::from_secs(5);

async fn setup() -> (String, redis::aio::MultiplexedConnection) {
    let url = redis_url();
    let conn = redis(&url).await;
    (url, conn)
}

/// A WebSocket upgrade with extra request headers: the socket, or the HTTP
/// status it was refused with (0: closed without one).
async fn upgrade(
    addr: std::net::SocketAddr,
    headers: &[(&str, &str)],
) -> Result<WebSocketStream<TcpStream>, u16> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    for (name, value) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let tcp = TcpStream::connect(addr).await.unwrap();
    match client_async(req, tcp).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => Err(res.status().as_u16()),
        // Closed without an answer (the node's cap).
        Err(_) => Err(0),
    }
}

/// An upgrade that succeeds once the server let go of an earlier
/// connection's permit (it does so just after closing it).
async fn upgrade_eventually(addr: std::net::SocketAddr) -> WebSocketStream<TcpStream> {
    for _ in 0..100 {
        match upgrade(addr, &[]).await {
            Ok(ws) => return ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("the permit never came back");
}

/// A victim room with one member on each of `a` and `b`: the member on `a`
/// sends, the member on `b` must get everything, in order.
struct Victim {
    room: TestRoom,
    sender: Client,
    receiver: Client,
}

impl Victim {
    async fn start(r: &mut redis::aio::MultiplexedConnection, a: &Relay, b: &Relay) -> Self {
        let room = create_room(r, 600, 600, 8).await;
        let sender = Client::join(a.addr, &room.id, &room.creator_ticket).await;
        let t = room.ticket(r, false).await;
        let mut receiver = Client::join(b.addr, &room.id, &t).await;
        receiver.wait_for(&Got::Joined(sender.member), S5).await;
        Self {
            room,
            sender,
            receiver,
        }
    }

    /// Sends `n` numbered messages, one every 5 ms, while the attack runs.
    async fn chat(&mut self, n: u32) {
        let mut pace = tokio::time::interval(Duration::from_millis(5));
        for i in 0..n {
            pace.tick().await;
            self.sender.broadcast(&i.to_be_bytes()).await;
        }
    }

    /// Every one of the `n` messages arrived, in order.
    async fn assert_all_delivered(&mut self, n: u32) {
        for i in 0..n {
            self.receiver
                .wait_for(
                    &Got::Broadcast {
                        from: self.sender.member,
                        payload: i.to_be_bytes().to_vec(),
                    },
                    S5,
                )
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bogus_hellos_start_no_room_task_and_another_room_does_not_notice() {
    let (url, mut r) = setup().await;
    let a = Relay::start(&url, &["--max-connections-per-addr", "1000"]);
    let b = Relay::start(&url, &[]);
    let mut victim = Victim::start(&mut r, &a, &b).await;
    // A live room nobody joined on node a, and the victim's own room: a
    // hello naming either, with a forged ticket, costs as much as any other.
    let unjoined = create_room(&mut r, 600, 600, 8).await;
    assert_eq!(a.metric("relay_room_tasks_started_total").await, 1);
    assert_eq!(a.metric("relay_redis_subscriptions").await, 1);

    const HELLOS: usize = 1000;
    const WORKERS: usize = 20;
    let addr = a.addr;
    let rooms = [unjoined.id.clone(), victim.room.id.clone()];
    let attack = tokio::spawn(async move {
        let workers = (0..WORKERS).map(|w| {
            let rooms = rooms.clone();
            tokio::spawn(async move {
                let mut codes = Vec::new();
                for i in (w..HELLOS).step_by(WORKERS) {
                    let room = match i % 3 {
                        0 => RoomId::from_bytes(random()),
                        n => rooms[n - 1].clone(),
                    };
                    let mut ws = hello(addr, &room, &Ticket::from_bytes(random())).await;
                    codes.push(next_got(&mut ws, S5).await);
                }
                codes
            })
        });
        let mut codes = Vec::new();
        for worker in workers {
            codes.extend(worker.await.unwrap());
        }
        codes
    });
    victim.chat(200).await;
    let codes = attack.await.unwrap();
    assert_eq!(codes.len(), HELLOS);
    assert!(
        codes
            .iter()
            .all(|c| *c == Some(Got::Closed(Some(close::INVALID_TICKET)))),
        "every bogus hello is refused with 4001"
    );
    victim.assert_all_delivered(200).await;

    // No room task, no subscription, no room script: one GETDEL each.
    assert_eq!(a.metric("relay_room_tasks_started_total").await, 1);
    assert_eq!(a.metric("relay_redis_subscriptions").await, 1);
    assert_eq!(
        a.metric("relay_joins_total{result=\"invalid_ticket\"}")
            .await,
        HELLOS as i64
    );
    assert_eq!(a.metric("relay_rooms").await, 1);
    assert!(unjoined.presence(&mut r).await.is_empty());
    victim.room.api_end(&mut r).await;
    unjoined.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_over_the_per_address_cap_is_refused_with_429() {
    let (url, mut r) = setup().await;
    let extra = [
        "--max-connections-per-addr",
        "3",
        "--hello-timeout-ms",
        "20000",
    ];
    // The TCP peer's address: every test socket comes from 127.0.0.1.
    let relay = Relay::start(&url, &extra);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(upgrade(relay.addr, &[]).await.expect("under the cap"));
    }
    assert_eq!(upgrade(relay.addr, &[]).await.err(), Some(429));
    assert_eq!(
        relay
            .metric("relay_refused_total{reason=\"address_cap\"}")
            .await,
        1
    );
    // A socket that ends gives its permit back.
    held.pop().unwrap().close(None).await.unwrap();
    let again = upgrade_eventually(relay.addr).await;
    drop((held, again));

    // Behind a proxy: the address is the right-most X-Forwarded-For entry,
    // IPv6 counted per /64. What the client writes to the left changes
    // nothing.
    let mut extra = extra.to_vec();
    extra.extend(["--client-ip-header", "X-Forwarded-For"]);
    let relay = Relay::start(&url, &extra);
    let xff = |value: &'static str| [("x-forwarded-for", value)];
    let mut held = Vec::new();
    for value in [
        "203.0.113.7",
        "6.6.6.6, 203.0.113.7",
        "1.1.1.1, 203.0.113.7",
    ] {
        held.push(
            upgrade(relay.addr, &xff(value))
                .await
                .expect("under the cap"),
        );
    }
    for forged in ["203.0.113.7", "203.0.113.8, 203.0.113.7"] {
        assert_eq!(upgrade(relay.addr, &xff(forged)).await.err(), Some(429));
    }
    for value in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        held.push(
            upgrade(relay.addr, &xff(value))
                .await
                .expect("under the cap"),
        );
    }
    assert_eq!(
        upgrade(relay.addr, &xff("2001:db8:1:2::99")).await.err(),
        Some(429),
        "one /64"
    );
    // Another address still gets in, joins a room and chats.
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut ws = upgrade(relay.addr, &xff("2001:db8:1:3::1"))
        .await
        .expect("another /64");
    let hello = ClientFrame::Hello {
        room: room.id.clone(),
        ticket: room.creator_ticket.clone(),
    };
    ws.send(Message::Binary(hello.encode().into()))
        .await
        .unwrap();
    assert!(matches!(
        next_got(&mut ws, S5).await,
        Some(Got::Welcome { .. })
    ));
    // Without the header, all such clients share one bucket.
    for _ in 0..3 {
        held.push(upgrade(relay.addr, &[]).await.expect("under the cap"));
    }
    assert_eq!(upgrade(relay.addr, &[]).await.err(), Some(429));
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_cap_and_the_handshake_deadline_bound_idle_connections() {
    let (url, _r) = setup().await;
    let relay = Relay::start(
        &url,
        &["--max-connections", "4", "--hello-timeout-ms", "1000"],
    );
    // Slowloris: request headers that never end.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(relay.addr).await.unwrap();
        s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    // The fifth connection is closed before anything is read.
    let mut s = TcpStream::connect(relay.addr).await.unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        tokio::time::timeout(S5, s.read(&mut buf))
            .await
            .expect("closed at once")
            .unwrap_or(0),
        0
    );
    assert_eq!(
        relay
            .metric("relay_refused_total{reason=\"node_full\"}")
            .await,
        1
    );
    // The handshake deadline cuts the slow ones (maybe after a 408) and
    // frees their permits.
    for s in &mut slow {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(S5, s.read_to_end(&mut answer))
            .await
            .expect("cut at the deadline");
        assert!(
            read.is_err() || answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let mut ws = upgrade_eventually(relay.addr).await;
    // And an upgraded socket that never says hello: 4007.
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::TIMEOUT)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frame_limit_is_the_protocols_largest_frame() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut a = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(relay.addr, &room.id, &t).await;
    a.wait_for(&Got::Joined(b.member), S5).await;
    // The largest legitimate frames pass: a Direct around the largest
    // payload, and a Broadcast of the same size.
    let largest = vec![3u8; MAX_PAYLOAD];
    b.direct(a.member, &largest).await;
    a.wait_for(
        &Got::Direct {
            from: b.member,
            payload: largest.clone(),
        },
        S5,
    )
    .await;
    let broadcast = vec![4u8; MAX_CLIENT_FRAME - 1];
    b.broadcast(&broadcast).await;
    a.wait_for(
        &Got::Broadcast {
            from: b.member,
            payload: broadcast,
        },
        S5,
    )
    .await;
    // One byte more: 4003, and the room hears the member left.
    b.broadcast(&vec![5u8; MAX_CLIENT_FRAME]).await;
    b.wait_for(&Got::Closed(Some(close::FRAME_TOO_LARGE)), S5)
        .await;
    a.wait_for(&Got::Left(b.member), S5).await;
    assert_eq!(
        relay
            .metric("relay_dropped_total{reason=\"too_large\"}")
            .await,
        1
    );
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_ping_floods_are_rate_limited() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &["--rate-per-sec", "20", "--rate-burst", "20"]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut a = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut flood = Client::join(relay.addr, &room.id, &t).await;
    a.wait_for(&Got::Joined(flood.member), S5).await;
    for _ in 0..200 {
        if flood.ws.send(Message::Ping(vec![1].into())).await.is_err() {
            break;
        }
    }
    flood.wait_for(&Got::Error(close::RATE_LIMITED), S5).await;
    flood
        .wait_for(&Got::Closed(Some(close::RATE_LIMITED)), S5)
        .await;
    a.wait_for(&Got::Left(flood.member), S5).await;
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_tickets_count_toward_max_members() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 2).await;
    // Tickets taken while the room is empty: a second creator ticket and a
    // member's.
    let creator_again = room.ticket(&mut r, true).await;
    let member = room.ticket(&mut r, false).await;
    let _creator = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let _member = Client::join(relay.addr, &room.id, &member).await;
    let mut third = hello(relay.addr, &room.id, &creator_again).await;
    assert_eq!(
        next_got(&mut third, S5).await,
        Some(Got::Closed(Some(close::ROOM_FULL)))
    );
    assert_eq!(room.presence(&mut r).await.len(), 2);
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_busy_room_cannot_use_up_the_nodes_publish_queue() {
    let (url, mut r) = setup().await;
    // A publish queue of 256 KiB per node, a publish budget of 64 KiB per
    // room: a room that floods loses its own frames, not other rooms'.
    let extra = [
        "--publish-queue-bytes",
        "262144",
        "--room-publish-bytes-per-sec",
        "16384",
        "--room-publish-burst-bytes",
        "65536",
        "--rate-per-sec",
        "100000",
        "--rate-burst",
        "100000",
    ];
    let a = Relay::start(&url, &extra);
    let b = Relay::start(&url, &extra);
    let mut victim = Victim::start(&mut r, &a, &b).await;
    let busy = create_room(&mut r, 600, 600, 8).await;
    let mut flooder = Client::join(a.addr, &busy.id, &busy.creator_ticket).await;
    let t = busy.ticket(&mut r, false).await;
    let mut far = Client::join(b.addr, &busy.id, &t).await;
    far.wait_for(&Got::Joined(flooder.member), S5).await;

    const FLOOD: usize = 400;
    let flood = tokio::spawn(async move {
        let payload = vec![9u8; 8192];
        for _ in 0..FLOOD {
            flooder.broadcast(&payload).await;
        }
        flooder
    });
    victim.chat(100).await;
    let _flooder = flood.await.unwrap();
    victim.assert_all_delivered(100).await;
    let mut got = 0;
    while let Some(frame) = far.next(Duration::from_millis(500)).await {
        if matches!(frame, Got::Broadcast { .. }) {
            got += 1;
        }
    }
    assert!(got < FLOOD, "the busy room went over its budget: {got}");
    assert!(
        a.metric("relay_dropped_total{reason=\"room_publish_budget\"}")
            .await
            > 0
    );
    assert_eq!(a.metric("relay_redis_publish_dropped_total").await, 0);
    victim.room.api_end(&mut r).await;
    busy.api_end(&mut r).await;
}

#[test]
fn the_relay_refuses_to_start_without_an_origin_allow_list() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edge-ws-bridge"))
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .args(["--redis-url", &redis_url()])
        .env_remove("RELAY_ALLOWED_ORIGINS")
        .env_remove("RELAY_ALLOW_ANY_ORIGIN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allowed-origin"), "{stderr}");
    assert!(out.stdout.is_empty(), "never listened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_address_only() {
    let (url, _r) = setup().await;
    let relay = Relay::start(&url, &[]);
    assert_eq!(relay.http_get("/metrics").await.0, 404);
    assert_eq!(get(relay.metrics_addr, "/metrics").await.0, 200);
    assert_eq!(get(relay.metrics_addr, "/ws").await.0, 404);
    assert_eq!(relay.http_get("/healthz").await.0, 200);
    assert!(relay.metrics_addr.ip().is_loopback());
}
