//! Key and channel names. All keys of one room share the hash tag `{R}`.

use crate::ids::{RoomId, Ticket, sha256, to_hex};

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

/// `vroom:rate:<action>:<hex sha256(bucket)>` — a per-client counter. The
/// bucket names the client (e.g. an IPv4 address or an IPv6 /64); only its
/// hash reaches Redis.
pub fn rate_key(action: RateAction, bucket: &str) -> String {
    format!(
        "vroom:rate:{}:{}",
        action.as_str(),
        to_hex(&sha256(bucket.as_bytes()))
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
            format!("vroom:{{{r}}}:ticket:{}", to_hex(&sha256(&[1; 32])))
        );
        assert!(!key.contains(&ticket.to_base64()));
    }

    #[test]
    fn rate_keys_hide_the_bucket() {
        let key = rate_key(RateAction::Join, "v4:203.0.113.9");
        assert!(key.starts_with("vroom:rate:join:"));
        assert!(!key.contains("203.0.113.9"));
        assert_eq!(key.len(), "vroom:rate:join:".len() + 64);
        assert_ne!(key, rate_key(RateAction::Create, "v4:203.0.113.9"));
        assert_ne!(key, rate_key(RateAction::Join, "v4:203.0.113.10"));
    }
}
