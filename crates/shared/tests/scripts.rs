//! The Lua scripts against the real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`). Every test uses fresh random room ids, so tests
//! run in parallel with each other and with anything else on that Redis.

use redis::aio::MultiplexedConnection;
use redis::{Script, Value};
use std::time::Duration;
use vroom_shared::redis::scripts::{
    CREATE_ROOM, END_ROOM, EndOutcome, JOIN_ROOM, RATE_LIMIT, RoomOutcome,
};
use vroom_shared::redis::{
    ENDED, GLOBAL_BUCKET, RateAction, RateKeySecret, TICKET_TTL_SECS, TICKETS_PER_SEAT,
    TicketGrant, channel, presence_key, rate_key, room_key, room_pattern, ticket_key, tickets_key,
};
use vroom_shared::{CreatorToken, JoinKey, RoomId, Ticket};
use vroom_test_support::{random, redis_url};

/// The rooms API's default claim deadline (`room_claim_secs`).
const CLAIM_SECS: u32 = 60;

async fn connect() -> MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("REDIS_URL")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis at {} is required: {e}", redis_url()))
}

/// A fresh room's credentials.
struct Room {
    id: RoomId,
    join: JoinKey,
    creator: CreatorToken,
}

impl Room {
    fn new() -> Self {
        let join = JoinKey::from_bytes(random());
        Self {
            id: RoomId::for_join_key(&join),
            join,
            creator: CreatorToken::from_bytes(random()),
        }
    }

    /// KEYS of CREATE_ROOM / JOIN_ROOM for a new ticket.
    fn ticket_keys(&self, ticket: &Ticket) -> [String; 4] {
        [
            room_key(&self.id),
            presence_key(&self.id),
            tickets_key(&self.id),
            ticket_key(&self.id, ticket),
        ]
    }

    async fn create(
        &self,
        con: &mut MultiplexedConnection,
        mode: &str,
        join: &JoinKey,
        lifetime: u32,
        idle: u32,
        max_members: u32,
    ) -> (RoomOutcome, i64, i64, Ticket) {
        let ticket = Ticket::from_bytes(random());
        let reply: Vec<i64> = Script::new(CREATE_ROOM)
            .key(&self.ticket_keys(&ticket))
            .arg(join.sha256_hex())
            .arg(self.creator.sha256_hex())
            .arg(lifetime)
            .arg(idle)
            .arg(max_members)
            .arg(mode)
            .arg(TICKET_TTL_SECS)
            .arg(TICKETS_PER_SEAT)
            .arg(CLAIM_SECS)
            .invoke_async(con)
            .await
            .expect("CREATE_ROOM");
        assert_eq!(reply.len(), 3, "{reply:?}");
        let outcome = RoomOutcome::from_code(reply[0]).expect("known outcome");
        (outcome, reply[1], reply[2], ticket)
    }

    async fn create_default(&self, con: &mut MultiplexedConnection) -> (i64, Ticket) {
        let (outcome, expires_at, members, ticket) =
            self.create(con, "create", &self.join, 3600, 900, 4).await;
        assert_eq!(outcome, RoomOutcome::Created);
        assert_eq!(members, 0);
        (expires_at, ticket)
    }

    async fn join(
        &self,
        con: &mut MultiplexedConnection,
        join: &JoinKey,
        creator: Option<&CreatorToken>,
    ) -> (RoomOutcome, i64, i64, Ticket) {
        self.join_with_ttl(con, join, creator, TICKET_TTL_SECS)
            .await
    }

    async fn join_with_ttl(
        &self,
        con: &mut MultiplexedConnection,
        join: &JoinKey,
        creator: Option<&CreatorToken>,
        ticket_ttl_secs: u32,
    ) -> (RoomOutcome, i64, i64, Ticket) {
        let ticket = Ticket::from_bytes(random());
        let reply: Vec<i64> = Script::new(JOIN_ROOM)
            .key(&self.ticket_keys(&ticket))
            .arg(join.sha256_hex())
            .arg(creator.map(CreatorToken::sha256_hex).unwrap_or_default())
            .arg(ticket_ttl_secs)
            .arg(TICKETS_PER_SEAT)
            .invoke_async(con)
            .await
            .expect("JOIN_ROOM");
        assert_eq!(reply.len(), 3, "{reply:?}");
        let outcome = RoomOutcome::from_code(reply[0]).expect("known outcome");
        (outcome, reply[1], reply[2], ticket)
    }

