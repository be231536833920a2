//! Key and channel names. All keys of one room share the hash tag `{R}`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ids::{RoomId, Ticket, to_hex};

/// `vroom:{R}:room` — the room hash.
pub fn room_key(room: &RoomId) -> String {
    format!("vroom:{{{room}}}:room")
}

/// `vroom:{R}:presence` — member id → last seen (Unix ms).
pub fn presence_key(room: &RoomId) -> String {
    format!("vroom:{{{room}}}:presence")
}

/// `vroom:{R}:tickets` — names of the room's outstanding ticket keys.
pub fn tickets_key(room: &RoomId) -> String {
    format!("vroom:{{{room}}}:tickets")
}

/// `vroom:{R}:ticket:<hex sha256(ticket)>` — a one-time ticket's grant. The
/// relay hashes the presented ticket with this function and redeems with
/// `GETDEL` (a ticket never appears in Redis, only its hash).
pub fn ticket_key(room: &RoomId, ticket: &Ticket) -> String {
    format!("vroom:{{{room}}}:ticket:{}", ticket.sha256_hex())
}

/// `vroom:{R}` — the room's pub/sub channel (relay frames and [`super::ENDED`]).
pub fn channel(room: &RoomId) -> String {
    format!("vroom:{{{room}}}")
}

/// `vroom:{R}:*` — a `SCAN MATCH` pattern for every key of the room.
pub fn room_pattern(room: &RoomId) -> String {
    format!("vroom:{{{room}}}:*")
}

/// What a rate limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateAction {
    /// `POST /api/rooms`.
    Create,
    /// `POST /api/rooms/{room_id}/join`.
    Join,
}

impl RateAction {
    /// Name used in the key.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Join => "join",
        }
    }
}

/// The server secret rate-limit keys are keyed with (the `rate_key_secret`
/// setting): at least [`RateKeySecret::MIN_LEN`] bytes. Its `Debug` shows
/// nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct RateKeySecret(Vec<u8>);

impl RateKeySecret {
    /// Fewest bytes a secret may have.
    pub const MIN_LEN: usize = 32;

    /// The secret, or `None` when it is shorter than [`Self::MIN_LEN`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Self> {
        let bytes = bytes.into();
        (bytes.len() >= Self::MIN_LEN).then_some(Self(bytes))
    }
}

impl std::fmt::Debug for RateKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateKeySecret(..)")
    }
}

/// The bucket name of the budget every client shares ([`rate_key`]).
pub const GLOBAL_BUCKET: &str = "global";

/// `vroom:{rate}:<action>:<hex HMAC-SHA256(secret, bucket)>` — one counter
/// of a rate limit. The bucket names a set of clients (e.g.
/// `v4:203.0.113.9` or `v6/48:2001:db8:1::`, see
/// [`crate::client_addr::Bucket::name`]) or [`GLOBAL_BUCKET`]; only its keyed
/// hash reaches Redis, so nobody without the secret can test an address
/// against the keys, and deployments with different secrets never share a
/// counter. Every rate key carries the hash tag `{rate}`, so one script may
/// check them all (they live in one Redis Cluster slot).
pub fn rate_key(action: RateAction, secret: &RateKeySecret, bucket: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes any key length");
    mac.update(bucket.as_bytes());
    format!(
        "vroom:{{rate}}:{}:{}",
        action.as_str(),
        to_hex(&mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_share_the_hash_tag() {
        let room = RoomId::from_bytes([0; 16]);
        let r = "AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(room_key(&room), format!("vroom:{{{r}}}:room"));
        assert_eq!(presence_key(&room), format!("vroom:{{{r}}}:presence"));
        assert_eq!(tickets_key(&room), format!("vroom:{{{r}}}:tickets"));
        assert_eq!(channel(&room), format!("vroom:{{{r}}}"));
        assert_eq!(room_pattern(&room), format!("vroom:{{{r}}}:*"));
        let ticket = Ticket::from_bytes([1; 32]);
        let key = ticket_key(&room, &ticket);
        assert_eq!(
            key,
            format!(
                "vroom:{{{r}}}:ticket:{}",
                to_hex(&crate::ids::sha256(&[1; 32]))
            )
        );
        assert!(!key.contains(&ticket.to_base64()));
    }

    #[test]
    fn rate_keys_are_keyed_hashes_of_the_bucket() {
        let secret = RateKeySecret::new([7; 32]).unwrap();
        let key = rate_key(RateAction::Join, &secret, "v4:203.0.113.9");
        assert!(key.starts_with("vroom:{rate}:join:"));
        assert!(!key.contains("203.0.113.9"));
        assert_eq!(key.len(), "vroom:{rate}:join:".len() + 64);
        assert!(!key.ends_with(&to_hex(&crate::ids::sha256(b"v4:203.0.113.9"))));
        assert_ne!(key, rate_key(RateAction::Create, &secret, "v4:203.0.113.9"));
        assert_ne!(key, rate_key(RateAction::Join, &secret, "v4:203.0.113.10"));
        let other = RateKeySecret::new([8; 32]).unwrap();
        assert_ne!(key, rate_key(RateAction::Join, &other, "v4:203.0.113.9"));
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert_eq!(RateKeySecret::new([1; 31]), None);
        let secret = RateKeySecret::new(*b"a secret nobody may ever read!!!").unwrap();
        assert_eq!(format!("{secret:?}"), "RateKeySecret(..)");
    }
}
