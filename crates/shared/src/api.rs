//! JSON bodies of the rooms API (DESIGN §6). Requests reject unknown fields.

use crate::ids::{CreatorToken, JoinKey, RoomId, Ticket};
use serde::{Deserialize, Serialize};

/// Shortest lifetime a client may ask for, in seconds.
pub const MIN_LIFETIME_SECS: u32 = 60;

/// `POST /api/rooms` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// The room to create.
    pub room_id: RoomId,
    /// Key later joiners must present.
    pub join_key: JoinKey,
    /// Lifetime cap in seconds; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_secs: Option<u32>,
    /// What to do when the room is live already; [`CreateMode::Create`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CreateMode>,
}

/// How `POST /api/rooms` treats a room that is live already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateMode {
    /// Fail with `409 room_exists`.
    #[default]
    Create,
    /// Join it if the join key matches (`200`, no creator token).
    CreateOrJoin,
}

/// `POST /api/rooms` success: `201` with a creator token for a new room,
/// `200` without one when `create_or_join` joined a live room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomResponse {
    /// The room.
    pub room_id: RoomId,
    /// Present only when the room was created by this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_token: Option<CreatorToken>,
    /// One-time WebSocket ticket for the relay.
    pub ticket: Ticket,
    /// When the room ends at the latest (Unix seconds).
    pub expires_at: u64,
    /// WebSocket URL of the relay.
    pub relay: String,
}

/// `POST /api/rooms/{room_id}/join` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoomRequest {
    /// Proof of the room secret.
    pub join_key: JoinKey,
    /// The creator rejoining (e.g. after a reload) gets a creator ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_token: Option<CreatorToken>,
}

/// `POST /api/rooms/{room_id}/join` success (`200`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRoomResponse {
    /// The room.
    pub room_id: RoomId,
    /// One-time WebSocket ticket for the relay.
    pub ticket: Ticket,
    /// When the room ends at the latest (Unix seconds).
    pub expires_at: u64,
    /// Members connected right now (before this one).
    pub members: u32,
    /// WebSocket URL of the relay.
    pub relay: String,
}

/// `POST /api/rooms/{room_id}/lock` body (with the creator token as bearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockRoomRequest {
    /// `true` locks the room (no new member gets in), `false` unlocks it.
    pub locked: bool,
}

/// `POST /api/rooms/{room_id}/remove` body (with the creator token as bearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveMemberRequest {
    /// The member id the relay reported for the member to remove.
    pub member: u32,
}

/// Success (`200`) of the lock and remove calls: the room's state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomStateResponse {
    /// Whether the room is locked (a removal always locks it).
    pub locked: bool,
}

/// `GET /api/health` success body: `{"ok":true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthResponse {
    /// Always `true` in a `200`.
    pub ok: bool,
}

/// Every error body: `{"error":{"code":…,"message":…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Inside [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable English; never contains a secret.
    pub message: String,
}

/// Machine-readable error codes (snake_case on the wire), each with one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed JSON, unknown or missing fields, bad id, lifetime out of range.
    BadRequest,
    /// 403: the creator locked the room; no ticket for a new member.
    RoomLocked,
    /// 404: no such route, or no live room with these credentials.
    NotFound,
    /// 404: the room has no such member present (remove).
    NoSuchMember,
    /// 405: the route exists but not with this method (see `Allow`).
    MethodNotAllowed,
    /// 409: plain create of a room that is live.
    RoomExists,
    /// 409: the room has as many members as it may hold.
    RoomFull,
    /// 413: body larger than the API accepts.
    PayloadTooLarge,
    /// 415: body is not `application/json`.
    UnsupportedMediaType,
    /// 429: too many requests from this client address (see `Retry-After`).
    RateLimited,
    /// 500: the server is misconfigured or misbehaved.
    Internal,
    /// 503: storage unreachable.
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::RoomLocked => 403,
            Self::NotFound | Self::NoSuchMember => 404,
            Self::MethodNotAllowed => 405,
            Self::RoomExists | Self::RoomFull => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> RoomId {
        RoomId::from_bytes([1; 16])
    }

    #[test]
    fn create_request_shapes() {
        let key = JoinKey::from_bytes([2; 32]);
        let minimal = format!(
            r#"{{"room_id":"{}","join_key":"{}"}}"#,
            room().to_base64(),
            key.to_base64()
        );
        let req: CreateRoomRequest = serde_json::from_str(&minimal).unwrap();
        assert_eq!(req.lifetime_secs, None);
        assert_eq!(req.mode, None);
        let full = format!(
            r#"{{"room_id":"{}","join_key":"{}","lifetime_secs":900,"mode":"create_or_join"}}"#,
            room().to_base64(),
            key.to_base64()
        );
        let req: CreateRoomRequest = serde_json::from_str(&full).unwrap();
        assert_eq!(req.lifetime_secs, Some(900));
        assert_eq!(req.mode, Some(CreateMode::CreateOrJoin));
        let unknown = minimal.replace('}', r#","extra":1}"#);
        assert!(serde_json::from_str::<CreateRoomRequest>(&unknown).is_err());
        let bad_mode = minimal.replace('}', r#","mode":"join"}"#);
        assert!(serde_json::from_str::<CreateRoomRequest>(&bad_mode).is_err());
        let negative = minimal.replace('}', r#","lifetime_secs":-5}"#);
        assert!(serde_json::from_str::<CreateRoomRequest>(&negative).is_err());
    }

    #[test]
    fn create_response_omits_absent_creator_token() {
        let mut resp = CreateRoomResponse {
            room_id: room(),
            creator_token: None,
            ticket: Ticket::from_bytes([4; 32]),
            expires_at: 1_700_000_000,
            relay: "ws://127.0.0.1:3001/ws".into(),
        };
        let json: serde_json::Value = serde_json::to_value(&resp).unwrap();
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["expires_at", "relay", "room_id", "ticket"]);
        resp.creator_token = Some(CreatorToken::from_bytes([5; 32]));
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json["creator_token"],
            resp.creator_token.unwrap().to_base64()
        );
    }

    #[test]
    fn error_body_shape() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::RoomFull,
                message: "room is full".into(),
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"room_full","message":"room is full"}}"#
        );
        assert_eq!(ErrorCode::RoomFull.status(), 409);
        assert_eq!(
            serde_json::to_string(&ErrorCode::UnsupportedMediaType).unwrap(),
            r#""unsupported_media_type""#
        );
    }
}
