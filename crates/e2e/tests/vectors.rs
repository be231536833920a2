//! Test vectors: the implementation must reproduce `vectors/v2/*.json`
//! exactly, and open the frames stored there; the frozen `vectors/v1/*.json`
//! of protocol version 1 must be refused as too old. Run natively and in the
//! browser.
//!
//! Regenerate v2 (only after an intended wire change, and say so in the
//! commit): `cargo test --release -p vroom-e2e --test vectors -- --ignored regenerate`.
//! v1 is never regenerated.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};
use vroom_e2e::chain::ChainKey;
use vroom_e2e::distribution::{ChainGrant, open_distribution, seal_distribution};
use vroom_e2e::file::{FileKey, FileOffer, IncomingFile, OutgoingFile};
use vroom_e2e::member::{MemberKeys, TabId, open_announcement};
use vroom_e2e::message::{
    Content, decrypt_message, pad_content, seal_content, seal_message, seal_typing, unpad,
    verify_message,
};
use vroom_e2e::schedule::{
    ARGON2_M_KIB, ARGON2_P, ARGON2_T, normalize_passphrase, normalize_room_name, room_name_salt,
};
use vroom_e2e::wire::{self, ChunkFrame, MessageFrame};
use vroom_e2e::{
    DecodeError, DisplayName, Event, FileHasher, FileId, LinkError, MemberId, RejectReason,
    RoomKeys, RoomSecret, Session, invite_link,
};

const KEY_SCHEDULE: &str = include_str!("../vectors/v2/key_schedule.json");
const CHAIN: &str = include_str!("../vectors/v2/chain.json");
const ANNOUNCEMENT: &str = include_str!("../vectors/v2/announcement.json");
const DISTRIBUTION: &str = include_str!("../vectors/v2/distribution.json");
const MESSAGE: &str = include_str!("../vectors/v2/message.json");
const TYPING: &str = include_str!("../vectors/v2/typing.json");
const FILE: &str = include_str!("../vectors/v2/file.json");

/// Protocol version 1, frozen: never regenerated, only refused.
const V1_KEY_SCHEDULE: &str = include_str!("../vectors/v1/key_schedule.json");
const V1_ANNOUNCEMENT: &str = include_str!("../vectors/v1/announcement.json");
const V1_DISTRIBUTION: &str = include_str!("../vectors/v1/distribution.json");
const V1_MESSAGE: &str = include_str!("../vectors/v1/message.json");

const ORIGIN: &str = "https://vroom.example";
const QUICK_SECRET: [u8; 32] = *b"vroom test vector quick room S!!";
const ROOM_NAME: &str = "  Ｔhe  Café\u{3000}LOUNGE ";
const PASSPHRASE: &str = "correct horse ﬁ battery Staple";
const NORMALISATION_INPUTS: [&str; 6] = [
    "Team  Standup",
    "\tＴＥＡＭ\u{a0}standup\n",
    "Cafe\u{301} Ω",
    "ΣΟΦΟΣ room",
    "ﬁle ① Ⅻ",
    "İstanbul",
];

