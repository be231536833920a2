//! The endpoints: create, join and end rooms, the creator's lock and
//! remove, health. One Redis round trip each (plus one for the rate limit
//! on create and join).

use crate::backend::{Backend, Value};
use crate::config::Config;
use crate::error::ApiError;
use crate::limits::rate_limit;
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use crate::script::{self, CREATE_ROOM, END_ROOM, EXPEL_MEMBER, JOIN_ROOM, LOCK_ROOM};
use serde::de::DeserializeOwned;
use vroom_shared::api::{
    CreateMode, CreateRoomRequest, CreateRoomResponse, ErrorCode, HealthResponse, JoinRoomRequest,
    JoinRoomResponse, LockRoomRequest, MIN_LIFETIME_SECS, RemoveMemberRequest, RoomStateResponse,
};
use vroom_shared::redis::scripts::{EndOutcome, ExpelOutcome, RoomOutcome};
use vroom_shared::redis::{
    RateAction, TICKET_TTL_SECS, TICKETS_PER_SEAT, channel, presence_key, room_key, ticket_key,
    tickets_key,
};
use vroom_shared::{CreatorToken, JoinKey, RoomId, Ticket};

/// `GET /api/health`.
pub(crate) async fn health(backend: &impl Backend) -> Result<ApiResponse, ApiError> {
    backend.ping().await?;
    Ok(ApiResponse::json(200, &HealthResponse { ok: true }))
}

/// `POST /api/rooms`.
pub(crate) async fn create(
    req: &ApiRequest,
    backend: &impl Backend,
    config: &Config,
) -> Result<ApiResponse, ApiError> {
    let body: CreateRoomRequest = json_body(req)?;
    check_binding(&body.room_id, &body.join_key)?;
    // The operator's default may be shorter than clients may ask for.
    let lifetime = match body.lifetime_secs {
        None => config.room_lifetime_default_secs,
        Some(asked) if (MIN_LIFETIME_SECS..=config.room_lifetime_max_secs).contains(&asked) => {
            asked
        }
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!(
                    "lifetime_secs must be between {MIN_LIFETIME_SECS} and {}",
                    config.room_lifetime_max_secs
                ),
            ));
        }
    };
    let mode = body.mode.unwrap_or_default();
    rate_limit(req, backend, config, RateAction::Create).await?;

    let creator = CreatorToken::from_bytes(random(backend)?);
    let ticket = Ticket::from_bytes(random(backend)?);
    let room = &body.room_id;
    let reply = script::run(
        backend,
        &CREATE_ROOM,
        &ticket_keys(room, &ticket),
        &[
            body.join_key.sha256_hex().into_bytes(),
            creator.sha256_hex().into_bytes(),
            lifetime.to_string().into_bytes(),
            config.room_idle_secs.to_string().into_bytes(),
            config.room_max_members.to_string().into_bytes(),
            match mode {
                CreateMode::Create => b"create".to_vec(),
                CreateMode::CreateOrJoin => b"create_or_join".to_vec(),
            },
            TICKET_TTL_SECS.to_string().into_bytes(),
            TICKETS_PER_SEAT.to_string().into_bytes(),
            config.room_claim_secs.to_string().into_bytes(),
        ],
    )
    .await?;
    let (outcome, expires_at, _members) = room_reply(&reply, "CREATE_ROOM")?;
    let (status, creator_token) = match outcome {
        RoomOutcome::Created => (201, Some(creator)),
        RoomOutcome::Joined => (200, None),
        RoomOutcome::Exists => {
            return Err(ApiError::new(
                ErrorCode::RoomExists,
                "a room with this id is live",
            ));
        }
        RoomOutcome::Full => return Err(room_full()),
        RoomOutcome::TooManyTickets => return Err(too_many_tickets(expires_at)),
        RoomOutcome::Locked => return Err(room_locked()),
        RoomOutcome::NotFound => return Err(ApiError::unexpected_reply("CREATE_ROOM")),
    };
    Ok(ApiResponse::json(
        status,
        &CreateRoomResponse {
            room_id: body.room_id,
            creator_token,
            ticket,
            expires_at,
            relay: config.relay_url.clone(),
        },
    ))
}