    async fn end(
        &self,
        con: &mut MultiplexedConnection,
        creator: Option<&CreatorToken>,
        publish: &str,
    ) -> redis::RedisResult<EndOutcome> {
        let reply: Vec<i64> = Script::new(END_ROOM)
            .key(room_key(&self.id))
            .key(presence_key(&self.id))
            .key(tickets_key(&self.id))
            .arg(creator.map(CreatorToken::sha256_hex).unwrap_or_default())
            .arg(publish)
            .arg(channel(&self.id))
            .invoke_async(con)
            .await?;
        assert_eq!(reply.len(), 1, "{reply:?}");
        Ok(EndOutcome::from_code(reply[0]).expect("known outcome"))
    }

    /// Every key of the room, by `SCAN MATCH vroom:{R}:*`.
    async fn keys(&self, con: &mut MultiplexedConnection) -> Vec<String> {
        let mut cursor: u64 = 0;
        let mut found = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(room_pattern(&self.id))
                .arg("COUNT")
                .arg(1000)
                .query_async(con)
                .await
                .expect("SCAN");
            found.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        found.sort();
        found
    }

    /// Adds `n` simulated members to presence, as the relay would.
    async fn add_members(&self, con: &mut MultiplexedConnection, n: usize) {
        for i in 0..n {
            let _: () = redis::cmd("ZADD")
                .arg(presence_key(&self.id))
                .arg(1_700_000_000_000_i64)
                .arg(format!("member-{i}"))
                .query_async(con)
                .await
                .expect("ZADD");
        }
        let _: () = redis::cmd("EXPIRE")
            .arg(presence_key(&self.id))
            .arg(60)
            .query_async(con)
            .await
            .expect("EXPIRE");
    }
}

/// The tickets set: (ticket key name, expiry in Unix ms), oldest first.
async fn listed_tickets(con: &mut MultiplexedConnection, room: &Room) -> Vec<(String, i64)> {
    redis::cmd("ZRANGE")
        .arg(tickets_key(&room.id))
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(con)
        .await
        .expect("ZRANGE")
}

async fn get(con: &mut MultiplexedConnection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET")
        .arg(key)
        .query_async(con)
        .await
        .expect("GET")
}

async fn pttl(con: &mut MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(con)
        .await
        .expect("PTTL")
}

async fn redis_now(con: &mut MultiplexedConnection) -> i64 {
    let (secs, _micros): (i64, i64) = redis::cmd("TIME").query_async(con).await.expect("TIME");
    secs
}

/// A blocking connection subscribed (with `SUBSCRIBE` or `SSUBSCRIBE`) to a channel.
fn subscriber(command: &str, channel: &str) -> redis::Connection {
    let client = redis::Client::open(redis_url()).expect("REDIS_URL");
    let mut con = client.get_connection().expect("subscriber connection");
    con.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    con.send_packed_command(&redis::cmd(command).arg(channel).get_packed_command())
        .expect("subscribe");
    let confirmation = con.recv_response().expect("subscribe confirmation");
    assert!(
        matches!(&confirmation, Value::Array(items) if items.len() == 3),
        "{confirmation:?}"
    );
    con
}

/// The next message on a subscriber: (kind, channel, payload).
fn next_message(con: &mut redis::Connection) -> (String, String, Vec<u8>) {
    let Value::Array(items) = con.recv_response().expect("message") else {
        panic!("not a message");
    };
    let text = |v: &Value| match v {
        Value::BulkString(b) => b.clone(),
        other => panic!("{other:?}"),
    };
    (
        String::from_utf8(text(&items[0])).unwrap(),
        String::from_utf8(text(&items[1])).unwrap(),
        text(&items[2]),
    )
}