fn h(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn room_json(secret: &RoomSecret, keys: &RoomKeys) -> Value {
    json!({
        "secret": h(secret.as_bytes()),
        "secret_b64": secret.to_base64url().as_str(),
        "room_id": h(keys.room_id().as_bytes()),
        "room_id_b64": keys.room_id().to_base64url(),
        "join_key": h(keys.join_key()),
        "join_key_b64": keys.join_key_base64url().as_str(),
        "room_id_input": h(&[vroom_e2e::labels::ROOM_ID.as_slice(), keys.join_key()].concat()),
        "psk": h(keys.psk()),
        "announce_key": h(keys.announce_key()),
        "invite_link": invite_link(ORIGIN, secret).as_str(),
    })
}

fn quick_room() -> (RoomSecret, RoomKeys) {
    let secret = RoomSecret::from_bytes(QUICK_SECRET);
    let keys = secret.derive_keys();
    (secret, keys)
}

fn key_schedule() -> Value {
    let (secret, keys) = quick_room();
    let named = RoomSecret::from_name_and_passphrase(ROOM_NAME, PASSPHRASE).expect("named room");
    let normalized = normalize_room_name(ROOM_NAME).expect("name");
    let pass = normalize_passphrase(PASSPHRASE).expect("passphrase");
    let mut named_json = room_json(&named, &named.derive_keys());
    if let Value::Object(map) = &mut named_json {
        map.insert("name".into(), json!(ROOM_NAME));
        map.insert("normalized_name".into(), json!(normalized));
        map.insert("passphrase".into(), json!(PASSPHRASE));
        map.insert("normalized_passphrase".into(), json!(pass.as_str()));
        map.insert("salt".into(), json!(h(&room_name_salt(&normalized))));
        map.insert(
            "argon2id".into(),
            json!({"m_kib": ARGON2_M_KIB, "t": ARGON2_T, "p": ARGON2_P, "version": 19, "output_len": 32}),
        );
    }
    let normalisation: Vec<Value> = NORMALISATION_INPUTS
        .iter()
        .map(|i| json!({"input": i, "output": normalize_room_name(i).expect("name")}))
        .collect();
    json!({
        "description": "Key schedule (docs/PROTOCOL.md §2), protocol v2. Byte strings are hex; *_b64 are base64url without padding; room_id is the first 16 bytes of SHA-256(room_id_input).",
        "origin": ORIGIN,
        "quick": room_json(&secret, &keys),
        "named": named_json,
        "room_name_normalisation": normalisation,
    })
}

fn chain() -> Value {
    let ck0 = [0x11u8; 32];
    let mut ck = ChainKey::from_bytes(ck0);
    let mut steps = Vec::new();
    for index in 0..5u32 {
        let (mk, next) = ck.step();
        steps.push(json!({
            "index": index,
            "chain_key": h(ck.as_bytes()),
            "message_key": h(mk.key()),
            "nonce": h(mk.nonce()),
        }));
        ck = next;
    }
    json!({
        "description": "Chain derivation (docs/PROTOCOL.md §5): chain_key is the key at `index`.",
        "steps": steps,
    })
}

fn member(seed: u8) -> (MemberKeys, [u8; 32], [u8; 32]) {
    let ikm = [seed; 32];
    let ed = [seed.wrapping_add(0x80); 32];
    (MemberKeys::from_seeds(&ikm, &ed), ikm, ed)
}

fn member_json(id: u32, seed: u8, room: &RoomKeys) -> Value {
    let (keys, ikm, ed) = member(seed);
    let code = keys.safety_code(&room.room_id());
    json!({
        "member_id": id,
        "hpke_ikm": h(&ikm),
        "ed25519_seed": h(&ed),
        "hpke_public": h(&keys.hpke_public_bytes()),
        "signing_public": h(&keys.signing_public_bytes()),
        "safety_code": code.as_str(),
        "discriminator": {"colour": code.colour(), "first_group": code.first_group()},
    })
}

fn announcement() -> Value {
    let (secret, room) = quick_room();
    let (keys, _, _) = member(0x21);
    json!({
        "description": "Member announcement (docs/PROTOCOL.md §4), room = key_schedule quick room.",
        "secret": h(secret.as_bytes()),
        "member": member_json(7, 0x21, &room),
        "announcement": h(&keys.announcement(&room, MemberId(7))),
    })
}

const DISTRIBUTION_SEED: [u8; 32] = [0x44; 32];

fn grant() -> ChainGrant {
    ChainGrant {
        chain_id: 3,
        index: 42,
        chain_key: ChainKey::from_bytes([0x33; 32]),
        tab: TabId([0x7a; 16]),
        name: DisplayName::new("Amber Otter").expect("name"),
    }
}

fn distribution() -> Value {
    let (secret, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let (recipient, _, _) = member(0x51);
    let g = grant();
    let mut ikm_e = [0u8; 32];
    chacha20::ChaCha20Rng::from_seed(DISTRIBUTION_SEED).fill_bytes(&mut ikm_e);
    let mut rng = chacha20::ChaCha20Rng::from_seed(DISTRIBUTION_SEED);
    let frame = seal_distribution(
        &room,
        MemberId(7),
        &sender,
        MemberId(9),
        &recipient.public(),
        &g,
        &mut rng,
    )
    .expect("seal");
    json!({
        "description": "Chain distribution (docs/PROTOCOL.md §6), HPKE AuthPSK from member 7 to member 9. ikm_e is the RNG output used for the ephemeral DeriveKeyPair (ChaCha20Rng seeded with rng_seed).",
        "secret": h(secret.as_bytes()),
        "sender": member_json(7, 0x21, &room),
        "recipient": member_json(9, 0x51, &room),
        "grant": {
            "chain_id": g.chain_id,
            "index": g.index,
            "chain_key": h(g.chain_key.as_bytes()),
            "tab_id": h(&g.tab.0),
            "name": g.name.as_str(),
        },
        "rng_seed": h(&DISTRIBUTION_SEED),
        "ikm_e": h(&ikm_e),
        "frame": h(&frame),
    })
}

const MESSAGE_TEXT: &str = "Hello, Vroom! 👋";

fn message() -> Value {
    let (secret, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let ck0 = ChainKey::from_bytes([0x33; 32]);
    let (_, ck1) = ck0.step();
    let (mk, _) = ck1.step();
    let frame = seal_message(
        &room.room_id(),
        MemberId(7),
        &sender,
        3,
        1,
        &mk,
        MESSAGE_TEXT,
    )
    .expect("seal");
    json!({
        "description": "Message frame (docs/PROTOCOL.md §7) from member 7, chain 3 at index 1; chain_key is the key at index 0.",
        "secret": h(secret.as_bytes()),
        "sender": member_json(7, 0x21, &room),
        "chain_id": 3,
        "chain_key": h(ck0.as_bytes()),
        "index": 1,
        "message_key": h(mk.key()),
        "nonce": h(mk.nonce()),
        "text": MESSAGE_TEXT,
        "frame": h(&frame),
    })
}

fn stored(text: &str) -> Value {
    serde_json::from_str(text).expect("vector file is JSON")
}

fn assert_same(name: &str, computed: &Value, stored: &Value) {
    assert_eq!(
        computed, stored,
        "{name}: the implementation no longer matches vectors/{name}.json (a wire or derivation change)"
    );
}

fn hex_field(v: &Value, path: &[&str]) -> Vec<u8> {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    hex::decode(cur.as_str().expect("string field")).expect("hex field")
}

#[test]
fn key_schedule_matches_vectors() {
    let stored = stored(KEY_SCHEDULE);
    assert_same("key_schedule", &key_schedule(), &stored);
    // Parsing the stored link gives back the stored secret.
    let link = stored["quick"]["invite_link"].as_str().expect("link");
    let parsed = vroom_e2e::parse_invite_link(link).expect("stored link parses");
    assert_eq!(
        parsed.as_bytes().to_vec(),
        hex_field(&stored, &["quick", "secret"])
    );
}

#[test]
fn chain_matches_vectors() {
    assert_same("chain", &chain(), &stored(CHAIN));
}

#[test]
fn announcement_matches_vectors() {
    let stored = stored(ANNOUNCEMENT);
    assert_same("announcement", &announcement(), &stored);
    let (_, room) = quick_room();
    let bytes = hex_field(&stored, &["announcement"]);
    let peer = open_announcement(&room, MemberId(7), &bytes).expect("stored announcement verifies");
    assert_eq!(
        peer.hpke_public_bytes().to_vec(),
        hex_field(&stored, &["member", "hpke_public"])
    );
}

#[test]
fn distribution_matches_vectors() {
    let stored = stored(DISTRIBUTION);
    assert_same("distribution", &distribution(), &stored);
    let (_, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let (recipient, _, _) = member(0x51);
    let frame = hex_field(&stored, &["frame"]);
    let g = open_distribution(
        &room,
        MemberId(9),
        &recipient,
        MemberId(7),
        &sender.public(),
        &frame,
    )
    .expect("stored distribution opens");
    assert_eq!(
        (g.chain_id, g.index, g.tab, g.name.as_str()),
        (3, 42, TabId([0x7a; 16]), "Amber Otter")
    );
    assert_eq!(g.chain_key.as_bytes(), grant().chain_key.as_bytes());
}

fn typing() -> Value {
    let (secret, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let ck0 = ChainKey::from_bytes([0x33; 32]);
    let (_, ck1) = ck0.step();
    let (_, ck2) = ck1.step();
    let (mk, _) = ck2.step();
    let frame = seal_typing(&room.room_id(), MemberId(7), &sender, 3, 2, &mk).expect("seal");
    json!({
        "description": "Typing signal (docs/PROTOCOL.md §7.1): a message frame from member 7, chain 3 at index 2, whose padded body is the tag 0xFFFF and 254 zeros; chain_key is the key at index 0.",
        "secret": h(secret.as_bytes()),
        "sender": member_json(7, 0x21, &room),
        "chain_id": 3,
        "chain_key": h(ck0.as_bytes()),
        "index": 2,
        "message_key": h(mk.key()),
        "nonce": h(mk.nonce()),
        "frame": h(&frame),
    })
}

#[test]
fn typing_matches_vectors() {
    let message = stored(MESSAGE);
    let stored = stored(TYPING);
    assert_same("typing", &typing(), &stored);
    let (_, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let bytes = hex_field(&stored, &["frame"]);
    // The same length as the message vector's short text.
    assert_eq!(bytes.len(), hex_field(&message, &["frame"]).len());
    let frame = MessageFrame::decode(&bytes).expect("stored frame decodes");
    verify_message(&room.room_id(), &frame, &sender.public()).expect("signature");
    let (_, ck1) = ChainKey::from_bytes([0x33; 32]).step();
    let (_, ck2) = ck1.step();
    let (mk, _) = ck2.step();
    let padded = decrypt_message(&room.room_id(), &frame, &mk).expect("decrypts");
    assert_eq!(unpad(&padded), Ok(Content::Typing));
}

/// The file of the file vector: 600 bytes, three chunks of 252, 252 and 96.
fn file_bytes() -> Vec<u8> {
    (0..600u32).map(|i| (i % 251) as u8).collect()
}

fn file_offer() -> FileOffer {
    let mut hasher = FileHasher::new();
    hasher.update(&file_bytes());
    FileOffer {
        file_id: FileId([0x44; 16]),
        key: FileKey::from_bytes([0x55; 32]),
        sha256: hasher.finish(),
        size: 600,
        chunk_size: 252,
        mime: "image/png".into(),
        name: "cat 🐱.png".into(),
    }
}

fn file() -> Value {
    let (secret, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let ck0 = ChainKey::from_bytes([0x33; 32]);
    let (_, ck1) = ck0.step();
    let (_, ck2) = ck1.step();
    let (_, ck3) = ck2.step();
    let (mk, _) = ck3.step();
    let offer = file_offer();
    let content = Content::FileOffer(Box::new(offer.clone()));
    let padded = pad_content(&content).expect("pads");
    let frame =
        seal_content(&room.room_id(), MemberId(7), &sender, 3, 3, &mk, &content).expect("seal");
    let data = file_bytes();
    let mut outgoing = OutgoingFile::new(&offer, Default::default());
    let mut chunks = Vec::new();
    let mut rest = &data[..];
    while !outgoing.is_done() {
        let (head, tail) = rest.split_at(outgoing.next_len());
        chunks.push(h(&outgoing
            .next_chunk(&room.room_id(), MemberId(7), head)
            .expect("chunk")));
        rest = tail;
    }
    json!({
        "description": "File (docs/PROTOCOL.md §7.2, §7.3): a 600-byte file offered by member 7 in a message (chain 3, index 3; chain_key is the key at index 0) with chunk size 252, then its three chunks (252, 252 and 96 bytes; the last flagged final) sealed under the file key. file is the plaintext (byte i = i mod 251).",
        "secret": h(secret.as_bytes()),
        "sender": member_json(7, 0x21, &room),
        "chain_id": 3,
        "chain_key": h(ck0.as_bytes()),
        "index": 3,
        "message_key": h(mk.key()),
        "nonce": h(mk.nonce()),
        "offer": {
            "file_id": h(&offer.file_id.0),
            "file_key": h(offer.key.as_bytes()),
            "sha256": h(&offer.sha256),
            "size": offer.size,
            "chunk_size": offer.chunk_size,
            "mime": offer.mime,
            "name": offer.name,
        },
        "padded_offer": h(&padded),
        "frame": h(&frame),
        "file": h(&data),
        "chunks": chunks,
    })
}

#[test]
fn file_matches_vectors() {
    let stored = stored(FILE);
    assert_same("file", &file(), &stored);
    let (_, room) = quick_room();
    let (sender, _, _) = member(0x21);
    // The offer opens as a message.
    let bytes = hex_field(&stored, &["frame"]);
    let frame = MessageFrame::decode(&bytes).expect("stored frame decodes");
    verify_message(&room.room_id(), &frame, &sender.public()).expect("signature");
    let mk = ChainKey::from_bytes(hex_field(&stored, &["chain_key"]).try_into().unwrap());
    let (_, ck1) = mk.step();
    let (_, ck2) = ck1.step();
    let (_, ck3) = ck2.step();
    let (mk, _) = ck3.step();
    let padded = decrypt_message(&room.room_id(), &frame, &mk).expect("decrypts");
    let Ok(Content::FileOffer(offer)) = unpad(&padded) else {
        panic!("an offer");
    };
    assert_eq!(*offer, file_offer());
    // The stored chunks are received in order and verified.
    let mut incoming = IncomingFile::accept(MemberId(7), &offer, 600).expect("accept");
    let mut got = Vec::new();
    let chunks = stored["chunks"].as_array().expect("chunks");
    for (i, c) in chunks.iter().enumerate() {
        let bytes = hex::decode(c.as_str().unwrap()).unwrap();
        let frame = ChunkFrame::decode(&bytes).expect("chunk decodes");
        let fed = incoming.feed(&room.room_id(), &frame).expect("chunk opens");
        got.extend_from_slice(&fed.data);
        assert_eq!(fed.complete, i + 1 == chunks.len());
    }
    assert_eq!(got, hex_field(&stored, &["file"]));
}

#[test]
fn message_matches_vectors() {
    let stored = stored(MESSAGE);
    assert_same("message", &message(), &stored);
    let (_, room) = quick_room();
    let (sender, _, _) = member(0x21);
    let bytes = hex_field(&stored, &["frame"]);
    let frame = MessageFrame::decode(&bytes).expect("stored frame decodes");
    verify_message(&room.room_id(), &frame, &sender.public()).expect("signature");
    let (_, ck1) = ChainKey::from_bytes([0x33; 32]).step();
    let (mk, _) = ck1.step();
    let padded = decrypt_message(&room.room_id(), &frame, &mk).expect("decrypts");
    assert_eq!(
        unpad(&padded).expect("unpads"),
        Content::Text(MESSAGE_TEXT.to_owned())
    );
}

#[test]
fn v1_links_are_refused_as_too_old() {
    let stored = stored(V1_KEY_SCHEDULE);
    for room in ["quick", "named"] {
        let link = stored[room]["invite_link"].as_str().expect("link");
        assert_eq!(
            vroom_e2e::parse_invite_link(link).map(|_| ()),
            Err(LinkError::OldVersion),
            "{room}"
        );
    }
    // The same secret makes another room id in v2: the server refuses the v1 pair.
    let secret =
        RoomSecret::from_bytes(hex_field(&stored, &["quick", "secret"]).try_into().unwrap());
    assert_ne!(
        secret.derive_keys().room_id().to_base64url(),
        stored["quick"]["room_id_b64"].as_str().unwrap()
    );
}

#[test]
fn v1_payloads_are_refused_as_too_old() {
    let frames = [
        hex_field(&stored(V1_ANNOUNCEMENT), &["announcement"]),
        hex_field(&stored(V1_DISTRIBUTION), &["frame"]),
        hex_field(&stored(V1_MESSAGE), &["frame"]),
    ];
    let (_, room) = quick_room();
    let mut session = Session::new(
        &room,
        MemberId(9),
        "Receiver",
        chacha20::ChaCha20Rng::from_seed([1; 32]),
    )
    .expect("session");
    session.on_member_joined(MemberId(7));
    for frame in frames {
        assert_eq!(wire::decode(&frame).err(), Some(DecodeError::TooOld(1)));
        let events = session.on_payload(MemberId(7), &frame).events;
        assert_eq!(
            events,
            vec![Event::PayloadRejected {
                from: MemberId(7),
                reason: RejectReason::Malformed(DecodeError::TooOld(1)),
            }]
        );
    }
    // A payload of a later version is too new, not garbage.
    let mut future = hex_field(&stored(ANNOUNCEMENT), &["announcement"]);
    future[0] = 3;
    assert_eq!(wire::decode(&future).err(), Some(DecodeError::TooNew(3)));
}

/// Rewrites `vectors/v2/*.json` from the implementation. Ignored: tests compare, never regenerate.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "regenerates the vector files; run only after an intended wire change"]
fn regenerate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/v2");
    for (name, value) in [
        ("key_schedule", key_schedule()),
        ("chain", chain()),
        ("announcement", announcement()),
        ("distribution", distribution()),
        ("message", message()),
        ("typing", typing()),
        ("file", file()),
    ] {
        let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
        std::fs::write(dir.join(format!("{name}.json")), text).expect("write vector");
    }
}
