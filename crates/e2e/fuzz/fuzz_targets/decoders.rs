//! Feeds arbitrary bytes to every decoder of vroom-e2e and to a live session
//! (chat payloads and file chunks), and replays a real file's chunks to a
//! receiver in an order and with alterations the input chooses.
//! Run: `cd crates/e2e/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run decoders`.
#![no_main]

use std::sync::LazyLock;

use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use libfuzzer_sys::fuzz_target;
use vroom_e2e::distribution::open_distribution;
use vroom_e2e::file::{FileHasher, FileId, FileKey, FileOffer, IncomingFile, OutgoingFile};
use vroom_e2e::member::{MemberKeys, open_announcement};
use vroom_e2e::message::unpad;
use vroom_e2e::wire;
use vroom_e2e::{MemberId, RoomKeys, RoomSecret, Session, parse_invite_link};

static ROOM: LazyLock<RoomKeys> = LazyLock::new(|| RoomSecret::from_bytes([7; 32]).derive_keys());
static ME: LazyLock<MemberKeys> = LazyLock::new(|| MemberKeys::from_seeds(&[1; 32], &[2; 32]));
static PEER: LazyLock<MemberKeys> = LazyLock::new(|| MemberKeys::from_seeds(&[3; 32], &[4; 32]));

/// A 4,100-byte file (five chunks of 1,020 bytes, the last one 20).
static OFFER: LazyLock<FileOffer> = LazyLock::new(|| {
    let mut hasher = FileHasher::new();
    hasher.update(&[0xAB; 4100]);
    FileOffer {
        file_id: FileId([5; 16]),
        key: FileKey::from_bytes([6; 32]),
        sha256: hasher.finish(),
        size: 4100,
        chunk_size: 1020,
        mime: "application/octet-stream".into(),
        name: "fuzz.bin".into(),
    }
});

/// Its chunks, sealed by member 2.
static CHUNKS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut out = OutgoingFile::new(&OFFER, Default::default());
    let mut chunks = Vec::new();
    while !out.is_done() {
        let data = vec![0xAB; out.next_len()];
        chunks.push(
            out.next_chunk(&ROOM.room_id(), MemberId(2), &data)
                .expect("seal"),
        );
    }
    chunks
});

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode(data);
    if let Ok(frame) = wire::ChunkFrame::decode(data) {
        let mut incoming = IncomingFile::accept(MemberId(2), &OFFER, u64::MAX).expect("accept");
        let _ = incoming.feed(&ROOM.room_id(), &frame);
    }
    // Triples (which chunk, where to flip, which bits) replayed to one
    // receiver: the real chunks in any order, some altered.
    let mut incoming = IncomingFile::accept(MemberId(2), &OFFER, u64::MAX).expect("accept");
    for op in data.chunks(3) {
        let mut chunk = CHUNKS[usize::from(op[0]) % CHUNKS.len()].clone();
        if let [_, at, bits] = op {
            let at = usize::from(*at) * 67 % chunk.len();
            chunk[at] ^= bits;
        }
        let Ok(frame) = wire::ChunkFrame::decode(&chunk) else {
            continue;
        };
        match incoming.feed(&ROOM.room_id(), &frame) {
            // Completion needs every chunk, unaltered, in order.
            Ok(fed) if fed.complete => break,
            Ok(_) => {}
            Err(_) => {
                incoming = IncomingFile::accept(MemberId(2), &OFFER, u64::MAX).expect("accept")
            }
        }
    }
    let _ = open_announcement(&ROOM, MemberId(2), data);
    let _ = open_distribution(&ROOM, MemberId(1), &ME, MemberId(2), &PEER.public(), data);
    let _ = unpad(data);
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = parse_invite_link(text);
        let _ = RoomSecret::from_base64url(text);
    }
    let mut session =
        match Session::new(&ROOM, MemberId(1), "fuzz", ChaCha20Rng::from_seed([9; 32])) {
            Ok(s) => s,
            Err(_) => return,
        };
    session.on_member_joined(MemberId(2));
    for chunk in data.split(|b| *b == 0xff) {
        let _ = session.on_payload(MemberId(2), chunk);
        let _ = session.on_chunk(MemberId(2), chunk);
    }
    // Our own typing signals and texts interleaved with whatever arrived.
    let _ = session.send_typing();
    let _ = session.send_text("fuzz");
});
