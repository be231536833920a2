//! Lua scripts: one round trip per API call, and the one way a room ends.
//!
//! Run them with `EVAL script numkeys KEYS… ARGV…` (or `EVALSHA`). They reply
//! with flat arrays of integers only (Spin's `execute` flattens nested
//! replies). Every key a script touches carries the room's hash tag; the
//! ticket keys listed in [`super::tickets_key`] are the only ones not passed
//! in `KEYS` (their names are not known up front), and they share the slot.
//! Times come from Redis `TIME`, so API instances and relay nodes agree.

use super::grant::{grant_creator, grant_member};

/// Lua shared by the scripts that issue tickets: drop names of tickets that
/// expired or were redeemed from the tickets set, store the new ticket with a
/// TTL of `min(ticket_ttl_ms, room_ttl_ms)`, list it, and align the set's TTL
/// with the room's.
macro_rules! issue_ticket_lua {
    () => {
        r#"
local function issue_ticket(tickets, ticket, grant, room_ttl_ms, ticket_ttl_ms)
  for _, name in ipairs(redis.call('SMEMBERS', tickets)) do
    if redis.call('EXISTS', name) == 0 then
      redis.call('SREM', tickets, name)
    end
  end
  redis.call('SET', ticket, grant, 'PX', math.min(ticket_ttl_ms, room_ttl_ms))
  redis.call('SADD', tickets, ticket)
  redis.call('PEXPIRE', tickets, room_ttl_ms)
end
"#
    };
}

/// Lua shared by the scripts that wipe a room: delete every ticket key listed
/// in the tickets set, then the set.
macro_rules! delete_tickets_lua {
    () => {
        r#"
local function delete_tickets(tickets)
  for _, name in ipairs(redis.call('SMEMBERS', tickets)) do
    redis.call('DEL', name)
  end
  redis.call('DEL', tickets)
end
"#
    };
}