#[tokio::test]
async fn create_stores_hashes_with_ttls_and_a_creator_ticket() {
    let mut con = connect().await;
    let room = Room::new();
    let before = redis_now(&mut con).await;
    let (expires_at, ticket) = room.create_default(&mut con).await;
    assert!((before + 3600..=before + 3601).contains(&expires_at));

    let fields: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(room_key(&room.id))
        .query_async(&mut con)
        .await
        .unwrap();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("field {name}"))
    };
    assert_eq!(fields.len(), 6, "{fields:?}");
    assert_eq!(field("join_key_sha256"), room.join.sha256_hex());
    assert_eq!(field("creator_sha256"), room.creator.sha256_hex());
    assert_eq!(field("expires_at"), expires_at.to_string());
    assert_eq!(field("idle_secs"), "900");
    assert_eq!(field("max_members"), "4");
    let created: i64 = field("created").parse().unwrap();
    assert_eq!(created + 3600, expires_at);
    // No secret is stored, only hashes.
    for (_, value) in &fields {
        assert_ne!(value, &room.join.to_base64());
        assert_ne!(value, &room.creator.to_base64());
    }

    // Unclaimed: the room lives for the claim deadline (60 s < 900 s idle)
    // until a ticket of it is redeemed.
    let room_ttl = pttl(&mut con, &room_key(&room.id)).await;
    assert!((55_000..=60_000).contains(&room_ttl), "{room_ttl}");
    let ticket_name = ticket_key(&room.id, &ticket);
    assert_eq!(
        get(&mut con, &ticket_name).await.as_deref(),
        Some(TicketGrant::Creator.encode())
    );
    let ticket_ttl = pttl(&mut con, &ticket_name).await;
    assert!((25_000..=30_000).contains(&ticket_ttl), "{ticket_ttl}");
    let listed = listed_tickets(&mut con, &room).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, ticket_name);
    let expiry_ms = listed[0].1;
    let now_ms = redis_now(&mut con).await * 1000;
    assert!(
        (now_ms + 25_000..=now_ms + 31_000).contains(&expiry_ms),
        "scored by expiry: {expiry_ms} vs now {now_ms}"
    );
    let set_ttl = pttl(&mut con, &tickets_key(&room.id)).await;
    assert!((55_000..=60_000).contains(&set_ttl), "{set_ttl}");

    // Every key of the room has a TTL; the ticket itself is nowhere.
    let keys = room.keys(&mut con).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in &keys {
        assert!(pttl(&mut con, key).await > 0, "{key} has no TTL");
        assert!(!key.contains(&ticket.to_base64()));
    }

    assert_eq!(
        room.end(&mut con, Some(&room.creator), "PUBLISH")
            .await
            .unwrap(),
        EndOutcome::Ended
    );
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn lifetime_caps_the_deadline() {
    let mut con = connect().await;
    let room = Room::new();
    let (outcome, _, _, ticket) = room
        .create(&mut con, "create", &room.join, 60, 900, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Created);
    let room_ttl = pttl(&mut con, &room_key(&room.id)).await;
    assert!((55_000..=60_000).contains(&room_ttl), "{room_ttl}");
    assert!(pttl(&mut con, &ticket_key(&room.id, &ticket)).await <= 30_000);
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn plain_create_of_a_live_room_conflicts_and_changes_nothing() {
    let mut con = connect().await;
    let room = Room::new();
    let (expires_at, _) = room.create_default(&mut con).await;
    let before = room.keys(&mut con).await;
    let (outcome, _, _, ticket) = room
        .create(&mut con, "create", &room.join, 600, 60, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Exists);
    assert_eq!(room.keys(&mut con).await, before);
    assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);
    let stored: String = redis::cmd("HGET")
        .arg(room_key(&room.id))
        .arg("expires_at")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(stored, expires_at.to_string());
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn create_or_join_joins_a_live_room_with_the_right_key() {
    let mut con = connect().await;
    let room = Room::new();
    let (expires_at, _) = room.create_default(&mut con).await;
    room.add_members(&mut con, 2).await;

    let (outcome, joined_expiry, members, ticket) = room
        .create(&mut con, "create_or_join", &room.join, 60, 60, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Joined);
    assert_eq!(
        joined_expiry, expires_at,
        "the live room's expiry, not a new one"
    );
    assert_eq!(members, 2);
    assert_eq!(
        get(&mut con, &ticket_key(&room.id, &ticket))
            .await
            .as_deref(),
        Some(TicketGrant::Member.encode())
    );

    let wrong = JoinKey::from_bytes(random());
    let (outcome, _, _, ticket) = room
        .create(&mut con, "create_or_join", &wrong, 60, 60, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Exists);
    assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);

    room.add_members(&mut con, 4).await;
    let (outcome, _, members, ticket) = room
        .create(&mut con, "create_or_join", &room.join, 60, 60, 4)
        .await;
    assert_eq!((outcome, members), (RoomOutcome::Full, 4));
    assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);

    room.end(&mut con, Some(&room.creator), "PUBLISH")
        .await
        .unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn create_or_join_creates_an_absent_room() {
    let mut con = connect().await;
    let room = Room::new();
    let (outcome, _, _, ticket) = room
        .create(&mut con, "create_or_join", &room.join, 600, 60, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Created);
    assert_eq!(
        get(&mut con, &ticket_key(&room.id, &ticket))
            .await
            .as_deref(),
        Some(TicketGrant::Creator.encode())
    );
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn join_checks_key_creator_and_cap_with_one_answer_for_not_found() {
    let mut con = connect().await;
    let room = Room::new();
    let unknown = Room::new();
    let (expires_at, _) = room.create_default(&mut con).await;

    let (outcome, a, b, _) = unknown.join(&mut con, &unknown.join, None).await;
    assert_eq!((outcome, a, b), (RoomOutcome::NotFound, 0, 0));
    assert!(
        unknown.keys(&mut con).await.is_empty(),
        "no trace of a miss"
    );

    let wrong_key = JoinKey::from_bytes(random());
    let (outcome, a, b, ticket) = room.join(&mut con, &wrong_key, None).await;
    assert_eq!((outcome, a, b), (RoomOutcome::NotFound, 0, 0));
    assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);

    let wrong_creator = CreatorToken::from_bytes(random());
    let (outcome, a, b, _) = room.join(&mut con, &room.join, Some(&wrong_creator)).await;
    assert_eq!((outcome, a, b), (RoomOutcome::NotFound, 0, 0));

    room.add_members(&mut con, 1).await;
    let (outcome, exp, members, ticket) = room.join(&mut con, &room.join, None).await;
    assert_eq!(
        (outcome, exp, members),
        (RoomOutcome::Joined, expires_at, 1)
    );
    assert_eq!(
        get(&mut con, &ticket_key(&room.id, &ticket))
            .await
            .as_deref(),
        Some(TicketGrant::Member.encode())
    );

    let (outcome, _, _, ticket) = room.join(&mut con, &room.join, Some(&room.creator)).await;
    assert_eq!(outcome, RoomOutcome::Joined);
    assert_eq!(
        get(&mut con, &ticket_key(&room.id, &ticket))
            .await
            .as_deref(),
        Some(TicketGrant::Creator.encode())
    );

    room.add_members(&mut con, 4).await;
    let (outcome, exp, members, ticket) = room.join(&mut con, &room.join, None).await;
    assert_eq!((outcome, exp, members), (RoomOutcome::Full, expires_at, 4));
    assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);

    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn expired_tickets_leave_the_tickets_set_on_the_next_issue() {
    let mut con = connect().await;
    let room = Room::new();
    let (_, creator_ticket) = room.create_default(&mut con).await;
    let (_, _, _, short) = room.join_with_ttl(&mut con, &room.join, None, 1).await;
    assert_eq!(listed_tickets(&mut con, &room).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&mut con, &ticket_key(&room.id, &short)).await, None);
    let (_, _, _, next) = room.join(&mut con, &room.join, None).await;
    let names: Vec<String> = listed_tickets(&mut con, &room)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        vec![
            ticket_key(&room.id, &creator_ticket),
            ticket_key(&room.id, &next)
        ]
    );
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn outstanding_tickets_are_capped_per_room() {
    let mut con = connect().await;
    let room = Room::new();
    let other = Room::new();
    room.create(&mut con, "create", &room.join, 3600, 900, 2)
        .await;
    other.create_default(&mut con).await;
    // max_members 2 × TICKETS_PER_SEAT 2 = 4, the creator's included.
    let cap = 2 * TICKETS_PER_SEAT as usize;
    for _ in 1..cap {
        let (outcome, ..) = room.join(&mut con, &room.join, None).await;
        assert_eq!(outcome, RoomOutcome::Joined);
    }
    for creator in [None, Some(&room.creator)] {
        let (outcome, retry_after, _, ticket) = room.join(&mut con, &room.join, creator).await;
        assert_eq!(outcome, RoomOutcome::TooManyTickets);
        assert!((1..=30).contains(&retry_after), "{retry_after}");
        assert_eq!(get(&mut con, &ticket_key(&room.id, &ticket)).await, None);
    }
    let (outcome, retry_after, _, _) = room
        .create(&mut con, "create_or_join", &room.join, 60, 60, 2)
        .await;
    assert_eq!(
        (outcome, retry_after > 0),
        (RoomOutcome::TooManyTickets, true)
    );
    assert_eq!(listed_tickets(&mut con, &room).await.len(), cap);
    assert_eq!(
        room.keys(&mut con).await.len(),
        2 + cap,
        "room, set, tickets"
    );
    // Another room does not notice.
    let (outcome, ..) = other.join(&mut con, &other.join, None).await;
    assert_eq!(outcome, RoomOutcome::Joined);
    for r in [&room, &other] {
        r.end(&mut con, None, "PUBLISH").await.unwrap();
        assert!(r.keys(&mut con).await.is_empty());
    }
}

