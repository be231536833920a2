//! Relay behaviour against real relay processes, the real Redis and real
//! WebSocket clients: joining, fan-out on one and two nodes, isolation,
//! every way a room ends (DESIGN §3), node crashes, limits.

mod common;

use common::*;
use std::time::{Duration, Instant};
use vroom_shared::relay::{ClientFrame, close};
use vroom_test_support::redis_url;

const S5: Duration = Duration::from_secs(5);

async fn setup() -> (String, redis::aio::MultiplexedConnection) {
    let url = redis_url();
    let conn = redis(&url).await;
    (url, conn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_welcome_broadcast_direct_ping() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;

    let mut a = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(relay.addr, &room.id, &t).await;
    assert_ne!(a.member, b.member);
    // The newcomer hears of everyone present; the others hear of the newcomer.
    assert_eq!(b.expect().await, Got::Joined(a.member));
    assert_eq!(a.expect().await, Got::Joined(b.member));
    let t = room.ticket(&mut r, false).await;
    let mut c = Client::join(relay.addr, &room.id, &t).await;
    let mut present = vec![c.expect().await, c.expect().await];
    present.sort_by_key(|g| format!("{g:?}"));
    assert_eq!(present, vec![Got::Joined(a.member), Got::Joined(b.member)]);
    assert_eq!(a.expect().await, Got::Joined(c.member));
    assert_eq!(b.expect().await, Got::Joined(c.member));
    assert_eq!(room.presence(&mut r).await.len(), 3);

    a.broadcast(b"hello").await;
    let want = Got::Broadcast {
        from: a.member,
        payload: b"hello".to_vec(),
    };
    assert_eq!(b.expect().await, want);
    assert_eq!(c.expect().await, want);
    b.direct(c.member, b"secret").await;
    assert_eq!(
        c.expect().await,
        Got::Direct {
            from: b.member,
            payload: b"secret".to_vec()
        }
    );
    a.send(ClientFrame::Ping { data: b"k" }).await;
    assert_eq!(a.expect().await, Got::Pong(b"k".to_vec()));
    // The sender never gets its own broadcast, and only C got the direct.
    a.expect_silence(Duration::from_millis(300)).await;
    b.expect_silence(Duration::from_millis(100)).await;

    // A member leaving: everyone is told, the room lives on.
    c.leave().await;
    assert_eq!(c.expect().await, Got::Closed(Some(close::NORMAL)));
    assert_eq!(a.expect().await, Got::Left(c.member));
    assert_eq!(b.expect().await, Got::Left(c.member));
    let start = Instant::now();
    while room.presence(&mut r).await.len() != 2 {
        assert!(start.elapsed() < S5, "presence not updated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!room.keys(&mut r).await.is_empty());

    let (status, body) = relay.http_get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(
        relay.http_get("/metrics").await.0,
        404,
        "not on the public port"
    );
    let body = relay.metrics().await;
    assert!(body.contains("relay_members 2\n"), "{body}");
    assert!(
        body.contains("relay_joins_total{result=\"ok\"} 3\n"),
        "{body}"
    );
    assert_eq!(relay.http_get("/nope").await.0, 404);

    // The creator leaving ends the room.
    a.leave().await;
    b.expect_ended(S5).await;
    assert_eq!(a.expect().await, Got::Closed(Some(close::NORMAL)));
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_broadcast_direct_order_and_isolation() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &["--node-id", "n1"]);
    let n2 = Relay::start(&url, &["--node-id", "n2"]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let other = create_room(&mut r, 600, 600, 8).await;

    let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n2.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut c = Client::join(n2.addr, &room.id, &t).await;
    let mut x = Client::join(n1.addr, &other.id, &other.creator_ticket).await;
    let t = other.ticket(&mut r, false).await;
    let mut y = Client::join(n2.addr, &other.id, &t).await;

    assert_eq!(b.expect().await, Got::Joined(a.member));
    a.wait_for(&Got::Joined(c.member), S5).await;
    b.wait_for(&Got::Joined(c.member), S5).await;
    y.wait_for(&Got::Joined(x.member), S5).await;
    x.wait_for(&Got::Joined(y.member), S5).await;
    let mut seen = c.settle(Duration::from_millis(300)).await;
    seen.sort_by_key(|g| format!("{g:?}"));
    assert_eq!(seen, vec![Got::Joined(a.member), Got::Joined(b.member)]);
    for m in [&mut a, &mut b, &mut x, &mut y] {
        assert_eq!(m.settle(Duration::from_millis(50)).await, vec![]);
    }

    // Order from one sender is kept across nodes.
    for i in 0..200u32 {
        a.broadcast(&i.to_be_bytes()).await;
    }
    for rx in [&mut b, &mut c] {
        for i in 0..200u32 {
            assert_eq!(
                rx.expect().await,
                Got::Broadcast {
                    from: a.member,
                    payload: i.to_be_bytes().to_vec()
                }
            );
        }
    }
    // Direct across nodes reaches only its addressee.
    a.direct(c.member, b"to c").await;
    assert_eq!(
        c.expect().await,
        Got::Direct {
            from: a.member,
            payload: b"to c".to_vec()
        }
    );
    c.direct(a.member, b"to a").await;
    assert_eq!(
        a.expect().await,
        Got::Direct {
            from: c.member,
            payload: b"to a".to_vec()
        }
    );
    b.expect_silence(Duration::from_millis(300)).await;
    // Nothing crossed into the other room, and the other room works.
    x.expect_silence(Duration::from_millis(100)).await;
    y.expect_silence(Duration::from_millis(100)).await;
    y.broadcast(b"y").await;
    assert_eq!(
        x.expect().await,
        Got::Broadcast {
            from: y.member,
            payload: b"y".to_vec()
        }
    );
    a.expect_silence(Duration::from_millis(200)).await;

    // The API ends the room: every socket on both nodes closes with 4002.
    assert_eq!(room.api_end(&mut r).await, 1);
    for m in [&mut a, &mut b, &mut c] {
        m.expect_ended(S5).await;
    }
    room.assert_gone(&mut r).await;
    // The other room is untouched.
    x.broadcast(b"still").await;
    assert_eq!(
        y.expect().await,
        Got::Broadcast {
            from: x.member,
            payload: b"still".to_vec()
        }
    );
    assert_eq!(other.api_end(&mut r).await, 1);
    x.expect_ended(S5).await;
    y.expect_ended(S5).await;
    // Both nodes dropped their state and subscriptions.
    for n in [&n1, &n2] {
        n.wait_metrics(
            &[
                "relay_rooms 0",
                "relay_redis_subscriptions 0",
                "relay_sockets 0",
            ],
            S5,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_leave_ends_the_room_across_nodes() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut m1 = Client::join(n1.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut m2 = Client::join(n2.addr, &room.id, &t).await;
    m2.wait_for(&Got::Joined(m1.member), S5).await;
    let started = Instant::now();
    creator.leave().await;
    m1.expect_ended(S5).await;
    m2.expect_ended(S5).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    creator
        .wait_for(&Got::Closed(Some(close::NORMAL)), S5)
        .await;
    room.assert_gone(&mut r).await;
    // A ticket issued before the end is worthless now.
    assert!(room.try_ticket(&mut r, false).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_drop_ends_the_room_after_the_grace_period() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let creator_id = creator.member;
    let t = room.ticket(&mut r, false).await;
    let mut m = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(m.expect().await, Got::Joined(creator_id));
    let dropped = Instant::now();
    creator.drop_connection();
    assert_eq!(m.expect().await, Got::Left(creator_id));
    // Still live within the grace period (1.5 s here)...
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!room.keys(&mut r).await.is_empty());
    // ...and over after it.
    m.expect_ended(S5).await;
    let took = dropped.elapsed();
    assert!(took >= Duration::from_millis(1400), "ended after {took:?}");
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_alone_drop_then_grace_ends_on_one_node() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    creator.drop_connection();
    // The node keeps watching the grace period with no member left.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!room.keys(&mut r).await.is_empty());
    let start = Instant::now();
    while !room.keys(&mut r).await.is_empty() {
        assert!(
            start.elapsed() < S5,
            "room did not end after the grace period"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_reload_within_grace_keeps_the_room() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let old_id = creator.member;
    let t = room.ticket(&mut r, false).await;
    let mut m = Client::join(n1.addr, &room.id, &t).await;
    assert_eq!(m.expect().await, Got::Joined(old_id));
    creator.drop_connection();
    assert_eq!(m.expect().await, Got::Left(old_id));
    // The reloaded tab asks the API for a creator ticket and lands on n2.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = room.ticket(&mut r, true).await;
    let mut creator = Client::join(n2.addr, &room.id, &t).await;
    assert_ne!(creator.member, old_id, "member ids are never reused");
    assert_eq!(creator.expect().await, Got::Joined(m.member));
    assert_eq!(m.expect().await, Got::Joined(creator.member));
    // Well past the grace period: still live.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    m.broadcast(b"still here").await;
    assert_eq!(
        creator.expect().await,
        Got::Broadcast {
            from: m.member,
            payload: b"still here".to_vec()
        }
    );
    // The returned creator's leave ends it.
    creator.leave().await;
    m.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_leave_then_reload_keeps_the_room_and_a_close_ends_it() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut m = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(m.expect().await, Got::Joined(creator.member));
    assert_eq!(creator.expect().await, Got::Joined(m.member));
    // A reload: the page sends leave on `pagehide`, then comes straight back
    // with its creator token (within the 500 ms leave grace of these tests).
    creator.leave().await;
    let t = room.ticket(&mut r, true).await;
    let mut creator = Client::join(n1.addr, &room.id, &t).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    m.broadcast(b"after the reload").await;
    loop {
        match creator.expect().await {
            Got::Broadcast { payload, .. } => {
                assert_eq!(payload, b"after the reload".to_vec());
                break;
            }
            Got::Joined(_) | Got::Left(_) => continue,
            other => panic!("the room must survive a reload: {other:?}"),
        }
    }
    // A closed tab: leave, and nobody comes back. The room ends within the grace.
    creator.leave().await;
    m.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_member_leaving_ends_the_room() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    // One node.
    let room = create_room(&mut r, 600, 600, 8).await;
    let t = room.ticket(&mut r, false).await;
    let mut a = Client::join(n1.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n1.addr, &room.id, &t).await;
    a.leave().await;
    assert_eq!(b.expect().await, Got::Joined(a.member));
    assert_eq!(b.expect().await, Got::Left(a.member));
    b.leave().await;
    assert_eq!(b.expect().await, Got::Closed(Some(close::NORMAL)));
    wait_gone(&room, &mut r).await;
    // Two nodes, the last one drops without a leave frame.
    let room = create_room(&mut r, 600, 600, 8).await;
    let t = room.ticket(&mut r, false).await;
    let mut a = Client::join(n1.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n2.addr, &room.id, &t).await;
    a.wait_for(&Got::Joined(b.member), S5).await;
    a.leave().await;
    b.wait_for(&Got::Left(a.member), S5).await;
    b.drop_connection();
    wait_gone(&room, &mut r).await;
}

async fn wait_gone(room: &TestRoom, r: &mut redis::aio::MultiplexedConnection) {
    let start = Instant::now();
    while !room.keys(r).await.is_empty() {
        assert!(
            start.elapsed() < S5,
            "room keys remain: {:?}",
            room.keys(r).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_room_ends_within_a_second_of_its_deadline() {
    idle_room(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_room_ends_within_a_second_of_its_deadline_on_one_node() {
    idle_room(false).await;
}

/// Members on two nodes, or both on one.
async fn idle_room(two_nodes: bool) {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = if two_nodes {
        Some(Relay::start(&url, &[]))
    } else {
        None
    };
    let second = n2.as_ref().map_or(n1.addr, |n| n.addr);
    let room = create_room(&mut r, 600, 2, 8).await;
    let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(second, &room.id, &t).await;
    a.wait_for(&Got::Joined(b.member), S5).await;
    // Activity moves the deadline: talk for 3 s (longer than the idle limit).
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        a.broadcast(b"tick").await;
        b.wait_for(
            &Got::Broadcast {
                from: a.member,
                payload: b"tick".to_vec(),
            },
            S5,
        )
        .await;
    }
    // Let the activity reach Redis, then go quiet.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pttl = room.pttl_ms(&mut r).await;
    assert!(pttl > 0, "room still live after activity");
    let deadline = Instant::now() + Duration::from_millis(pttl as u64);
    a.expect_ended(Duration::from_secs(4)).await;
    let late_a = Instant::now().saturating_duration_since(deadline);
    b.expect_ended(Duration::from_secs(4)).await;
    let late_b = Instant::now().saturating_duration_since(deadline);
    assert!(
        late_a < Duration::from_secs(1),
        "closed {late_a:?} after the deadline"
    );
    assert!(
        late_b < Duration::from_secs(1),
        "closed {late_b:?} after the deadline"
    );
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_cap_ends_a_busy_room_on_time() {
    lifetime_cap(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_cap_ends_a_busy_room_on_time_on_one_node() {
    lifetime_cap(false).await;
}

async fn lifetime_cap(two_nodes: bool) {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &[]);
    let n2 = if two_nodes {
        Some(Relay::start(&url, &[]))
    } else {
        None
    };
    let second = n2.as_ref().map_or(n1.addr, |n| n.addr);
    let room = create_room(&mut r, 3, 600, 8).await;
    let pttl = room.pttl_ms(&mut r).await;
    let deadline = Instant::now() + Duration::from_millis(pttl as u64);
    let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(second, &room.id, &t).await;
    let talker = tokio::spawn(async move {
        // Keep talking until the room closes.
        loop {
            a.broadcast(b"busy").await;
            if let Some(Got::Ended) = a.next(Duration::from_millis(100)).await {
                assert_eq!(a.expect().await, Got::Closed(Some(close::ROOM_ENDED)));
                return Instant::now();
            }
        }
    });
    b.expect_ended(Duration::from_secs(6)).await;
    let closed_b = Instant::now();
    let closed_a = talker.await.unwrap();
    for closed in [closed_a, closed_b] {
        let late = closed.saturating_duration_since(deadline);
        assert!(
            late < Duration::from_secs(1),
            "closed {late:?} after expires_at"
        );
        assert!(
            closed + Duration::from_millis(100) >= deadline,
            "closed early"
        );
    }
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_member_node_keeps_the_room() {
    let (url, mut r) = setup().await;
    let mut n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut creator = Client::join(n2.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let m1 = Client::join(n1.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let m2 = Client::join(n1.addr, &room.id, &t).await;
    creator.wait_for(&Got::Joined(m2.member), S5).await;
    n1.kill9();
    // n2 sees their presence go stale and tells its members who left.
    let mut left = vec![];
    for _ in 0..2 {
        match creator.next(S5).await {
            Some(Got::Left(id)) => left.push(id),
            other => panic!("expected a left frame, got {other:?}"),
        }
    }
    left.sort();
    let mut want = vec![m1.member, m2.member];
    want.sort();
    assert_eq!(left, want);
    assert_eq!(room.presence(&mut r).await, vec![creator.member]);
    // The room is alive: a newcomer on n2 can talk with the creator.
    let t = room.ticket(&mut r, false).await;
    let mut m3 = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(m3.expect().await, Got::Joined(creator.member));
    m3.broadcast(b"hi").await;
    creator
        .wait_for(
            &Got::Broadcast {
                from: m3.member,
                payload: b"hi".to_vec(),
            },
            S5,
        )
        .await;
    creator.leave().await;
    m3.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_creators_node_ends_the_room_after_grace() {
    let (url, mut r) = setup().await;
    let mut n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut m = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(m.expect().await, Got::Joined(creator.member));
    let killed = Instant::now();
    n1.kill9();
    assert_eq!(m.next(S5).await, Some(Got::Left(creator.member)));
    // Stale after 1.2 s, then 1.5 s of grace.
    m.expect_ended(S5).await;
    assert!(killed.elapsed() >= Duration::from_millis(2500));
    room.assert_gone(&mut r).await;
    drop(creator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_one_time_and_unforgeable() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let _creator = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    // Reuse.
    let mut ws = hello(relay.addr, &room.id, &room.creator_ticket).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::INVALID_TICKET)))
    );
    // Forged.
    let forged = vroom_shared::Ticket::from_bytes(random());
    let mut ws = hello(relay.addr, &room.id, &forged).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::INVALID_TICKET)))
    );
    // A real ticket for another room id.
    let t = room.ticket(&mut r, false).await;
    let elsewhere = vroom_shared::RoomId::from_bytes(random());
    let mut ws = hello(relay.addr, &elsewhere, &t).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::INVALID_TICKET)))
    );
    // Expired: a ticket whose key expired in Redis.
    let t = room.ticket(&mut r, false).await;
    let _: () = redis::cmd("PEXPIRE")
        .arg(vroom_shared::redis::ticket_key(&room.id, &t))
        .arg(1)
        .query_async(&mut r)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut ws = hello(relay.addr, &room.id, &t).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::INVALID_TICKET)))
    );
    // A ticket of a room that ended.
    let t = room.ticket(&mut r, false).await;
    room.api_end(&mut r).await;
    let mut ws = hello(relay.addr, &room.id, &t).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::INVALID_TICKET)))
    );
    room.assert_gone(&mut r).await;
    // No hello in time, and garbage instead of a hello.
    let mut ws = connect(relay.addr, None).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::TIMEOUT)))
    );
    let mut ws = connect(relay.addr, None).await;
    use futures_util::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(
        vec![0x02, 1, 2].into(),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::PROTOCOL_ERROR)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_full_and_bad_origin() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &["--allowed-origin", "https://vroom.test"]);
    let room = create_room(&mut r, 600, 600, 2).await;
    // Wrong and missing Origin.
    for origin in [Some("https://evil.test"), None] {
        let mut ws = connect(relay.addr, origin).await;
        assert_eq!(
            next_got(&mut ws, S5).await,
            Some(Got::Closed(Some(close::BAD_ORIGIN)))
        );
    }
    let join = |ticket: vroom_shared::Ticket| {
        let id = room.id.clone();
        let addr = relay.addr;
        async move {
            let mut ws = connect(addr, Some("https://vroom.test")).await;
            use futures_util::SinkExt as _;
            let hello = ClientFrame::Hello { room: id, ticket }.encode();
            ws.send(tokio_tungstenite::tungstenite::Message::Binary(
                hello.into(),
            ))
            .await
            .unwrap();
            ws
        }
    };
    let mut a = join(room.creator_ticket.clone()).await;
    assert!(matches!(
        next_got(&mut a, S5).await,
        Some(Got::Welcome { .. })
    ));
    // Two tickets issued while one member is present; the room holds two.
    let t1 = room.ticket(&mut r, false).await;
    let t2 = room.ticket(&mut r, false).await;
    let mut b = join(t1).await;
    assert!(matches!(
        next_got(&mut b, S5).await,
        Some(Got::Welcome { .. })
    ));
    let mut c = join(t2).await;
    assert_eq!(
        next_got(&mut c, S5).await,
        Some(Got::Closed(Some(close::ROOM_FULL)))
    );
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frames_and_floods_are_cut_off() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(
        &url,
        &[
            "--max-frame",
            "4096",
            "--rate-per-sec",
            "20",
            "--rate-burst",
            "20",
        ],
    );
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut a = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut big = Client::join(relay.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut flood = Client::join(relay.addr, &room.id, &t).await;
    big.broadcast(&vec![7; 4000]).await;
    a.wait_for(
        &Got::Broadcast {
            from: big.member,
            payload: vec![7; 4000],
        },
        S5,
    )
    .await;
    big.broadcast(&vec![7; 5000]).await;
    big.wait_for(&Got::Closed(Some(close::FRAME_TOO_LARGE)), S5)
        .await;
    a.wait_for(&Got::Left(big.member), S5).await;

    // 20 frames pass, then a warning, then the cut.
    for _ in 0..100 {
        flood.broadcast(b"x").await;
    }
    flood.wait_for(&Got::Error(close::RATE_LIMITED), S5).await;
    flood
        .wait_for(&Got::Closed(Some(close::RATE_LIMITED)), S5)
        .await;
    let mut got = 0;
    loop {
        match a.next(S5).await {
            Some(Got::Broadcast { .. }) => got += 1,
            Some(Got::Left(id)) if id == flood.member => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        (20..=22).contains(&got),
        "{got} frames passed the limit of 20"
    );
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_cut_off_and_memory_stays_bounded() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(
        &url,
        &[
            "--rate-per-sec",
            "2000",
            "--rate-burst",
            "50",
            "--send-queue-bytes",
            "524288",
            "--publish-queue-bytes",
            "2097152",
        ],
    );
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut sender = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let slow = Client::join_with(relay.addr, &room.id, &t, Some(4096)).await;
    let t = room.ticket(&mut r, false).await;
    let mut fast = Client::join(relay.addr, &room.id, &t).await;
    let slow_id = slow.member;
    // `slow` never reads. 16 MB through the room: far more than its queue
    // and (small) socket buffers hold.
    let payload = vec![1u8; 16 * 1024];
    let reader = tokio::spawn(async move {
        let mut n = 0;
        loop {
            match fast.next(S5).await {
                Some(Got::Broadcast { .. }) => n += 1,
                Some(Got::Left(id)) if id == slow_id => {}
                Some(Got::Joined(_)) => {}
                other => panic!("fast reader got {other:?} after {n}"),
            }
            if n == 1000 {
                return fast;
            }
        }
    });
    let before = rss_kib(relay.child.id());
    let mut pace = tokio::time::interval(Duration::from_millis(1));
    for _ in 0..1000 {
        pace.tick().await;
        sender.broadcast(&payload).await;
    }
    let _fast = reader.await.unwrap();
    let body = relay.metrics().await;
    assert!(
        body.contains("relay_dropped_total{reason=\"slow_reader\"} 1\n"),
        "{body}"
    );
    assert!(body.contains("relay_members 2\n"), "{body}");
    // Memory stays bounded: the relay's resident set grows by far less than
    // what went through the room (queues, buffers and allocator arenas).
    let grew = rss_kib(relay.child.id()).saturating_sub(before);
    assert!(grew < 12 * 1024, "relay RSS grew by {grew} KiB\n{body}");
    drop(slow);
    room.api_end(&mut r).await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_with_1012_and_keeps_the_room() {
    let (url, mut r) = setup().await;
    let mut n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut creator = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut m = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(m.expect().await, Got::Joined(creator.member));
    n1.sigterm();
    creator
        .wait_for(&Got::Closed(Some(close::RESTART)), S5)
        .await;
    assert_eq!(m.expect().await, Got::Left(creator.member));
    assert!(n1.wait(S5), "node exits after closing its sockets");
    // The creator reconnects elsewhere within its grace period.
    let t = room.ticket(&mut r, true).await;
    let mut creator = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(creator.expect().await, Got::Joined(m.member));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(
        !room.keys(&mut r).await.is_empty(),
        "room survives a node restart"
    );
    creator.leave().await;
    m.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_dropped_after_the_ping_timeout() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(
        &url,
        &["--ping-interval-ms", "300", "--ping-timeout-ms", "300"],
    );
    let room = create_room(&mut r, 600, 600, 8).await;
    let t = room.ticket(&mut r, false).await;
    // This one never reads, so it never answers pings: a dead peer.
    let dead = Client::join(relay.addr, &room.id, &t).await;
    let mut creator = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let start = Instant::now();
    // The creator keeps reading (answering pings) and sees the dead one go.
    creator.wait_for(&Got::Left(dead.member), S5).await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    creator.leave().await;
    wait_gone(&room, &mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_pubsub_relays_across_nodes() {
    let (url, mut r) = setup().await;
    let n1 = Relay::start(&url, &["--sharded-pubsub"]);
    let n2 = Relay::start(&url, &["--sharded-pubsub"]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(b.expect().await, Got::Joined(a.member));
    assert_eq!(a.expect().await, Got::Joined(b.member));
    b.direct(a.member, b"over SPUBLISH").await;
    assert_eq!(
        a.expect().await,
        Got::Direct {
            from: b.member,
            payload: b"over SPUBLISH".to_vec()
        }
    );
    // The API's END_ROOM with SPUBLISH reaches both nodes.
    assert_eq!(room.api_end_with(&mut r, "SPUBLISH").await, 1);
    a.expect_ended(S5).await;
    b.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_end_on_one_node() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut a = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(relay.addr, &room.id, &t).await;
    assert_eq!(b.expect().await, Got::Joined(a.member));
    // A wrong creator token changes nothing.
    let forged = TestRoom {
        id: room.id.clone(),
        join_key: room.join_key.clone(),
        creator: vroom_shared::CreatorToken::from_bytes(random()),
        creator_ticket: room.creator_ticket.clone(),
    };
    assert_eq!(forged.api_end(&mut r).await, -1);
    a.expect().await;
    assert_eq!(room.api_end(&mut r).await, 1);
    a.expect_ended(S5).await;
    b.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
    relay
        .wait_metrics(&["relay_rooms 0", "relay_members 0"], S5)
        .await;
}