/// Creates a room, or with mode `create_or_join` joins the live one.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`], `KEYS[4]` [`super::ticket_key`] of the
///   new ticket.
/// - `ARGV[1]` join key SHA-256 (lowercase hex), `ARGV[2]` creator token
///   SHA-256 (lowercase hex), `ARGV[3]` lifetime in seconds, `ARGV[4]` idle
///   limit in seconds, `ARGV[5]` max members, `ARGV[6]` mode: `create` or
///   `create_or_join`, `ARGV[7]` ticket TTL in seconds
///   ([`super::TICKET_TTL_SECS`]).
/// - Reply `[outcome, expires_at, members]` (see [`RoomOutcome`]):
///   - [`RoomOutcome::Created`]: new room with the given fields, deadline
///     `min(now + idle, now + lifetime)`, creator ticket; members 0. Leftover
///     presence and ticket keys of an earlier room with this id are deleted.
///   - [`RoomOutcome::Joined`] (only `create_or_join`, join key matches, fewer
///     members than the cap): member ticket; the room's `expires_at` and
///     members present.
///   - [`RoomOutcome::Exists`]: the room is live and the mode is `create`, or
///     the join key differs; nothing changed; `expires_at` and members 0.
///   - [`RoomOutcome::Full`]: join key matches but the room is full; nothing
///     changed.
pub const CREATE_ROOM: &str = concat!(
    issue_ticket_lua!(),
    delete_tickets_lua!(),
    r#"
local t = redis.call('TIME')
local now = tonumber(t[1])
local now_ms = now * 1000 + math.floor(tonumber(t[2]) / 1000)
local ticket_ttl_ms = tonumber(ARGV[7]) * 1000
local room_ttl_ms = redis.call('PTTL', KEYS[1])
if room_ttl_ms == 0 then
  redis.call('DEL', KEYS[1])
  room_ttl_ms = -2
end
if room_ttl_ms ~= -2 then
  if ARGV[6] ~= 'create_or_join' then
    return {3, 0, 0}
  end
  local room = redis.call('HMGET', KEYS[1], 'join_key_sha256', 'expires_at', 'max_members')
  if room[1] ~= ARGV[1] then
    return {3, 0, 0}
  end
  local expires_at = tonumber(room[2])
  local members = redis.call('ZCARD', KEYS[2])
  if members >= tonumber(room[3]) then
    return {4, expires_at, members}
  end
  if room_ttl_ms < 0 then
    room_ttl_ms = ticket_ttl_ms
  end
  issue_ticket(KEYS[3], KEYS[4], [["#,
    grant_member!(),
    r#"]], room_ttl_ms, ticket_ttl_ms)
  return {2, expires_at, members}
end
local expires_at = now + tonumber(ARGV[3])
local deadline = math.min(now + tonumber(ARGV[4]), expires_at)
redis.call('DEL', KEYS[2])
delete_tickets(KEYS[3])
redis.call('HSET', KEYS[1],
  'join_key_sha256', ARGV[1],
  'creator_sha256', ARGV[2],
  'created', now,
  'expires_at', expires_at,
  'idle_secs', tonumber(ARGV[4]),
  'max_members', tonumber(ARGV[5]))
redis.call('EXPIREAT', KEYS[1], deadline)
issue_ticket(KEYS[3], KEYS[4], [["#,
    grant_creator!(),
    r#"]], deadline * 1000 - now_ms, ticket_ttl_ms)
return {1, expires_at, 0}
"#
);

/// Issues a ticket for a live room to whoever knows its join key.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`], `KEYS[4]` [`super::ticket_key`] of the
///   new ticket.
/// - `ARGV[1]` join key SHA-256 (lowercase hex), `ARGV[2]` creator token
///   SHA-256 (lowercase hex) or empty for an ordinary member, `ARGV[3]`
///   ticket TTL in seconds ([`super::TICKET_TTL_SECS`]).
/// - Reply `[outcome, expires_at, members]` (see [`RoomOutcome`]):
///   - [`RoomOutcome::Joined`]: ticket stored (a creator ticket when `ARGV[2]`
///     matched); `members` present before this one.
///   - [`RoomOutcome::NotFound`]: no such room, wrong join key, or a creator
///     hash that does not match — one answer for all; `0, 0`.
///   - [`RoomOutcome::Full`]: as many members as `max_members`; nothing changed.
pub const JOIN_ROOM: &str = concat!(
    issue_ticket_lua!(),
    r#"
local room = redis.call('HMGET', KEYS[1], 'join_key_sha256', 'creator_sha256', 'expires_at', 'max_members')
local room_ttl_ms = redis.call('PTTL', KEYS[1])
if room[1] ~= ARGV[1] or room_ttl_ms == 0 or room_ttl_ms == -2 then
  return {5, 0, 0}
end
local grant = [["#,
    grant_member!(),
    r#"]]
if ARGV[2] ~= '' then
  if room[2] ~= ARGV[2] then
    return {5, 0, 0}
  end
  grant = [["#,
    grant_creator!(),
    r#"]]
end
local ticket_ttl_ms = tonumber(ARGV[3]) * 1000
local expires_at = tonumber(room[3])
local members = redis.call('ZCARD', KEYS[2])
if members >= tonumber(room[4]) then
  return {4, expires_at, members}
end
if room_ttl_ms < 0 then
  room_ttl_ms = ticket_ttl_ms
end
issue_ticket(KEYS[3], KEYS[4], grant, room_ttl_ms, ticket_ttl_ms)
return {2, expires_at, members}
"#
);

/// Ends a room: the one termination shared by the API and the relay.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`].
/// - `ARGV[1]` creator token SHA-256 (lowercase hex) to verify first, or
///   empty for no check (the relay); `ARGV[2]` publish command, `PUBLISH` or
///   `SPUBLISH` (anything else is an error reply and changes nothing);
///   `ARGV[3]` the room's [`super::channel`].
/// - Deletes the room hash, presence, every ticket key listed in the tickets
///   set and the set, then publishes [`super::ENDED`] on the channel.
/// - Reply `[outcome]` (see [`EndOutcome`]):
///   - [`EndOutcome::Ended`]: the room existed and is gone.
///   - [`EndOutcome::NotFound`]: there was no room hash. With a creator hash
///     nothing happens; without one, leftovers are still deleted and
///     [`super::ENDED`] still published, so relay nodes drop a room whose keys
///     expired. Calling twice is therefore harmless.
///   - [`EndOutcome::WrongCreator`]: the creator hash does not match; nothing
///     changed.
pub const END_ROOM: &str = concat!(
    delete_tickets_lua!(),
    r#"
if ARGV[2] ~= 'PUBLISH' and ARGV[2] ~= 'SPUBLISH' then
  return redis.error_reply('END_ROOM: publish command must be PUBLISH or SPUBLISH')
end
local existed = redis.call('EXISTS', KEYS[1])
if ARGV[1] ~= '' then
  if existed == 0 then
    return {0}
  end
  if redis.call('HGET', KEYS[1], 'creator_sha256') ~= ARGV[1] then
    return {-1}
  end
end
delete_tickets(KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call(ARGV[2], ARGV[3], [["#,
    super::ended!(),
    r#"]])
return {existed}
"#
);

/// Counts one hit of a fixed-window rate limit.
///
/// - `KEYS[1]` [`super::rate_key`].
/// - `ARGV[1]` window in seconds ([`super::RATE_WINDOW_SECS`]).
/// - Reply `[count, ttl]`: hits in the current window including this one, and
///   seconds until the window resets (≥ 1). The caller compares `count` with
///   its limit.
pub const RATE_LIMIT: &str = r#"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if count == 1 or ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('EXPIRE', KEYS[1], ttl)
elseif ttl == 0 then
  ttl = 1
end
return {count, ttl}
"#;

/// First element of the [`CREATE_ROOM`] and [`JOIN_ROOM`] replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomOutcome {
    /// `1`: a new room (CREATE_ROOM).
    Created,
    /// `2`: a ticket for the live room.
    Joined,
    /// `3`: the room is live and may not be created (CREATE_ROOM).
    Exists,
    /// `4`: the room is full.
    Full,
    /// `5`: no live room with these credentials (JOIN_ROOM).
    NotFound,
}

impl RoomOutcome {
    /// The integer in the reply.
    pub const fn code(self) -> i64 {
        match self {
            Self::Created => 1,
            Self::Joined => 2,
            Self::Exists => 3,
            Self::Full => 4,
            Self::NotFound => 5,
        }
    }

    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Created),
            2 => Some(Self::Joined),
            3 => Some(Self::Exists),
            4 => Some(Self::Full),
            5 => Some(Self::NotFound),
            _ => None,
        }
    }
}

/// The [`END_ROOM`] reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndOutcome {
    /// `1`: the room existed and is gone.
    Ended,
    /// `0`: there was no room.
    NotFound,
    /// `-1`: the creator hash did not match; nothing changed.
    WrongCreator,
}

impl EndOutcome {
    /// The integer in the reply.
    pub const fn code(self) -> i64 {
        match self {
            Self::Ended => 1,
            Self::NotFound => 0,
            Self::WrongCreator => -1,
        }
    }

    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Ended),
            0 => Some(Self::NotFound),
            -1 => Some(Self::WrongCreator),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_embed_the_shared_encodings() {
        assert!(CREATE_ROOM.contains(r#"[[{"creator":true}]]"#));
        assert!(CREATE_ROOM.contains(r#"[[{"creator":false}]]"#));
        assert!(JOIN_ROOM.contains(r#"[[{"creator":true}]]"#));
        assert!(END_ROOM.contains("[[ended]]"));
        assert_eq!(super::super::ENDED, b"ended");
    }

    #[test]
    fn outcome_codes_round_trip() {
        for o in [
            RoomOutcome::Created,
            RoomOutcome::Joined,
            RoomOutcome::Exists,
            RoomOutcome::Full,
            RoomOutcome::NotFound,
        ] {
            assert_eq!(RoomOutcome::from_code(o.code()), Some(o));
        }
        for o in [
            EndOutcome::Ended,
            EndOutcome::NotFound,
            EndOutcome::WrongCreator,
        ] {
            assert_eq!(EndOutcome::from_code(o.code()), Some(o));
        }
        assert_eq!(RoomOutcome::from_code(0), None);
        assert_eq!(EndOutcome::from_code(2), None);
    }
}