/// `POST /api/rooms/{room_id}/join`.
pub(crate) async fn join(
    room_id: &str,
    req: &ApiRequest,
    backend: &impl Backend,
    config: &Config,
) -> Result<ApiResponse, ApiError> {
    let room = path_room_id(room_id)?;
    let body: JoinRoomRequest = json_body(req)?;
    check_binding(&room, &body.join_key)?;
    rate_limit(req, backend, config, RateAction::Join).await?;

    let ticket = Ticket::from_bytes(random(backend)?);
    let reply = script::run(
        backend,
        &JOIN_ROOM,
        &ticket_keys(&room, &ticket),
        &[
            body.join_key.sha256_hex().into_bytes(),
            body.creator_token
                .as_ref()
                .map(CreatorToken::sha256_hex)
                .unwrap_or_default()
                .into_bytes(),
            TICKET_TTL_SECS.to_string().into_bytes(),
            TICKETS_PER_SEAT.to_string().into_bytes(),
        ],
    )
    .await?;
    let (outcome, expires_at, members) = room_reply(&reply, "JOIN_ROOM")?;
    match outcome {
        RoomOutcome::Joined => Ok(ApiResponse::json(
            200,
            &JoinRoomResponse {
                room_id: room,
                ticket,
                expires_at,
                members,
                relay: config.relay_url.clone(),
            },
        )),
        RoomOutcome::NotFound => Err(ApiError::no_such_room()),
        RoomOutcome::Full => Err(room_full()),
        RoomOutcome::TooManyTickets => Err(too_many_tickets(expires_at)),
        RoomOutcome::Locked => Err(room_locked()),
        RoomOutcome::Created | RoomOutcome::Exists => Err(ApiError::unexpected_reply("JOIN_ROOM")),
    }
}

/// `DELETE /api/rooms/{room_id}` with `Authorization: Bearer <creator_token>`.
pub(crate) async fn end(
    room_id: &str,
    req: &ApiRequest,
    backend: &impl Backend,
    config: &Config,
) -> Result<ApiResponse, ApiError> {
    let room = path_room_id(room_id)?;
    let creator = creator_token(req)?;
    let reply = script::run(
        backend,
        &END_ROOM,
        &[room_key(&room), presence_key(&room), tickets_key(&room)],
        &[
            creator.sha256_hex().into_bytes(),
            config.publish_command().as_bytes().to_vec(),
            channel(&room).into_bytes(),
        ],
    )
    .await?;
    let outcome = match reply.as_slice() {
        [Value::Int(code)] => EndOutcome::from_code(*code),
        _ => None,
    };
    match outcome.ok_or_else(|| ApiError::unexpected_reply("END_ROOM"))? {
        EndOutcome::Ended => Ok(ApiResponse::no_content()),
        EndOutcome::NotFound | EndOutcome::WrongCreator => Err(ApiError::no_such_room()),
    }
}

/// `POST /api/rooms/{room_id}/lock` with `Authorization: Bearer <creator_token>`.
pub(crate) async fn lock(
    room_id: &str,
    req: &ApiRequest,
    backend: &impl Backend,
) -> Result<ApiResponse, ApiError> {
    let room = path_room_id(room_id)?;
    let creator = creator_token(req)?;
    let body: LockRoomRequest = json_body(req)?;
    let reply = script::run(
        backend,
        &LOCK_ROOM,
        &[room_key(&room)],
        &[
            creator.sha256_hex().into_bytes(),
            if body.locked {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            },
        ],
    )
    .await?;
    match reply.as_slice() {
        [Value::Int(1), Value::Int(locked)] => Ok(ApiResponse::json(
            200,
            &RoomStateResponse {
                locked: *locked == 1,
            },
        )),
        [Value::Int(0)] => Err(ApiError::no_such_room()),
        _ => Err(ApiError::unexpected_reply("LOCK_ROOM")),
    }
}

