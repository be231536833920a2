//! The Redis schema of Vroom (DESIGN §5): key names, value encodings and the
//! Lua scripts the rooms API and the relay run against them.
//!
//! Every key of room `R` carries the hash tag `{R}` so that all of them live
//! in one Redis Cluster slot, and every one of them has a TTL:
//!
//! | key | type | content | TTL |
//! | --- | --- | --- | --- |
//! | [`room_key`] `vroom:{R}:room` | hash | see [`room_fields`] | deadline |
//! | [`presence_key`] `vroom:{R}:presence` | sorted set | member id → last seen (Unix ms); filled by the relay | deadline |
//! | [`ticket_key`] `vroom:{R}:ticket:<hex sha256(ticket)>` | string | [`TicketGrant`] encoding | min([`TICKET_TTL_SECS`], deadline) |
//! | [`tickets_key`] `vroom:{R}:tickets` | sorted set | full *key names* of the outstanding ticket keys → their expiry (Unix ms); at most `max_members ×` [`TICKETS_PER_SEAT`] | deadline |
//! | [`rate_key`] `vroom:{rate}:<action>:<hex HMAC-SHA256(secret, bucket)>` | string | counter | [`RATE_WINDOW_SECS`] |
//!
//! A new room's deadline is short (the *claim* deadline, about a minute)
//! until a ticket of it is redeemed: a room nobody connects to is gone soon.
//! After that the *deadline* of a room is `min(now + idle_secs, expires_at)` with `now`
//! the time of the last activity, read from Redis `TIME` inside scripts so
//! every party shares one clock. Activity (relay traffic) moves it forward,
//! never past `expires_at`. Rate-limit keys are per client bucket (or global),
//! not per room; they share the hash tag `{rate}` and hold only a keyed hash
//! of the bucket ([`rate_key`]).
//!
//! Room `R` has the pub/sub channel [`channel`] `vroom:{R}` (same hash tag, so
//! it may be a sharded channel): relay frames, and [`ENDED`] when the room
//! ends. Relay frame encodings must never be byte-for-byte equal to [`ENDED`].

/// The literal of [`ENDED`], shared with the Lua scripts.
macro_rules! ended {
    () => {
        "ended"
    };
}
use ended;

mod grant;
mod keys;
pub mod scripts;

pub use grant::TicketGrant;
pub use keys::{
    GLOBAL_BUCKET, RateAction, RateKeySecret, channel, presence_key, rate_key, room_key,
    room_pattern, ticket_key, tickets_key,
};

/// How long a ticket may wait to be redeemed, in seconds.
pub const TICKET_TTL_SECS: u32 = 30;

/// Outstanding tickets a room may have per member seat (`max_members`):
/// beyond, joins get `429` until tickets are redeemed or expire. Two per seat
/// leaves room for every member to reconnect at once.
pub const TICKETS_PER_SEAT: u32 = 2;

/// Window of the per-client rate limits, in seconds.
pub const RATE_WINDOW_SECS: u32 = 60;

/// Message published on the room's [`channel`] when the room ends.
pub const ENDED: &[u8] = ended!().as_bytes();

/// Field names of the room hash ([`room_key`]). Hashes are lowercase hex,
/// times Unix seconds, all values decimal or hex ASCII.
pub mod room_fields {
    /// Lowercase hex SHA-256 of the join key.
    pub const JOIN_KEY_SHA256: &str = "join_key_sha256";
    /// Lowercase hex SHA-256 of the creator token.
    pub const CREATOR_SHA256: &str = "creator_sha256";
    /// Creation time (Unix seconds).
    pub const CREATED: &str = "created";
    /// Lifetime cap (Unix seconds); the room never outlives it.
    pub const EXPIRES_AT: &str = "expires_at";
    /// Idle limit in seconds.
    pub const IDLE_SECS: &str = "idle_secs";
    /// Most members the room may hold at once, the creator included.
    pub const MAX_MEMBERS: &str = "max_members";
    /// `1` once a ticket of the room was redeemed (absent before): the room
    /// then lives to its idle deadline instead of its short claim deadline.
    pub const CLAIMED: &str = "claimed";
    /// `1` while the creator keeps the room locked (absent otherwise): no
    /// ticket for a new member is issued or redeemed.
    pub const LOCKED: &str = "locked";
    /// Prefix of `expel:<member id>` = `1`: the creator removed that member
    /// and the relay node holding it has not closed it yet. At most one per
    /// member present.
    pub const EXPEL_PREFIX: &str = "expel:";
    /// How many `expel:` marks the room holds (absent at zero): the relay's
    /// upkeep looks for marks only while there are some.
    pub const EXPELS: &str = "expels";
}
