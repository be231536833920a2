//! Redis going away under a running relay fleet: a private `redis-server`
//! per test, killed with SIGKILL and restarted on the same port.

mod common;

use common::*;
use std::time::{Duration, Instant};
use vroom_shared::relay::close;

const S5: Duration = Duration::from_secs(5);

/// Two nodes, a room with the creator on one and a member on the other.
async fn room_on_two_nodes(
    url: &str,
    n1: &Relay,
    n2: &Relay,
) -> (TestRoom, Client, Client, redis::aio::MultiplexedConnection) {
    let mut r = redis(url).await;
    let room = create_room(&mut r, 600, 600, 8).await;
    let a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n2.addr, &room.id, &t).await;
    assert_eq!(b.expect().await, Got::Joined(a.member));
    (room, a, b, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarting_empty_ends_rooms_and_the_fleet_recovers() {
    let mut redis_server = PrivateRedis::start(false);
    let url = redis_server.url();
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let (_room, mut a, mut b, _r) = room_on_two_nodes(&url, &n1, &n2).await;
    a.wait_for(&Got::Joined(b.member), S5).await;

    redis_server.kill9();
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis_server.restart();
    // The restarted Redis holds nothing: the room is gone, and every member
    // is told so instead of hanging.
    a.expect_ended(S5).await;
    b.expect_ended(S5).await;

    // Both nodes reconnected: a new room works across them.
    let (room, mut a, mut b, mut r) = room_on_two_nodes(&url, &n1, &n2).await;
    a.wait_for(&Got::Joined(b.member), S5).await;
    a.broadcast(b"after").await;
    assert_eq!(
        b.expect().await,
        Got::Broadcast {
            from: a.member,
            payload: b"after".to_vec()
        }
    );
    a.leave().await;
    b.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarting_with_its_data_keeps_the_room() {
    let mut redis_server = PrivateRedis::start(true);
    let url = redis_server.url();
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let (room, mut a, mut b, _r) = room_on_two_nodes(&url, &n1, &n2).await;
    a.wait_for(&Got::Joined(b.member), S5).await;

    redis_server.kill9();
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis_server.restart();
    // Both nodes resubscribe; the room carries on across them.
    let start = Instant::now();
    loop {
        n1.wait_metrics(&["relay_redis_up 1"], S5).await;
        n2.wait_metrics(&["relay_redis_up 1"], S5).await;
        a.broadcast(b"again").await;
        match b.next(Duration::from_millis(500)).await {
            Some(Got::Broadcast { from, payload }) if from == a.member => {
                assert_eq!(payload, b"again");
                break;
            }
            None => assert!(start.elapsed() < S5, "no delivery after the restart"),
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    // Drain duplicates of the retried broadcast, then end normally.
    b.settle(Duration::from_millis(200)).await;
    let mut r = redis(&url).await;
    assert_eq!(room.presence(&mut r).await.len(), 2);
    a.leave().await;
    b.expect_ended(S5).await;
    room.assert_gone(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_staying_down_closes_sockets_with_1013() {
    let mut redis_server = PrivateRedis::start(false);
    let url = redis_server.url();
    let n1 = Relay::start(&url, &[]);
    let n2 = Relay::start(&url, &[]);
    let (_room, mut a, mut b, _r) = room_on_two_nodes(&url, &n1, &n2).await;
    a.wait_for(&Got::Joined(b.member), S5).await;
    redis_server.kill9();
    let down = Instant::now();
    // --redis-outage-ms 1500: a clear "try again later", not a hang.
    a.wait_for(&Got::Closed(Some(close::TRY_AGAIN_LATER)), S5)
        .await;
    b.wait_for(&Got::Closed(Some(close::TRY_AGAIN_LATER)), S5)
        .await;
    assert!(down.elapsed() >= Duration::from_millis(1400));
    assert_eq!(n1.http_get("/healthz").await.0, 503);
    // New connections are told the same.
    let ticket = vroom_shared::Ticket::from_bytes(random());
    let mut ws = hello(
        n2.addr,
        &vroom_shared::RoomId::from_bytes(random()),
        &ticket,
    )
    .await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::TRY_AGAIN_LATER)))
    );
}
