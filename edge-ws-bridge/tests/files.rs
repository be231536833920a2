//! The chunk lane (issue 13, `docs/PROTOCOL.md` §12.7) against real relay
//! processes and the real Redis: file chunks at full speed do not hold up
//! chat, byte budgets hold without another room noticing, a receiver that
//! does not read misses chunks instead of growing the relay's memory, the
//! room's file-byte limit holds, and malformed or oversize chunk frames get
//! their close codes. Counts, orders and states are asserted; the one
//! duration asserted is a lower bound a token bucket guarantees.

mod common;

use common::*;
use futures_util::SinkExt as _;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use vroom_shared::relay::{CHUNK_PAYLOAD_LENS, MAX_CHUNK_PAYLOAD, MAX_CLIENT_FRAME, close};
use vroom_test_support::redis_url;

const S5: Duration = Duration::from_secs(5);
const S30: Duration = Duration::from_secs(30);

async fn setup() -> (String, redis::aio::MultiplexedConnection) {
    let url = redis_url();
    let conn = redis(&url).await;
    (url, conn)
}

/// A chunk payload of the largest size whose first bytes number it.
fn chunk(i: u32) -> Vec<u8> {
    let mut c = vec![0xC5; MAX_CHUNK_PAYLOAD];
    c[..4].copy_from_slice(&i.to_be_bytes());
    c
}

fn number(payload: &[u8]) -> u32 {
    u32::from_be_bytes(payload[..4].try_into().unwrap())
}

/// A chat payload numbered `i`.
fn chat(i: u32) -> Vec<u8> {
    let mut c = b"chat ".to_vec();
    c.extend_from_slice(&i.to_be_bytes());
    c
}

/// What a reader saw, in arrival order: chunk numbers and chat numbers.
#[derive(Debug, Default)]
struct Seen {
    chunks: Vec<u32>,
    chats: Vec<u32>,
    /// (is_chat, number) in arrival order.
    order: Vec<(bool, u32)>,
    errors: Vec<u16>,
}

