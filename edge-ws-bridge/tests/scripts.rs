//! The relay's Redis scripts (vroom-shared `REDEEM_TICKET`, `REMOVE_MEMBER`,
//! `MAINTAIN_ROOM`) against the real Redis, without a relay.

mod common;

use common::*;
use redis::Value;
use vroom_shared::redis::scripts::{MAINTAIN_ROOM, REDEEM_TICKET, REMOVE_MEMBER};
use vroom_shared::redis::{presence_key, room_key, ticket_key, tickets_key};
use vroom_shared::relay::room_fields;
use vroom_shared::{RoomId, Ticket};
use vroom_test_support::redis_url;

type Conn = redis::aio::MultiplexedConnection;

/// What a node does with a presented ticket: `GETDEL`, then (only for a
/// ticket that existed) `REDEEM_TICKET`; `[0]` for an unknown ticket.
async fn redeem(r: &mut Conn, room: &RoomId, ticket: &Ticket) -> Vec<Value> {
    let grant: Option<Vec<u8>> = redis::cmd("GETDEL")
        .arg(ticket_key(room, ticket))
        .query_async(r)
        .await
        .unwrap();
    let Some(grant) = grant else {
        return vec![Value::Int(0)];
    };
    redeem_grant(r, room, ticket, &grant).await
}

