//! Vroom's end-to-end encryption core: pure Rust, no I/O, for native and
//! `wasm32-unknown-unknown`.
//!
//! The protocol is specified in `docs/PROTOCOL.md`. In short:
//! - [`schedule`]: the room secret S (random, or Argon2id of a room name and
//!   passphrase) and HKDF-SHA256 from S to the room id, join key and PSK;
//! - [`link`]: invite links `https://<origin>/r/<room-id>#<S>`;
//! - [`member`]: per-join X25519 and Ed25519 key pairs, announcements
//!   (signed, HMAC'd under a PSK-derived key, bound to room and member id),
//!   safety codes;
//! - [`chain`]: sender-key chains with bounded skipped keys;
//! - [`distribution`]: a chain position sealed to one member with HPKE AuthPSK;
//! - [`message`]: padded, AEAD-encrypted, Ed25519-signed message frames;
//! - [`wire`]: the byte layouts and their decoders;
//! - [`session`]: the group state machine the page drives.
//!
//! Secrets are zeroized on drop and never printed by `Debug`.

pub mod chain;
pub mod distribution;
mod encoding;
pub mod error;
pub mod link;
pub mod member;
pub mod message;
pub mod schedule;
pub mod session;
pub mod wire;

pub use error::{DecodeError, Error, LinkError, NameError, RejectReason};
pub use link::{invite_link, parse_invite_link, parse_room_parts};
pub use member::{DisplayName, MemberId, SafetyCode};
pub use rand_core;
pub use schedule::{RoomId, RoomKeys, RoomSecret};
pub use session::{Event, MemberInfo, Outgoing, Output, Session, SystemRng};
