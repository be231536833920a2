//! Things every part of Vroom must agree on: ids, API wire types, Redis keys
//! and scripts. No I/O; builds for native, `wasm32-wasip2` and
//! `wasm32-unknown-unknown`.

pub mod api;
pub mod client_addr;
pub mod ids;
pub mod redis;
pub mod relay;

pub use ids::{CreatorToken, IdError, JoinKey, RoomId, Ticket};
