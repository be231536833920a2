//! Vroom's end-to-end encryption core: pure Rust, no I/O, for native and
//! `wasm32-unknown-unknown`.
//!
//! The protocol is specified in `docs/PROTOCOL.md`. In short:
//! - [`labels`]: every domain-separation label, in one table;
//! - [`schedule`]: the room secret S (random, or Argon2id of a room name and
//!   passphrase), HKDF-SHA256 from S to the join key and PSK, and the room id
//!   as a hash of the join key;
//! - [`link`]: invite links `https://<origin>/r/<room-id>#<S>`;
//! - [`member`]: a tab's identity (X25519 and Ed25519 key pairs and a tab
//!   id, kept across reconnects), announcements (signed, HMAC'd under a
//!   PSK-derived key, bound to room and member id), display-name rules,
//!   safety codes and their discriminators;
//! - [`chain`]: sender-key chains with bounded skipped keys;
//! - [`distribution`]: a chain position sealed to one member with HPKE AuthPSK;
//! - [`message`]: padded, AEAD-encrypted, Ed25519-signed message frames;
//! - [`mod@file`]: file offers (inside messages) and chunks sealed under a
//!   per-file key, with an in-order receiver that verifies the file's hash;
//! - [`wire`]: the byte layouts and their decoders;
//! - [`session`]: the group state machine the page drives.
//!
//! Secrets are zeroized on drop and never printed by `Debug`.
//!
//! # How the page uses it
//!
//! ```
//! use vroom_e2e::{Event, MemberId, Outgoing, RoomSecret, Session, invite_link, parse_invite_link};
//!
//! // Creating a quick room: draw S, derive what the server may see.
//! let secret = RoomSecret::generate(&mut vroom_e2e::SystemRng::default());
//! let keys = secret.derive_keys();
//! let (room_id, join_key) = (keys.room_id().to_base64url(), keys.join_key_base64url());
//! let link = invite_link("https://vroom.example", &secret);
//! # let _ = (room_id, join_key);
//!
//! // Joining from the link (or RoomSecret::from_name_and_passphrase for a named room).
//! let keys = parse_invite_link(&link)?.derive_keys();
//!
//! // After the relay assigned member id 7 and reported member 3 as present:
//! let mut session = Session::with_system_rng(&keys, MemberId(7), "Amber Otter")?;
//! let out = session.on_member_joined(MemberId(3));
//! for item in out.outgoing {
//!     match item {
//!         Outgoing::Direct { to, payload } => { /* relay direct frame to `to` */ let _ = (to, payload); }
//!         Outgoing::Broadcast(payload) => { /* relay broadcast frame */ let _ = payload; }
//!     }
//! }
//! // For each payload the relay delivers: session.on_payload(from, &bytes),
//! // then show `out.events` and send `out.outgoing`.
//! for event in session.on_payload(MemberId(3), b"not a payload").events {
//!     assert!(matches!(event, Event::PayloadRejected { .. }));
//! }
//! let out = session.send_text("hello")?;
//! assert!(matches!(out.outgoing.as_slice(), [Outgoing::Broadcast(_)]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Files
//!
//! ```
//! use vroom_e2e::{Event, FileHasher, FileMeta, MemberId, RoomSecret, Session};
//!
//! let keys = RoomSecret::generate(&mut vroom_e2e::SystemRng::default()).derive_keys();
//! let mut session = Session::with_system_rng(&keys, MemberId(7), "Amber Otter")?;
//! let file = vec![42u8; 40_000];
//!
//! // Sending: hash the file (slice by slice), offer it (a message to
//! // broadcast), then seal its chunks in order and send each in a relay
//! // chunk frame (`ClientFrame::Chunk`), while `WebSocket.bufferedAmount` is small.
//! let mut hasher = FileHasher::new();
//! hasher.update(&file);
//! let meta = FileMeta { name: "photo.jpg", mime: "image/jpeg", size: 40_000, sha256: hasher.finish() };
//! let (offer, file_id) = session.offer_file(&meta)?;
//! # let _ = offer;
//! let mut at = 0;
//! while let Some(n) = session.file_next_len(&file_id) {
//!     let chunk = session.file_chunk(&file_id, &file[at..at + n])?;
//!     at += n;
//!     # let _ = chunk;
//! }
//!
//! // Receiving: on `Event::FileOffered { from, file_id, size, .. }` call
//! // `session.accept_file(from, &file_id, room_limit)` (or `decline_file`);
//! // feed every chunk frame to `session.on_chunk(from, payload)`; keep the
//! // data of each `Event::FileChunk` (as Blob parts) and use the file only
//! // after `Event::FileReceived` (its SHA-256 matched the offer's);
//! // `Event::FileFailed` says why a file was dropped.
//! # let _ = |e: Event| matches!(e, Event::FileReceived { .. });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod chain;
pub mod distribution;
mod encoding;
pub mod error;
pub mod file;
pub mod labels;
pub mod link;
pub mod member;
pub mod message;
pub mod schedule;
pub mod session;
pub mod wire;

pub use error::{DecodeError, Error, LinkError, NameError, RejectReason};
pub use file::{FileError, FileHasher, FileId, FileMeta};
pub use link::{invite_link, parse_invite_link, parse_room_parts};
pub use member::{DisplayName, Identity, SafetyCode, TabId};
pub use rand_core;
pub use schedule::{RoomId, RoomKeys, RoomSecret};
pub use session::{Event, MemberInfo, Outgoing, Output, Session, SystemRng, TabMemory};
pub use wire::MemberId;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
