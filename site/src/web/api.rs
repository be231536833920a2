//! The rooms API (`/api/...`, same origin), with typed errors (the view
//! chooses the words, `words.rs`).

use vroom_shared::api::{
    CreateMode, CreateRoomRequest, CreateRoomResponse, ErrorBody, ErrorCode, JoinRoomRequest,
    JoinRoomResponse, LockRoomRequest, RemoveMemberRequest, RoomStateResponse,
};
use vroom_shared::{CreatorToken, JoinKey, RoomId};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::util::window;

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No live room with these credentials (unknown, ended, or wrong key).
    NotFound,
    /// The room holds as many members as it may.
    Full,
    /// A plain create met a live room.
    Exists,
    /// The creator locked the room: nobody new gets in.
    Locked,
    /// The member to remove is not in the room (any more).
    NoSuchMember,
    /// Too many requests from this address; seconds to wait if known.
    RateLimited(Option<u32>),
    /// The server failed or its storage is down.
    Server,
    /// The server could not be reached.
    Network,
    /// The server refused the request as malformed (its HTTP status).
    Refused(u16),
}

struct Reply {
    status: u16,
    body: String,
    retry_after: Option<u32>,
}

async fn call(
    method: &str,
    path: &str,
    body: Option<String>,
    bearer: Option<&str>,
) -> Result<Reply, ApiError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
    if let Some(body) = &body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(token) = bearer {
        let _ = headers.set("authorization", &format!("Bearer {token}"));
    }
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::Network)?;
    let response: web_sys::Response = JsFuture::from(window().fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::Network)?
        .dyn_into()
        .map_err(|_| ApiError::Network)?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string()),
        Err(_) => None,
    };
    Ok(Reply {
        status: response.status(),
        body: text.unwrap_or_default(),
        retry_after,
    })
}

fn error(reply: &Reply) -> ApiError {
    let code = serde_json::from_str::<ErrorBody>(&reply.body)
        .ok()
        .map(|b| b.error.code);
    match (reply.status, code) {
        (_, Some(ErrorCode::NoSuchMember)) => ApiError::NoSuchMember,
        (_, Some(ErrorCode::RoomLocked)) => ApiError::Locked,
        (_, Some(ErrorCode::NotFound)) | (404, _) => ApiError::NotFound,
        (_, Some(ErrorCode::RoomFull)) => ApiError::Full,
        (_, Some(ErrorCode::RoomExists)) => ApiError::Exists,
        (_, Some(ErrorCode::RateLimited)) | (429, _) => ApiError::RateLimited(reply.retry_after),
        (status @ 400..=499, _) => ApiError::Refused(status),
        _ => ApiError::Server,
    }
}

fn ids(room_id: &[u8; 16], join_key: &[u8; 32]) -> (RoomId, JoinKey) {
    (RoomId::from_bytes(*room_id), JoinKey::from_bytes(*join_key))
}

/// `POST /api/rooms`. Returns the response and whether this call created the room.
pub async fn create(
    room_id: &[u8; 16],
    join_key: &[u8; 32],
    lifetime_secs: Option<u32>,
    or_join: bool,
) -> Result<CreateRoomResponse, ApiError> {
    let (room_id, join_key) = ids(room_id, join_key);
    let request = CreateRoomRequest {
        room_id,
        join_key,
        lifetime_secs,
        mode: Some(if or_join {
            CreateMode::CreateOrJoin
        } else {
            CreateMode::Create
        }),
    };
    let body = serde_json::to_string(&request).map_err(|_| ApiError::Network)?;
    let reply = call("POST", "/api/rooms", Some(body), None).await?;
    match reply.status {
        200 | 201 => serde_json::from_str(&reply.body).map_err(|_| ApiError::Server),
        _ => Err(error(&reply)),
    }
}

/// `POST /api/rooms/{room_id}/join`.
pub async fn join(
    room_id: &[u8; 16],
    join_key: &[u8; 32],
    creator_token: Option<&str>,
) -> Result<JoinRoomResponse, ApiError> {
    let (room, join_key) = ids(room_id, join_key);
    let request = JoinRoomRequest {
        join_key,
        creator_token: creator_token.and_then(|t| CreatorToken::parse(t).ok()),
    };
    let body = serde_json::to_string(&request).map_err(|_| ApiError::Network)?;
    let path = format!("/api/rooms/{}/join", room.to_base64());
    let reply = call("POST", &path, Some(body), None).await?;
    match reply.status {
        200 => serde_json::from_str(&reply.body).map_err(|_| ApiError::Server),
        _ => Err(error(&reply)),
    }
}

/// `POST /api/rooms/{room_id}/{action}` with the creator token; the room's
/// lock state after it.
async fn control(
    room_id: &[u8; 16],
    creator_token: &str,
    action: &str,
    body: String,
) -> Result<bool, ApiError> {
    let path = format!(
        "/api/rooms/{}/{action}",
        RoomId::from_bytes(*room_id).to_base64()
    );
    let reply = call("POST", &path, Some(body), Some(creator_token)).await?;
    match reply.status {
        200 => serde_json::from_str::<RoomStateResponse>(&reply.body)
            .map(|state| state.locked)
            .map_err(|_| ApiError::Server),
        _ => Err(error(&reply)),
    }
}

/// `POST /api/rooms/{room_id}/lock`: locks or unlocks; the state after it.
pub async fn lock(room_id: &[u8; 16], creator_token: &str, locked: bool) -> Result<bool, ApiError> {
    let body = serde_json::to_string(&LockRoomRequest { locked }).map_err(|_| ApiError::Network)?;
    control(room_id, creator_token, "lock", body).await
}

/// `POST /api/rooms/{room_id}/remove`: removes a member (and locks the room).
pub async fn remove(
    room_id: &[u8; 16],
    creator_token: &str,
    member: u32,
) -> Result<bool, ApiError> {
    let body =
        serde_json::to_string(&RemoveMemberRequest { member }).map_err(|_| ApiError::Network)?;
    control(room_id, creator_token, "remove", body).await
}

/// `DELETE /api/rooms/{room_id}` with the creator token.
pub async fn end(room_id: &[u8; 16], creator_token: &str) -> Result<(), ApiError> {
    let path = format!("/api/rooms/{}", RoomId::from_bytes(*room_id).to_base64());
    let reply = call("DELETE", &path, None, Some(creator_token)).await?;
    match reply.status {
        204 => Ok(()),
        _ => Err(error(&reply)),
    }
}