#[tokio::test]
async fn a_seat_is_kept_for_the_absent_creator() {
    let mut con = connect().await;
    let room = Room::new();
    room.create_default(&mut con).await;
    room.add_members(&mut con, 3).await;
    let (outcome, ..) = room.join(&mut con, &room.join, None).await;
    assert_eq!(
        outcome,
        RoomOutcome::Full,
        "4 seats, one kept for the creator"
    );
    let (outcome, ..) = room.join(&mut con, &room.join, Some(&room.creator)).await;
    assert_eq!(outcome, RoomOutcome::Joined);
    // With the creator present, the last seat is open to anyone.
    let _: () = redis::cmd("HSET")
        .arg(room_key(&room.id))
        .arg("creator_member")
        .arg("member-0")
        .query_async(&mut con)
        .await
        .unwrap();
    let (outcome, ..) = room.join(&mut con, &room.join, None).await;
    assert_eq!(outcome, RoomOutcome::Joined);
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn end_verifies_the_creator_deletes_everything_and_publishes() {
    let mut con = connect().await;
    let room = Room::new();
    room.create_default(&mut con).await;
    room.join(&mut con, &room.join, None).await;
    room.join(&mut con, &room.join, None).await;
    room.add_members(&mut con, 2).await;
    let keys = room.keys(&mut con).await;
    assert_eq!(
        keys.len(),
        6,
        "room, presence, tickets set, 3 tickets: {keys:?}"
    );

    let mut sub = subscriber("SUBSCRIBE", &channel(&room.id));

    let wrong = CreatorToken::from_bytes(random());
    assert_eq!(
        room.end(&mut con, Some(&wrong), "PUBLISH").await.unwrap(),
        EndOutcome::WrongCreator
    );
    assert_eq!(room.keys(&mut con).await, keys, "nothing changed");

    assert_eq!(
        room.end(&mut con, Some(&room.creator), "PUBLISH")
            .await
            .unwrap(),
        EndOutcome::Ended
    );
    assert!(room.keys(&mut con).await.is_empty());
    let (kind, chan, payload) = next_message(&mut sub);
    assert_eq!((kind.as_str(), chan), ("message", channel(&room.id)));
    assert_eq!(payload, ENDED);

    // Idempotent: with the creator check nothing happens, without it the
    // leftovers (none) are wiped and `ended` goes out again.
    assert_eq!(
        room.end(&mut con, Some(&room.creator), "PUBLISH")
            .await
            .unwrap(),
        EndOutcome::NotFound
    );
    assert_eq!(
        room.end(&mut con, None, "PUBLISH").await.unwrap(),
        EndOutcome::NotFound
    );
    assert_eq!(next_message(&mut sub).2, ENDED);
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn end_without_a_room_hash_still_wipes_relay_leftovers() {
    let mut con = connect().await;
    let room = Room::new();
    room.add_members(&mut con, 3).await;
    assert_eq!(room.keys(&mut con).await.len(), 1);
    assert_eq!(
        room.end(&mut con, Some(&room.creator), "PUBLISH")
            .await
            .unwrap(),
        EndOutcome::NotFound
    );
    assert_eq!(room.keys(&mut con).await.len(), 1, "creator check: no-op");
    assert_eq!(
        room.end(&mut con, None, "PUBLISH").await.unwrap(),
        EndOutcome::NotFound
    );
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn end_can_publish_on_a_sharded_channel() {
    let mut con = connect().await;
    let room = Room::new();
    room.create_default(&mut con).await;
    let mut sub = subscriber("SSUBSCRIBE", &channel(&room.id));
    assert_eq!(
        room.end(&mut con, None, "SPUBLISH").await.unwrap(),
        EndOutcome::Ended
    );
    let (kind, chan, payload) = next_message(&mut sub);
    assert_eq!((kind.as_str(), chan), ("smessage", channel(&room.id)));
    assert_eq!(payload, ENDED);
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn end_refuses_other_commands_and_changes_nothing() {
    let mut con = connect().await;
    let room = Room::new();
    room.create_default(&mut con).await;
    let keys = room.keys(&mut con).await;
    for bad in ["DEL", "FLUSHALL", ""] {
        assert!(room.end(&mut con, None, bad).await.is_err(), "{bad}");
    }
    assert_eq!(room.keys(&mut con).await, keys);
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn a_room_expires_whole_after_its_idle_limit() {
    let mut con = connect().await;
    let room = Room::new();
    let (outcome, _, _, ticket) = room
        .create(&mut con, "create", &room.join, 3600, 1, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Created);
    assert!(pttl(&mut con, &ticket_key(&room.id, &ticket)).await <= 1000);
    assert_eq!(room.keys(&mut con).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(room.keys(&mut con).await.is_empty());
    // And the same credentials create it again, fresh.
    let (outcome, ..) = room
        .create(&mut con, "create", &room.join, 3600, 900, 4)
        .await;
    assert_eq!(outcome, RoomOutcome::Created);
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn create_wipes_leftovers_of_an_earlier_room() {
    let mut con = connect().await;
    let room = Room::new();
    room.add_members(&mut con, 2).await;
    let stale = ticket_key(&room.id, &Ticket::from_bytes(random()));
    let _: () = redis::cmd("SET")
        .arg(&stale)
        .arg(TicketGrant::Creator.encode())
        .arg("EX")
        .arg(30)
        .query_async(&mut con)
        .await
        .unwrap();
    let _: () = redis::cmd("ZADD")
        .arg(tickets_key(&room.id))
        .arg(i64::MAX / 2)
        .arg(&stale)
        .query_async(&mut con)
        .await
        .unwrap();
    let (_, ticket) = room.create_default(&mut con).await;
    assert_eq!(get(&mut con, &stale).await, None);
    let mut expected = vec![
        room_key(&room.id),
        tickets_key(&room.id),
        ticket_key(&room.id, &ticket),
    ];
    expected.sort();
    assert_eq!(room.keys(&mut con).await, expected);
    room.end(&mut con, None, "PUBLISH").await.unwrap();
    assert!(room.keys(&mut con).await.is_empty());
}

#[tokio::test]
async fn rate_limit_counts_all_buckets_or_none() {
    let mut con = connect().await;
    let secret = RateKeySecret::new(random::<32>()).unwrap();
    let address = rate_key(RateAction::Create, &secret, "v4:203.0.113.9");
    let neighbour = rate_key(RateAction::Create, &secret, "v4:203.0.113.10");
    let global = rate_key(RateAction::Create, &secret, GLOBAL_BUCKET);
    let shared = con.clone();
    let hit = |keys: Vec<&String>, limits: Vec<u32>, window: u32| {
        let mut con = shared.clone();
        let keys: Vec<String> = keys.into_iter().cloned().collect();
        async move {
            let script = Script::new(RATE_LIMIT);
            let mut invocation = script.prepare_invoke();
            for key in keys {
                invocation.key(key);
            }
            invocation.arg(window);
            for limit in limits {
                invocation.arg(limit);
            }
            let reply: Vec<i64> = invocation.invoke_async(&mut con).await.expect("RATE_LIMIT");
            assert_eq!(reply.len(), 1);
            reply[0]
        }
    };
    // Address limit 2, global budget 3.
    assert_eq!(hit(vec![&address, &global], vec![2, 3], 60).await, 0);
    assert_eq!(hit(vec![&address, &global], vec![2, 3], 60).await, 0);
    let wait = hit(vec![&address, &global], vec![2, 3], 60).await;
    assert!((1..=60).contains(&wait), "{wait}");
    // The refused request counted nowhere: the budget has one left.
    assert_eq!(get(&mut con, &global).await.as_deref(), Some(&b"2"[..]));
    assert_eq!(hit(vec![&neighbour, &global], vec![2, 3], 60).await, 0);
    assert!(hit(vec![&neighbour, &global], vec![2, 3], 60).await > 0);
    assert_eq!(get(&mut con, &neighbour).await.as_deref(), Some(&b"1"[..]));
    assert_eq!(get(&mut con, &global).await.as_deref(), Some(&b"3"[..]));
    // Windows expire.
    let short = rate_key(RateAction::Join, &secret, "v4:203.0.113.9");
    assert_eq!(hit(vec![&short], vec![1], 1).await, 0);
    assert!(pttl(&mut con, &short).await <= 1000);
    assert_eq!(hit(vec![&short], vec![1], 1).await, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(hit(vec![&short], vec![1], 1).await, 0, "a new window");
    let _: () = redis::cmd("DEL")
        .arg(&address)
        .arg(&neighbour)
        .arg(&global)
        .arg(&short)
        .query_async(&mut con)
        .await
        .unwrap();
}
