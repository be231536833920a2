//! The rooms HTTP API (DESIGN §6), independent of the host it runs in.
//!
//! The host turns its HTTP request into an [`ApiRequest`], provides a
//! [`Backend`] (Redis scripts, ping, randomness) and a [`Config`] (from Spin
//! variables), calls [`handle`], and writes out the [`ApiResponse`].
//!
//! | call | success | failures |
//! | --- | --- | --- |
//! | `POST /api/rooms` | `201` new room (with `creator_token`); `200` `create_or_join` joined a live room | `400 bad_request`, `403 room_locked` (`create_or_join` of a locked room), `409 room_exists`, `409 room_full`, `413`, `415`, `429 rate_limited` |
//! | `POST /api/rooms/{room_id}/join` | `200` | `400 bad_request` (body or malformed id), `403 room_locked` (an ordinary member's join of a locked room), `404 not_found` (unknown room or wrong key or wrong creator token: one body), `409 room_full`, `413`, `415`, `429` |
//! | `DELETE /api/rooms/{room_id}` + `Authorization: Bearer <creator_token>` | `204` | `400 bad_request` (malformed id), `404 not_found` (unknown room, missing or wrong token: one body), `413` |
//! | `POST /api/rooms/{room_id}/lock` `{"locked":bool}` + `Authorization: Bearer <creator_token>` | `200 {"locked":bool}` | `400 bad_request`, `404 not_found` (unknown room, missing or wrong token: one body), `413`, `415` |
//! | `POST /api/rooms/{room_id}/remove` `{"member":u32}` + `Authorization: Bearer <creator_token>` | `200 {"locked":true}` (removing locks the room) | `400 bad_request` (also: the creator's own connection), `404 not_found` (as lock), `404 no_such_member`, `413`, `415` |
//! | `GET /api/health` | `200 {"ok":true}` | `503 unavailable` |
//!
//! Any other path: `404 not_found`; a known path with another method: `405
//! method_not_allowed` with `Allow`. Storage errors: `503 unavailable`.
//! Checks run in this order: route, method, body size, room id in the path,
//! content type, JSON, field values, rate limit, Redis. Every response has
//! `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`, and every
//! non-empty body is `application/json`. Nothing here logs or echoes keys,
//! tokens or tickets.

mod backend;
mod config;
mod error;
mod limits;
mod request;
mod response;
mod rooms;
mod route;
pub mod script;

pub use backend::{Backend, BackendError, Value};
pub use config::{Config, ConfigError, RateLimits, RedisAuth};
pub use request::{ApiRequest, MAX_BODY_BYTES};
pub use response::ApiResponse;

use error::ApiError;
use route::Route;
use vroom_shared::api::ErrorCode;

/// The answer to a request that names no endpoint (`404`) or the wrong
/// method (`405`), which needs no [`Config`]: a host calls this before
/// reading its configuration, so such requests cost no variable reads.
/// `None` when the request is routed (then call [`handle`]).
pub fn route_error(request: &ApiRequest) -> Option<ApiResponse> {
    route(request).err().map(ApiError::into_response)
}

/// Answers one request.
pub async fn handle(request: ApiRequest, backend: &impl Backend, config: &Config) -> ApiResponse {
    dispatch(&request, backend, config)
        .await
        .unwrap_or_else(ApiError::into_response)
}

async fn dispatch(
    req: &ApiRequest,
    backend: &impl Backend,
    config: &Config,
) -> Result<ApiResponse, ApiError> {
    let route = route(req)?;
    req.check_size()?;
    match route {
        Route::Health => rooms::health(backend).await,
        Route::Rooms => rooms::create(req, backend, config).await,
        Route::Join(room_id) => rooms::join(room_id, req, backend, config).await,
        Route::Room(room_id) => rooms::end(room_id, req, backend, config).await,
        Route::Lock(room_id) => rooms::lock(room_id, req, backend).await,
        Route::Remove(room_id) => rooms::remove(room_id, req, backend).await,
    }
}

/// The endpoint `req` names, if it takes `req`'s method.
fn route(req: &ApiRequest) -> Result<Route<'_>, ApiError> {
    let route = Route::parse(&req.path)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such endpoint"))?;
    if req.method != route.method() {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("use {}", route.method()),
        )
        .with_header("allow", route.method()));
    }
    Ok(route)
}
