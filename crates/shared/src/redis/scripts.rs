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

/// Lua shared by the relay scripts: the Redis clock in Unix milliseconds.
macro_rules! now_ms_lua {
    () => {
        r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"#
    };
}

/// Redeems a one-time ticket on a relay node and makes its holder a member.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`], `KEYS[4]` [`super::ticket_key`] of the
///   presented ticket.
/// - No `ARGV`.
/// - `GETDEL`s the ticket and removes its name from the tickets set, whatever
///   follows, so a ticket is never good twice.
/// - Reply (see [`RedeemOutcome`]):
///   - `[0]` ([`RedeemOutcome::Invalid`]): no such ticket (unknown, forged,
///     used, expired) or its room is gone.
///   - `[-2]` ([`RedeemOutcome::Full`]): a member ticket for a room with
///     `max_members` present; the ticket is spent. Creator tickets are never
///     refused for this (the creator coming back must find its room).
///   - `[1, member, creator, expires_at, idle_secs, remaining_ms,
///     creator_sha256, present…]` ([`RedeemOutcome::Joined`]): the member id
///     (`HINCRBY` of [`crate::relay::room_fields::NEXT_MEMBER`], so unique
///     across nodes and never reused in the room), `1` for a creator ticket,
///     the room's `expires_at` and `idle_secs`, milliseconds until the room's
///     deadline, the room's creator hash (a tag of this incarnation of the
///     room, passed back to [`END_ROOM`]), then the ids of the members present
///     before this one. The member is added to the presence set at the Redis
///     time; a creator ticket sets
///     [`crate::relay::room_fields::CREATOR_MEMBER`] and clears
///     [`crate::relay::room_fields::CREATOR_GONE_MS`] (the creator is back).
pub const REDEEM_TICKET: &str = concat!(
    now_ms_lua!(),
    r#"
local grant = redis.call('GETDEL', KEYS[4])
redis.call('SREM', KEYS[3], KEYS[4])
if not grant then
  return {0}
end
local creator
if grant == [["#,
    grant_creator!(),
    r#"]] then
  creator = 1
elseif grant == [["#,
    grant_member!(),
    r#"]] then
  creator = 0
else
  return {0}
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0}
end
local room = redis.call('HMGET', KEYS[1], 'max_members', 'expires_at', 'idle_secs', 'creator_sha256')
if pttl < 0 then
  pttl = math.max(tonumber(room[2]) * 1000 - now_ms, 1)
end
local present = redis.call('ZRANGE', KEYS[2], 0, -1)
if creator == 0 and #present >= tonumber(room[1]) then
  return {-2}
end
local id = redis.call('HINCRBY', KEYS[1], 'next_member', 1)
redis.call('ZADD', KEYS[2], now_ms, id)
redis.call('PEXPIRE', KEYS[2], pttl)
if creator == 1 then
  redis.call('HSET', KEYS[1], 'creator_member', id)
  redis.call('HDEL', KEYS[1], 'creator_gone_ms')
end
local reply = {1, id, creator, tonumber(room[2]), tonumber(room[3]), pttl, room[4]}
for _, m in ipairs(present) do
  reply[#reply + 1] = tonumber(m)
end
return reply
"#
);

/// Takes a member out of the room when its connection ends, run by the node
/// that held it.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`].
/// - `ARGV[1]` member id, `ARGV[2]` how it ended: `leave` (the client sent a
///   leave frame), `drop` (the connection broke, timed out or was cut off) or
///   `shutdown` (the node is restarting), `ARGV[3]` `1` if the member joined
///   with a creator ticket, else `0`, `ARGV[4]` the creator's grace period
///   after a dropped connection (ms), `ARGV[5]` the shorter one after a leave
///   frame (ms; a page cannot tell a reload from a close when it sends it).
/// - Reply `[action, removed]`: `removed` is 1 if the member was still in the
///   presence set (else another node already removed it and told the room),
///   and `action` (see [`RemoveAction`]):
///   - `0`: the room is gone;
///   - `1`: nothing more to do;
///   - `2`: the creator left with a leave frame and the leave grace is 0: the
///     caller ends the room now;
///   - `3`: the creator left (leave frame) or its connection dropped: its
///     grace period starts ([`crate::relay::room_fields::CREATOR_GONE_MS`]
///     set so that the room ends `ARGV[5]` (leave) or `ARGV[4]` (drop) ms
///     from now unless a creator ticket is redeemed,
///     [`crate::relay::room_fields::CREATOR_MEMBER`] removed). An earlier
///     creator connection that leaves after the creator came back on a new
///     one changes nothing;
///   - `4`: nobody is left and no creator is within its grace period: the
///     caller ends the room (never for `shutdown`).
pub const REMOVE_MEMBER: &str = concat!(
    now_ms_lua!(),
    r#"
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0, removed}
end
local creator_member = redis.call('HGET', KEYS[1], 'creator_member')
local current_creator = creator_member == ARGV[1]
if ARGV[2] == 'leave' and (current_creator or (ARGV[3] == '1' and not creator_member)) then
  local leave_grace = tonumber(ARGV[5])
  if leave_grace <= 0 then
    return {2, removed}
  end
  redis.call('HDEL', KEYS[1], 'creator_member')
  redis.call('HSET', KEYS[1], 'creator_gone_ms', now_ms - tonumber(ARGV[4]) + leave_grace)
  return {3, removed}
end
if current_creator then
  redis.call('HDEL', KEYS[1], 'creator_member')
  redis.call('HSET', KEYS[1], 'creator_gone_ms', now_ms)
  return {3, removed}
end
if ARGV[2] ~= 'shutdown' and redis.call('ZCARD', KEYS[2]) == 0
    and redis.call('HEXISTS', KEYS[1], 'creator_gone_ms') == 0 then
  return {4, removed}
end
return {1, removed}
"#
);

/// A relay node's periodic upkeep of one room it holds members of (or
/// watches a creator's grace period for): refresh its members' presence,
/// move the idle deadline forward after activity, remove members whose
/// presence went stale (their node died), and decide whether the room must
/// end.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`].
/// - `ARGV[1]` `1` if a member of this node sent a message since the last
///   call (activity), else `0`; `ARGV[2]` presence staleness limit (ms);
///   `ARGV[3]` the creator's grace period (ms); `ARGV[4]` the room's creator
///   hash as [`REDEEM_TICKET`] returned it (the incarnation this node knows;
///   a room re-created since counts as gone), or empty for no check;
///   `ARGV[5…]` ids of this node's members in the room.
/// - Activity moves the deadline of the room, presence and tickets set to
///   `min(now + idle_secs, expires_at)`, never earlier than it was.
/// - Reply `[0]` when the room is gone, else `[1, remaining_ms, action,
///   n_missing, missing…, removed…]`: milliseconds until the deadline;
///   `action` 0 (none), 1 (the creator did not come back within the grace
///   period: end the room), 2 (nobody left and no creator within its
///   grace: end the room) or 3 (the creator is away, within its grace
///   period: whoever watches keeps calling); the ids of this node's members that were no
///   longer in the presence set (another node declared them gone: close
///   them); and the stale members this call removed (the caller tells the
///   room they left). A removed creator starts its grace period.
pub const MAINTAIN_ROOM: &str = concat!(
    now_ms_lua!(),
    r#"
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0}
end
local room = redis.call('HMGET', KEYS[1], 'idle_secs', 'expires_at', 'creator_member', 'creator_gone_ms', 'creator_sha256')
if ARGV[4] ~= '' and room[5] ~= ARGV[4] then
  return {0}
end
local expires_ms = tonumber(room[2]) * 1000
if pttl < 0 then
  pttl = math.max(expires_ms - now_ms, 1)
end
if ARGV[1] == '1' then
  local deadline = math.min(now_ms + tonumber(room[1]) * 1000, expires_ms)
  if deadline - now_ms > pttl then
    pttl = deadline - now_ms
    redis.call('PEXPIREAT', KEYS[1], deadline)
    redis.call('PEXPIREAT', KEYS[2], deadline)
    redis.call('PEXPIREAT', KEYS[3], deadline)
  end
end
local missing = {}
for i = 5, #ARGV do
  if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    redis.call('ZADD', KEYS[2], 'XX', now_ms, ARGV[i])
  else
    missing[#missing + 1] = tonumber(ARGV[i])
  end
end
local removed = {}
local gone = tonumber(room[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(now_ms - tonumber(ARGV[2])))
for _, m in ipairs(stale) do
  redis.call('ZREM', KEYS[2], m)
  removed[#removed + 1] = tonumber(m)
  if m == room[3] then
    redis.call('HDEL', KEYS[1], 'creator_member')
    redis.call('HSET', KEYS[1], 'creator_gone_ms', now_ms)
    gone = now_ms
  end
end
local action = 0
if gone then
  if now_ms - gone >= tonumber(ARGV[3]) then
    action = 1
  else
    action = 3
  end
elseif redis.call('ZCARD', KEYS[2]) == 0 then
  action = 2
end
local reply = {1, pttl, action, #missing}
for _, m in ipairs(missing) do
  reply[#reply + 1] = m
end
for _, m in ipairs(removed) do
  reply[#reply + 1] = m
end
return reply
"#
);

/// First element of the [`REDEEM_TICKET`] reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedeemOutcome {
    /// `1`: a member now.
    Joined,
    /// `0`: no such ticket, or the room is gone.
    Invalid,
    /// `-2`: the room is full.
    Full,
}

impl RedeemOutcome {
    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Joined),
            0 => Some(Self::Invalid),
            -2 => Some(Self::Full),
            _ => None,
        }
    }
}

/// First element of the [`REMOVE_MEMBER`] reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoveAction {
    /// `0`: the room is gone.
    RoomGone,
    /// `1`: nothing more to do.
    None,
    /// `2`: the creator left and no leave grace applies: end the room.
    EndCreatorLeft,
    /// `3`: the creator left or its connection dropped; its grace period started.
    CreatorGrace,
    /// `4`: nobody is left: end the room.
    EndEmpty,
}

impl RemoveAction {
    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::RoomGone),
            1 => Some(Self::None),
            2 => Some(Self::EndCreatorLeft),
            3 => Some(Self::CreatorGrace),
            4 => Some(Self::EndEmpty),
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