async fn redeem_grant(r: &mut Conn, room: &RoomId, ticket: &Ticket, grant: &[u8]) -> Vec<Value> {
    redis::Script::new(REDEEM_TICKET)
        .key(room_key(room))
        .key(presence_key(room))
        .key(tickets_key(room))
        .key(ticket_key(room, ticket))
        .arg(grant)
        .invoke_async(r)
        .await
        .unwrap()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// `REMOVE_MEMBER` with a 30 s drop grace and no leave grace.
async fn remove(r: &mut Conn, room: &RoomId, member: i64, how: &str, creator: bool) -> (i64, i64) {
    remove_with_leave_grace(r, room, member, how, creator, 0).await
}

async fn remove_with_leave_grace(
    r: &mut Conn,
    room: &RoomId,
    member: i64,
    how: &str,
    creator: bool,
    leave_grace_ms: u64,
) -> (i64, i64) {
    let v: Vec<i64> = redis::Script::new(REMOVE_MEMBER)
        .key(room_key(room))
        .key(presence_key(room))
        .arg(member)
        .arg(how)
        .arg(if creator { "1" } else { "0" })
        .arg(30_000)
        .arg(leave_grace_ms)
        .invoke_async(r)
        .await
        .unwrap();
    (v[0], v[1])
}

async fn maintain(
    r: &mut Conn,
    room: &RoomId,
    activity: bool,
    stale_ms: u64,
    grace_ms: u64,
    creator_hash: &str,
    local: &[i64],
) -> Vec<i64> {
    let script = redis::Script::new(MAINTAIN_ROOM);
    let mut inv = script.prepare_invoke();
    inv.key(room_key(room))
        .key(presence_key(room))
        .key(tickets_key(room))
        .arg(if activity { "1" } else { "0" })
        .arg(stale_ms)
        .arg(grace_ms)
        .arg(creator_hash);
    for m in local {
        inv.arg(*m);
    }
    inv.invoke_async(r).await.unwrap()
}

async fn pttl(r: &mut Conn, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(r).await.unwrap()
}

#[tokio::test]
async fn redeem_is_one_time_and_assigns_fresh_ids() {
    let mut r = redis(&redis_url()).await;
    let room = create_room(&mut r, 600, 300, 3).await;
    let v = redeem(&mut r, &room.id, &room.creator_ticket).await;
    assert_eq!(int(&v[0]), 1);
    assert_eq!((int(&v[1]), int(&v[2])), (1, 1), "member 1, creator");
    assert_eq!(int(&v[4]), 300, "idle_secs");
    assert!(int(&v[5]) > 0 && int(&v[5]) <= 300_000, "remaining ms");
    assert_eq!(int(&v[6]), 0, "not locked");
    assert_eq!(
        v[7],
        Value::BulkString(room.creator.sha256_hex().into_bytes())
    );
    assert_eq!(v.len(), 8, "nobody was present");
    // Used: gone from Redis, and from the tickets set.
    assert_eq!(
        redeem(&mut r, &room.id, &room.creator_ticket).await,
        vec![Value::Int(0)]
    );
    let listed: Vec<String> = redis::cmd("ZRANGE")
        .arg(tickets_key(&room.id))
        .arg(0)
        .arg(-1)
        .query_async(&mut r)
        .await
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
    // The next members get the next ids and learn who is present.
    let t = room.ticket(&mut r, false).await;
    let v = redeem(&mut r, &room.id, &t).await;
    assert_eq!((int(&v[1]), int(&v[2])), (2, 0));
    assert_eq!(int(&v[8]), 1);
    // Removing a member never frees its id.
    assert_eq!(remove(&mut r, &room.id, 2, "leave", false).await, (1, 1));
    let t = room.ticket(&mut r, false).await;
    let v = redeem(&mut r, &room.id, &t).await;
    assert_eq!(int(&v[1]), 3);
    // Presence expires with the room.
    let room_ttl = pttl(&mut r, &room_key(&room.id)).await;
    let presence_ttl = pttl(&mut r, &presence_key(&room.id)).await;
    assert!(presence_ttl > 0 && presence_ttl <= room_ttl);
    room.api_end(&mut r).await;
}

#[tokio::test]
async fn the_creator_counts_toward_the_cap_and_keeps_its_seat() {
    let mut r = redis(&redis_url()).await;
    let room = create_room(&mut r, 600, 300, 3).await;
    let t1 = room.ticket(&mut r, false).await;
    let t2 = room.ticket(&mut r, false).await;
    let t3 = room.ticket(&mut r, false).await;
    let second_creator = room.ticket(&mut r, true).await;
    // No creator yet: one of the three seats is kept for it.
    assert_eq!(int(&redeem(&mut r, &room.id, &t1).await[0]), 1);
    assert_eq!(int(&redeem(&mut r, &room.id, &t2).await[0]), 1);
    assert_eq!(redeem(&mut r, &room.id, &t3).await, vec![Value::Int(-2)]);
    assert_eq!(
        redeem(&mut r, &room.id, &t3).await,
        vec![Value::Int(0)],
        "spent"
    );
    let v = redeem(&mut r, &room.id, &room.creator_ticket).await;
    assert_eq!((int(&v[0]), int(&v[2])), (1, 1));
    // Full with the creator: a second creator ticket is refused too.
    assert_eq!(
        redeem(&mut r, &room.id, &second_creator).await,
        vec![Value::Int(-2)]
    );
    room.api_end(&mut r).await;
}

#[tokio::test]
async fn only_a_real_grant_redeems() {
    let mut r = redis(&redis_url()).await;
    let room = create_room(&mut r, 600, 300, 3).await;
    let forged = Ticket::from_bytes(random());
    assert_eq!(
        redeem_grant(&mut r, &room.id, &forged, b"{\"creator\":true} ").await,
        vec![Value::Int(0)]
    );
    let present: i64 = redis::cmd("ZCARD")
        .arg(presence_key(&room.id))
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(present, 0);
    room.api_end(&mut r).await;
}

#[tokio::test]
async fn the_first_redemption_claims_the_room() {
    let mut r = redis(&redis_url()).await;
    let room = create_room(&mut r, 3600, 900, 3).await;
    let unclaimed = pttl(&mut r, &room_key(&room.id)).await;
    assert!(
        (1..=i64::from(CLAIM_SECS) * 1000).contains(&unclaimed),
        "{unclaimed}"
    );
    let t = room.ticket(&mut r, false).await;
    assert_eq!(int(&redeem(&mut r, &room.id, &t).await[0]), 1);
    let claimed = pttl(&mut r, &room_key(&room.id)).await;
    assert!((895_000..=900_000).contains(&claimed), "{claimed}");
    let tickets = pttl(&mut r, &tickets_key(&room.id)).await;
    assert!(tickets > 60_000, "{tickets}");
    let flag: Option<String> = redis::cmd("HGET")
        .arg(room_key(&room.id))
        .arg(vroom_shared::redis::room_fields::CLAIMED)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(flag.as_deref(), Some("1"));
    room.api_end(&mut r).await;
}

#[tokio::test]
async fn remove_member_decides_grace_and_ends() {
    let mut r = redis(&redis_url()).await;
    let room = create_room(&mut r, 600, 300, 8).await;
    let creator = int(&redeem(&mut r, &room.id, &room.creator_ticket).await[1]);
    let t = room.ticket(&mut r, false).await;
    let member = int(&redeem(&mut r, &room.id, &t).await[1]);
    // The creator's connection drops: grace starts.
    assert_eq!(
        remove(&mut r, &room.id, creator, "drop", true).await,
        (3, 1)
    );
    let fields: (Option<String>, Option<i64>) = redis::cmd("HMGET")
        .arg(room_key(&room.id))
        .arg(room_fields::CREATOR_MEMBER)
        .arg(room_fields::CREATOR_GONE_MS)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(fields.0, None);
    assert!(fields.1.is_some());
    // The last member leaving while the creator is within grace: no end.
    assert_eq!(
        remove(&mut r, &room.id, member, "leave", false).await,
        (1, 1)
    );
    // The creator comes back: grace is over.
    let t = room.ticket(&mut r, true).await;
    let back = int(&redeem(&mut r, &room.id, &t).await[1]);
    let gone: Option<i64> = redis::cmd("HGET")
        .arg(room_key(&room.id))
        .arg(room_fields::CREATOR_GONE_MS)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(gone, None);
    // A node shutting down never ends a room; a creator's leave does.
    assert_eq!(
        remove(&mut r, &room.id, back, "shutdown", true).await,
        (3, 1)
    );
    let t = room.ticket(&mut r, true).await;
    let back = int(&redeem(&mut r, &room.id, &t).await[1]);
    assert_eq!(remove(&mut r, &room.id, back, "leave", true).await, (2, 1));
    room.api_end(&mut r).await;
    assert_eq!(remove(&mut r, &room.id, back, "leave", true).await, (0, 0));

    // With a leave grace, a creator's leave frame (a closed tab, or a reload)
    // starts a short grace instead: the room ends 5 s on unless it comes back.
    let room = create_room(&mut r, 600, 300, 8).await;
    let first = int(&redeem(&mut r, &room.id, &room.creator_ticket).await[1]);
    let before: i64 = redis::cmd("TIME")
        .query_async::<Vec<i64>>(&mut r)
        .await
        .map(|t| t[0] * 1000 + t[1] / 1000)
        .unwrap();
    assert_eq!(
        remove_with_leave_grace(&mut r, &room.id, first, "leave", true, 5_000).await,
        (3, 1)
    );
    let gone: i64 = redis::cmd("HGET")
        .arg(room_key(&room.id))
        .arg(room_fields::CREATOR_GONE_MS)
        .query_async(&mut r)
        .await
        .unwrap();
    // Marked as gone 25 s ago against the 30 s grace: 5 s remain.
    assert!(
        (before - 25_000..before - 24_000).contains(&gone),
        "{gone} vs {before}"
    );
    // The reload comes back; its first connection's late leave changes nothing.
    let t = room.ticket(&mut r, true).await;
    let second = int(&redeem(&mut r, &room.id, &t).await[1]);
    assert_eq!(
        remove_with_leave_grace(&mut r, &room.id, first, "leave", true, 5_000).await,
        (1, 0)
    );
    let current: Option<i64> = redis::cmd("HGET")
        .arg(room_key(&room.id))
        .arg(room_fields::CREATOR_MEMBER)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(current, Some(second));
    room.api_end(&mut r).await;

    // Without a creator around, the last one out ends the room.
    let room = create_room(&mut r, 600, 300, 8).await;
    let t = room.ticket(&mut r, false).await;
    let m = int(&redeem(&mut r, &room.id, &t).await[1]);
    assert_eq!(remove(&mut r, &room.id, m, "drop", false).await, (4, 1));
    room.api_end(&mut r).await;
}

#[tokio::test]
async fn maintain_refreshes_bumps_sweeps_and_checks_the_incarnation() {
    let mut r = redis(&redis_url()).await;
    // Lifetime 100 s, idle 20 s.
    let room = create_room(&mut r, 100, 20, 8).await;
    let hash = room.creator.sha256_hex();
    let creator = int(&redeem(&mut r, &room.id, &room.creator_ticket).await[1]);
    let t = room.ticket(&mut r, false).await;
    let other = int(&redeem(&mut r, &room.id, &t).await[1]);
    // Shorten the deadline, then show activity moves it back to now + idle.
    let _: () = redis::cmd("PEXPIRE")
        .arg(room_key(&room.id))
        .arg(5_000)
        .query_async(&mut r)
        .await
        .unwrap();
    let v = maintain(&mut r, &room.id, false, 60_000, 30_000, &hash, &[creator]).await;
    assert_eq!(&v[..1], &[1]);
    assert!(v[1] <= 5_000);
    let v = maintain(&mut r, &room.id, true, 60_000, 30_000, &hash, &[creator]).await;
    assert!(v[1] > 19_000 && v[1] <= 20_000, "{v:?}");
    for key in [room_key(&room.id), presence_key(&room.id)] {
        let ttl = pttl(&mut r, &key).await;
        assert!(ttl > 19_000 && ttl <= 20_000, "{key}: {ttl}");
    }
    // Never past expires_at: with idle 20 s and 100 s left, a bump gives 20 s;
    // with 3 s left, activity cannot go beyond.
    let expires_soon: i64 = redis::cmd("TIME")
        .query_async::<Vec<i64>>(&mut r)
        .await
        .unwrap()[0]
        + 3;
    let _: () = redis::cmd("HSET")
        .arg(room_key(&room.id))
        .arg("expires_at")
        .arg(expires_soon)
        .query_async(&mut r)
        .await
        .unwrap();
    let _: () = redis::cmd("PEXPIRE")
        .arg(room_key(&room.id))
        .arg(1_000)
        .query_async(&mut r)
        .await
        .unwrap();
    let v = maintain(&mut r, &room.id, true, 60_000, 30_000, &hash, &[creator]).await;
    assert!(v[1] <= 3_000 && v[1] > 1_000, "{v:?}");
    // A member of this node missing from presence is reported.
    let v = maintain(
        &mut r,
        &room.id,
        false,
        60_000,
        30_000,
        &hash,
        &[creator, 99],
    )
    .await;
    // action, locked, 1 missing, 0 expelled, the missing id.
    assert_eq!(&v[2..7], &[0, 0, 1, 0, 99]);
    // Stale entries (not refreshed within 0 ms here) are removed; the creator's
    // removal starts its grace; with no grace left it asks for the end.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let v = maintain(&mut r, &room.id, false, 1, 60_000, &hash, &[]).await;
    let mut removed = v[6..].to_vec();
    removed.sort();
    assert_eq!(removed, vec![creator, other]);
    assert_eq!(v[2], 3, "creator away within grace");
    let v = maintain(&mut r, &room.id, false, 1, 0, &hash, &[]).await;
    assert_eq!(v[2], 1, "grace over: end");
    // Another incarnation of the room counts as gone.
    let v = maintain(
        &mut r,
        &room.id,
        false,
        60_000,
        30_000,
        "not-this-room",
        &[],
    )
    .await;
    assert_eq!(v, vec![0]);
    room.api_end(&mut r).await;
    let v = maintain(&mut r, &room.id, false, 60_000, 30_000, &hash, &[]).await;
    assert_eq!(v, vec![0]);
}
