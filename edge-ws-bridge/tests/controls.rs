//! The creator's controls on real relay processes (two nodes), the real
//! Redis and real WebSocket clients: a locked room admits no new member on
//! any node and every member hears the state; a removed member is closed
//! with 4010 on whichever node holds it, the room hears it left, and the
//! link does not get it back in until the creator unlocks.

mod common;

use common::*;
use std::time::Duration;
use vroom_shared::relay::close;
use vroom_test_support::redis_url;

const S5: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_and_remove_across_two_nodes() {
    let url = redis_url();
    let mut r = redis(&url).await;
    let n1 = Relay::start(&url, &["--node-id", "c1"]);
    let n2 = Relay::start(&url, &["--node-id", "c2"]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let other = create_room(&mut r, 600, 600, 8).await;

    let mut a = Client::join(n1.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut b = Client::join(n2.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut c = Client::join(n1.addr, &room.id, &t).await;
    let mut x = Client::join(n2.addr, &other.id, &other.creator_ticket).await;
    for m in [&mut a, &mut b] {
        m.wait_for(&Got::Joined(c.member), S5).await;
    }
    c.settle(Duration::from_millis(200)).await;
    // A ticket issued before the lock.
    let early = room.ticket(&mut r, false).await;

    // Lock: every member on both nodes hears it; no ticket, and the early
    // ticket is not redeemed (on either node).
    assert_eq!(room.api_lock(&mut r, true).await, vec![1, 1]);
    for m in [&mut a, &mut b, &mut c] {
        m.wait_for(&Got::State { locked: true }, S5).await;
    }
    assert!(room.try_ticket(&mut r, false).await.is_none());
    let mut ws = hello(n2.addr, &room.id, &early).await;
    assert_eq!(
        next_got(&mut ws, S5).await,
        Some(Got::Closed(Some(close::ROOM_LOCKED)))
    );
    // The creator still gets in, and hears the state with its welcome.
    let t = room.ticket(&mut r, true).await;
    let mut a2 = Client::join(n2.addr, &room.id, &t).await;
    a2.wait_for(&Got::State { locked: true }, S5).await;

    // Unlock: heard everywhere, and the link works again.
    assert_eq!(room.api_lock(&mut r, false).await, vec![1, 0]);
    for m in [&mut a, &mut b, &mut c, &mut a2] {
        m.wait_for(&Got::State { locked: false }, S5).await;
    }
    let t = room.ticket(&mut r, false).await;
    let mut d = Client::join(n1.addr, &room.id, &t).await;

    // Remove B (on n2): closed with 4010 by its own node, Left everywhere,
    // and the room is locked again.
    assert_eq!(room.api_expel(&mut r, b.member).await, 1);
    b.wait_for(&Got::Closed(Some(close::REMOVED)), S5).await;
    for m in [&mut a, &mut c, &mut d, &mut a2] {
        m.wait_for(&Got::Left(b.member), S5).await;
    }
    assert!(!room.presence(&mut r).await.contains(&b.member));
    assert!(room.try_ticket(&mut r, false).await.is_none(), "locked");
    // Removing one who is gone, or the creator's connection, is refused.
    assert_eq!(room.api_expel(&mut r, b.member).await, -1);
    assert_eq!(room.api_expel(&mut r, a2.member).await, -2);
    // Remove D (on n1) the same way.
    assert_eq!(room.api_expel(&mut r, d.member).await, 1);
    d.wait_for(&Got::Closed(Some(close::REMOVED)), S5).await;
    c.wait_for(&Got::Left(d.member), S5).await;
    // No expulsion mark outlives its member.
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(vroom_shared::redis::room_key(&room.id))
        .query_async(&mut r)
        .await
        .unwrap();
    assert!(!fields.iter().any(|f| f.starts_with("expel")), "{fields:?}");

    // The other room on the same nodes noticed nothing.
    x.expect_silence(Duration::from_millis(300)).await;
    room.api_end(&mut r).await;
    for m in [&mut a, &mut c, &mut a2] {
        m.expect_ended(S5).await;
    }
    room.assert_gone(&mut r).await;
    other.api_end(&mut r).await;
    x.expect_ended(S5).await;
}