/// Reads until `chunks` chunks and `chats` chat frames arrived; signals
/// `started` after the tenth chunk.
async fn read(
    mut c: Client,
    chunks: usize,
    chats: usize,
    mut started: Option<oneshot::Sender<()>>,
) -> (Client, Seen) {
    let mut seen = Seen::default();
    while seen.chunks.len() < chunks || seen.chats.len() < chats {
        match c.next(S30).await {
            Some(Got::Chunk { payload, .. }) => {
                let n = number(&payload);
                seen.chunks.push(n);
                seen.order.push((false, n));
                if seen.chunks.len() == 10
                    && let Some(tx) = started.take()
                {
                    let _ = tx.send(());
                }
            }
            Some(Got::Broadcast { payload, .. }) => {
                let n = number(&payload[5..]);
                seen.chats.push(n);
                seen.order.push((true, n));
            }
            Some(Got::Joined(_) | Got::Left(_)) => {}
            Some(Got::Error(code)) => seen.errors.push(code),
            other => panic!("reader got {other:?} after {seen:?}"),
        }
    }
    (c, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_gets_through_in_order_while_chunks_stream_at_full_speed() {
    let (url, mut r) = setup().await;
    let a = Relay::start(&url, &[]);
    let b = Relay::start(&url, &[]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut sender = Client::join(a.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut talker = Client::join(a.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut near = Client::join(a.addr, &room.id, &t).await;
    let t = room.ticket(&mut r, false).await;
    let mut far = Client::join(b.addr, &room.id, &t).await;
    for c in [&mut near, &mut far] {
        c.wait_for(&Got::Joined(talker.member), S5).await;
    }
    let mut keys_before = room.keys(&mut r).await;
    keys_before.sort();
    // 8 MiB of chunks: about two seconds at the default 4 MiB/s per socket.
    const CHUNKS: u32 = 512;
    const CHATS: u32 = 50;
    let (tx_near, rx_near) = oneshot::channel();
    let near = tokio::spawn(read(near, CHUNKS as usize, CHATS as usize, Some(tx_near)));
    let far = tokio::spawn(read(far, CHUNKS as usize, CHATS as usize, None));
    let start = Instant::now();
    let stream = tokio::spawn(async move {
        for i in 0..CHUNKS {
            sender.chunk(&chunk(i)).await;
        }
        sender
    });
    // Once chunks flow, another member chats.
    rx_near.await.unwrap();
    for i in 0..CHATS {
        talker.broadcast(&chat(i)).await;
    }
    let _sender = stream.await.unwrap();
    let mut took = Duration::ZERO;
    for (name, reader) in [("near", near), ("far", far)] {
        let (_c, seen) = reader.await.unwrap();
        took = start.elapsed();
        assert_eq!(seen.chunks, (0..CHUNKS).collect::<Vec<_>>(), "{name}");
        assert_eq!(seen.chats, (0..CHATS).collect::<Vec<_>>(), "{name}");
        // Every chat frame arrived before the stream's last chunk.
        let last_chat = seen.order.iter().rposition(|(c, _)| *c).unwrap();
        let last_chunk = seen.order.iter().rposition(|(c, _)| !*c).unwrap();
        assert!(last_chat < last_chunk, "{name}: {:?}", &seen.order);
        assert!(seen.errors.is_empty(), "{name}: {:?}", seen.errors);
    }
    // The sender was held to its byte budget (4 MiB/s after a 1 MiB
    // burst, one chunk of debt), by backpressure: nothing was dropped, and
    // the last chunk reached the readers no sooner than the budget allows.
    let sent = u64::from(CHUNKS) * MAX_CHUNK_PAYLOAD as u64;
    let floor = (sent - (1 << 20) - MAX_CHUNK_PAYLOAD as u64) as f64 / f64::from(4 << 20);
    assert!(took.as_secs_f64() >= floor, "{took:?} < {floor} s");
    let body = a.metrics().await;
    assert!(
        body.contains(&format!("relay_chunks_in_total {CHUNKS}\n")),
        "{body}"
    );
    assert!(a.metric("relay_chunk_throttled_total").await > 0);
    for node in [&a, &b] {
        let body = node.metrics().await;
        // (The sender and the talker read nothing: their own chunk queues
        // overflow, which is what `chunk_slow_reader` counts.)
        for reason in ["chunk_publish_backlog", "room_file_limit"] {
            assert!(
                body.contains(&format!("relay_dropped_total{{reason=\"{reason}\"}} 0\n")),
                "{reason}: {body}"
            );
        }
    }
    // Chunks went over the room channel only: no key was added.
    let mut keys_after = room.keys(&mut r).await;
    keys_after.sort();
    assert_eq!(keys_after, keys_before);
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_byte_budget_holds_and_another_room_does_not_notice() {
    let (url, mut r) = setup().await;
    // The room budget binds (1 MiB/s for the room), not the sockets'.
    let flags = [
        "--room-file-bytes-per-sec",
        "1048576",
        "--room-file-burst-bytes",
        "262144",
        "--file-bytes-per-sec",
        "67108864",
        "--file-burst-bytes",
        "67108864",
    ];
    let a = Relay::start(&url, &flags);
    let b = Relay::start(&url, &flags);
    let busy = create_room(&mut r, 600, 600, 8).await;
    let s1 = Client::join(a.addr, &busy.id, &busy.creator_ticket).await;
    let t = busy.ticket(&mut r, false).await;
    let s2 = Client::join(a.addr, &busy.id, &t).await;
    let t = busy.ticket(&mut r, false).await;
    let mut watcher = Client::join(a.addr, &busy.id, &t).await;
    watcher.wait_for(&Got::Joined(s2.member), S5).await;
    let (m1, m2) = (s1.member, s2.member);
    // Two senders, 64 chunks each (2 MiB in all), as fast as the relay
    // reads them: the room's 1 MiB/s holds.
    const EACH: u32 = 64;
    let busy_start = Instant::now();
    let flood = |mut c: Client, base: u32| {
        tokio::spawn(async move {
            for i in 0..EACH {
                c.chunk(&chunk(base + i)).await;
            }
            c
        })
    };
    let f1 = flood(s1, 0);
    let f2 = flood(s2, 1000);
    let watch = tokio::spawn(async move {
        let (mut from1, mut from2) = (Vec::new(), Vec::new());
        while from1.len() + from2.len() < 2 * EACH as usize {
            match watcher.next(S30).await {
                Some(Got::Chunk { from, payload }) if from == m1 => from1.push(number(&payload)),
                Some(Got::Chunk { from, payload }) if from == m2 => from2.push(number(&payload)),
                other => panic!("watcher got {other:?}"),
            }
        }
        (from1, from2, busy_start.elapsed())
    });

    // Meanwhile the victim room, across both nodes, chats and sends a file.
    let victim = create_room(&mut r, 600, 600, 8).await;
    let mut v_sender = Client::join(a.addr, &victim.id, &victim.creator_ticket).await;
    let t = victim.ticket(&mut r, false).await;
    let mut v_far = Client::join(b.addr, &victim.id, &t).await;
    v_far.wait_for(&Got::Joined(v_sender.member), S5).await;
    let reader = tokio::spawn(read(v_far, 12, 20, None));
    for i in 0..20 {
        v_sender.broadcast(&chat(i)).await;
        if i < 12 {
            v_sender.chunk(&chunk(i)).await;
        }
    }
    let (_v, seen) = reader.await.unwrap();
    assert_eq!(seen.chunks, (0..12).collect::<Vec<_>>());
    assert_eq!(seen.chats, (0..20).collect::<Vec<_>>());
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);

    let (from1, from2, took) = watch.await.unwrap();
    assert_eq!(from1, (0..EACH).collect::<Vec<_>>());
    assert_eq!(from2, (1000..1000 + EACH).collect::<Vec<_>>());
    let (_s1, _s2) = (f1.await.unwrap(), f2.await.unwrap());
    // The room's bucket gave at most its burst, 1 MiB/s since, and one
    // chunk of debt per sender.
    let sent = u64::from(2 * EACH) * MAX_CHUNK_PAYLOAD as u64;
    let floor = (sent - 262_144 - 2 * MAX_CHUNK_PAYLOAD as u64) as f64 / 1_048_576.0;
    assert!(took.as_secs_f64() >= floor, "{took:?} < {floor} s");
    assert!(a.metric("relay_chunk_throttled_total").await > 0);
    busy.api_end(&mut r).await;
    victim.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_read_misses_chunks_and_memory_stays_bounded() {
    let (url, mut r) = setup().await;
    let relay = Relay::start(
        &url,
        // The default budgets (4 MiB/s per socket); chunk queues of 4 MiB,
        // a second of slack for the reader that does read.
        &["--chunk-queue-bytes", "4194304"],
    );
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut sender = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let mut slow = Client::join_with(relay.addr, &room.id, &t, Some(4096)).await;
    let t = room.ticket(&mut r, false).await;
    let fast = Client::join(relay.addr, &room.id, &t).await;
    // `slow` reads nothing while 16 MiB of chunks go through the room:
    // far more than its chunk queue and (small) socket buffers hold.
    const CHUNKS: u32 = 1024;
    let reader = tokio::spawn(read(fast, CHUNKS as usize, 1, None));
    let before = rss_kib(relay.child.id());
    for i in 0..CHUNKS {
        sender.chunk(&chunk(i)).await;
    }
    sender.broadcast(&chat(0)).await;
    let (_fast, seen) = reader.await.unwrap();
    assert_eq!(seen.chunks, (0..CHUNKS).collect::<Vec<_>>());
    let body = relay.metrics().await;
    let dropped = relay
        .metric("relay_dropped_total{reason=\"chunk_slow_reader\"}")
        .await;
    assert!(dropped > 0, "{body}");
    // Nobody was cut off: chunks are skipped, not the member.
    assert!(body.contains("relay_members 3\n"), "{body}");
    assert!(
        body.contains("relay_dropped_total{reason=\"slow_reader\"} 0\n"),
        "{body}"
    );
    let grew = rss_kib(relay.child.id()).saturating_sub(before);
    assert!(grew < 12 * 1024, "relay RSS grew by {grew} KiB\n{body}");
    // Now it reads: the chat frame (written ahead of queued chunks), the
    // notice that chunks were dropped, and the chunks it got, in order
    // with gaps. Every chunk was either delivered or counted as dropped.
    let mut chunks = Vec::new();
    let (mut notices, mut chats) = (0, 0);
    loop {
        match slow.next(Duration::from_secs(1)).await {
            Some(Got::Chunk { payload, .. }) => chunks.push(number(&payload)),
            Some(Got::Error(close::CHUNKS_DROPPED)) => notices += 1,
            Some(Got::Broadcast { .. }) => chats += 1,
            Some(Got::Joined(_)) => {}
            None => break,
            other => panic!("slow reader got {other:?}"),
        }
    }
    assert_eq!(chats, 1);
    assert!(notices >= 1);
    assert!(chunks.windows(2).all(|w| w[0] < w[1]), "{chunks:?}");
    assert_eq!(chunks.len() as i64 + dropped, i64::from(CHUNKS));
    room.api_end(&mut r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_file_limit_holds_and_bad_chunk_frames_are_closed() {
    let (url, mut r) = setup().await;
    // Six chunks of 16,431 bytes fit in 100,000 bytes; the seventh does not.
    let relay = Relay::start(&url, &["--room-file-bytes", "100000"]);
    let room = create_room(&mut r, 600, 600, 8).await;
    let mut sender = Client::join(relay.addr, &room.id, &room.creator_ticket).await;
    let t = room.ticket(&mut r, false).await;
    let receiver = Client::join(relay.addr, &room.id, &t).await;
    let reader = tokio::spawn(read(receiver, 6, 1, None));
    for i in 0..8 {
        sender.chunk(&chunk(i)).await;
    }
    // One warning for the dropped chunks (at most one per second), and
    // the sender stays: chat still goes through.
    sender.wait_for(&Got::Error(close::FILE_LIMIT), S5).await;
    sender.broadcast(&chat(0)).await;
    let (mut receiver, seen) = reader.await.unwrap();
    assert_eq!(seen.chunks, (0..6).collect::<Vec<_>>());
    assert_eq!(
        relay
            .metric("relay_dropped_total{reason=\"room_file_limit\"}")
            .await,
        2
    );
    receiver.expect_silence(Duration::from_millis(300)).await;

    // A chunk frame of a length no chunk has: protocol error.
    for bad in [vec![0x06], vec![0x06; 1 + CHUNK_PAYLOAD_LENS[0] + 1]] {
        let t = room.ticket(&mut r, false).await;
        let mut c = Client::join(relay.addr, &room.id, &t).await;
        c.ws.send(Message::Binary(bad.into())).await.unwrap();
        assert_eq!(closed(&mut c).await, Some(close::PROTOCOL_ERROR));
    }
    // A chunk frame over the frame limit: too large.
    let t = room.ticket(&mut r, false).await;
    let mut c = Client::join(relay.addr, &room.id, &t).await;
    let mut huge = vec![0u8; MAX_CLIENT_FRAME + 1];
    huge[0] = 0x06;
    c.ws.send(Message::Binary(huge.into())).await.unwrap();
    assert_eq!(closed(&mut c).await, Some(close::FRAME_TOO_LARGE));
    // The receiver saw those members come and go, and no chunk of theirs.
    for got in receiver.settle(Duration::from_millis(300)).await {
        assert!(matches!(got, Got::Joined(_) | Got::Left(_)), "{got:?}");
    }
    room.api_end(&mut r).await;
}

/// Reads until the close; its code.
async fn closed(c: &mut Client) -> Option<u16> {
    loop {
        match c.next(S5).await {
            Some(Got::Closed(code)) => return code,
            Some(_) => continue,
            None => panic!("not closed"),
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