/// `POST /api/rooms/{room_id}/remove` with `Authorization: Bearer <creator_token>`.
pub(crate) async fn remove(
    room_id: &str,
    req: &ApiRequest,
    backend: &impl Backend,
) -> Result<ApiResponse, ApiError> {
    let room = path_room_id(room_id)?;
    let creator = creator_token(req)?;
    let body: RemoveMemberRequest = json_body(req)?;
    let reply = script::run(
        backend,
        &EXPEL_MEMBER,
        &[room_key(&room), presence_key(&room)],
        &[
            creator.sha256_hex().into_bytes(),
            body.member.to_string().into_bytes(),
        ],
    )
    .await?;
    let outcome = match reply.as_slice() {
        [Value::Int(code)] => ExpelOutcome::from_code(*code),
        _ => None,
    };
    match outcome.ok_or_else(|| ApiError::unexpected_reply("EXPEL_MEMBER"))? {
        ExpelOutcome::Expelled => Ok(ApiResponse::json(200, &RoomStateResponse { locked: true })),
        ExpelOutcome::NotFound => Err(ApiError::no_such_room()),
        ExpelOutcome::NoSuchMember => Err(ApiError::new(
            ErrorCode::NoSuchMember,
            "no such member is in the room",
        )),
        ExpelOutcome::Creator => Err(ApiError::new(
            ErrorCode::BadRequest,
            "the creator cannot remove itself; end the room instead",
        )),
    }
}

/// The creator token of `Authorization: Bearer`; `404` like an unknown
/// room when it is missing or malformed.
fn creator_token(req: &ApiRequest) -> Result<CreatorToken, ApiError> {
    req.bearer_token()
        .and_then(|token| CreatorToken::parse(token).ok())
        .ok_or_else(ApiError::no_such_room)
}

fn room_locked() -> ApiError {
    ApiError::new(
        ErrorCode::RoomLocked,
        "the room is locked: its creator lets nobody new in",
    )
}

/// KEYS of CREATE_ROOM and JOIN_ROOM.
fn ticket_keys(room: &RoomId, ticket: &Ticket) -> [String; 4] {
    [
        room_key(room),
        presence_key(room),
        tickets_key(room),
        ticket_key(room, ticket),
    ]
}

/// Reads `[outcome, a, b]`: `a` is `expires_at` for most outcomes, seconds
/// to wait for [`RoomOutcome::TooManyTickets`].
fn room_reply(reply: &[Value], script: &str) -> Result<(RoomOutcome, u64, u32), ApiError> {
    let parsed = match reply {
        [
            Value::Int(code),
            Value::Int(expires_at),
            Value::Int(members),
        ] => RoomOutcome::from_code(*code)
            .zip(u64::try_from(*expires_at).ok())
            .and_then(|(outcome, expires_at)| {
                u32::try_from(*members)
                    .ok()
                    .map(|members| (outcome, expires_at, members))
            }),
        _ => None,
    };
    parsed.ok_or_else(|| ApiError::unexpected_reply(script))
}

fn room_full() -> ApiError {
    ApiError::new(ErrorCode::RoomFull, "the room is full")
}

/// `429`: the room has as many outstanding tickets as it may.
fn too_many_tickets(retry_after_secs: u64) -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "too many joins of this room are pending, try again shortly",
    )
    .with_header("retry-after", retry_after_secs.max(1).to_string())
}

/// `404`, the answer for an unknown room, unless `join_key` belongs to
/// `room` (protocol v2: [`RoomId::for_join_key`]). Nobody without the key can
/// create, probe or squat an id, and it costs no storage round trip.
fn check_binding(room: &RoomId, join_key: &JoinKey) -> Result<(), ApiError> {
    if RoomId::for_join_key(join_key) == *room {
        Ok(())
    } else {
        Err(ApiError::no_such_room())
    }
}

/// The room id of a path; `400` if it is not one.
fn path_room_id(text: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(text).map_err(|err| ApiError::new(ErrorCode::BadRequest, err.to_string()))
}

/// A strictly parsed JSON body, `415` / `400` otherwise. The message never
/// echoes the body (it may hold keys).
fn json_body<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
    req.check_json_content_type()?;
    serde_json::from_slice(&req.body).map_err(|err| {
        use serde_json::error::Category;
        let message = match err.classify() {
            Category::Data => format!(
                "request body has an unknown, missing or invalid field (line {}, column {})",
                err.line(),
                err.column()
            ),
            Category::Syntax | Category::Eof | Category::Io => {
                "request body is not valid JSON".to_owned()
            }
        };
        ApiError::new(ErrorCode::BadRequest, message)
    })
}

fn random<const N: usize>(backend: &impl Backend) -> Result<[u8; N], ApiError> {
    let mut bytes = [0; N];
    backend.random_bytes(&mut bytes)?;
    Ok(bytes)
}
