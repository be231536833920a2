//! Lua scripts: one round trip per API call, and the one way a room ends.
//!
//! Run them with `EVAL script numkeys KEYS… ARGV…` (or `EVALSHA`). They reply
//! with flat arrays of integers only (Spin's `execute` flattens nested
//! replies). Every key a script touches carries the room's hash tag; the
//! ticket keys listed in [`super::tickets_key`] are the only ones not passed
//! in `KEYS` (their names are not known up front), and they share the slot.
//! No script's cost grows with anything a client controls beyond a room's
//! caps: tickets per room are bounded by `max_members ×`
//! [`super::TICKETS_PER_SEAT`] and expire out of their sorted set.
//! Times come from Redis `TIME`, so API instances and relay nodes agree.

use super::grant::{grant_creator, grant_member};

/// Lua shared by the scripts that issue tickets. The tickets set is a sorted
/// set of ticket key names scored by their expiry (Unix ms), so expired names
/// leave it in amortised O(log n) and a room's outstanding tickets are
/// counted in O(1), whatever their number.
///
/// `issue_ticket` drops expired names, and refuses when `max_tickets` are
/// still outstanding: it returns the milliseconds until the oldest one
/// expires (≥ 1). Otherwise it stores the ticket with a TTL of
/// `min(ticket_ttl_ms, room_ttl_ms)`, lists it, aligns the set's TTL with the
/// room's and returns 0.
macro_rules! issue_ticket_lua {
    () => {
        r#"
local function issue_ticket(tickets, ticket, grant, room_ttl_ms, ticket_ttl_ms, now_ms, max_tickets)
  redis.call('ZREMRANGEBYSCORE', tickets, '-inf', now_ms)
  if redis.call('ZCARD', tickets) >= max_tickets then
    local oldest = redis.call('ZRANGE', tickets, 0, 0, 'WITHSCORES')
    return math.max(tonumber(oldest[2]) - now_ms, 1)
  end
  local ttl_ms = math.min(ticket_ttl_ms, room_ttl_ms)
  redis.call('SET', ticket, grant, 'PX', ttl_ms)
  redis.call('ZADD', tickets, now_ms + ttl_ms, ticket)
  redis.call('PEXPIRE', tickets, room_ttl_ms)
  return 0
end
"#
    };
}

/// Lua shared by the scripts that wipe a room: delete every ticket key listed
/// in the tickets set (at most [`super::TICKETS_PER_SEAT`] per member seat),
/// then the set.
macro_rules! delete_tickets_lua {
    () => {
        r#"
local function delete_tickets(tickets)
  for _, name in ipairs(redis.call('ZRANGE', tickets, 0, -1)) do
    redis.call('DEL', name)
  end
  redis.call('DEL', tickets)
end
"#
    };
}

/// Lua shared by the scripts that admit members: the seats open to a
/// newcomer. The creator counts toward `max_members`; while no creator
/// connection is present (before its ticket is redeemed, or within its grace
/// period after it left) one seat stays kept for it, so members cannot lock
/// the creator out of its own room.
macro_rules! seats_lua {
    () => {
        r#"
local function seats(room, max_members, creator)
  if creator or redis.call('HEXISTS', room, 'creator_member') == 1 then
    return max_members
  end
  return max_members - 1
end
"#
    };
}

/// Lua shared by the scripts that drop a removal mark ([`EXPEL_MEMBER`]):
/// `unmark` deletes `expel:<member>` and, if it existed, counts it out of
/// `expels` (deleted at zero), so [`MAINTAIN_ROOM`] looks for marks only
/// while the room has some. Returns whether a mark existed.
macro_rules! unmark_lua {
    () => {
        r#"
local function unmark(room, member)
  if redis.call('HDEL', room, 'expel:' .. member) == 0 then
    return false
  end
  if redis.call('HINCRBY', room, 'expels', -1) <= 0 then
    redis.call('HDEL', room, 'expels')
  end
  return true
end
"#
    };
}

/// Lua shared by most scripts: the Redis clock in Unix milliseconds.
macro_rules! now_ms_lua {
    () => {
        r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
///   ([`super::TICKET_TTL_SECS`]), `ARGV[8]` outstanding tickets allowed per
///   member seat ([`super::TICKETS_PER_SEAT`]), `ARGV[9]` seconds a new room
///   lives unless a ticket of it is redeemed (its *claim* deadline).
/// - Reply `[outcome, a, b]` (see [`RoomOutcome`]):
///   - [`RoomOutcome::Created`] `[1, expires_at, 0]`: new room with the given
///     fields, deadline `min(now + claim, now + idle, now + lifetime)` until
///     [`REDEEM_TICKET`] claims it, creator ticket. Leftover presence and
///     ticket keys of an earlier room with this id are deleted.
///   - [`RoomOutcome::Joined`] `[2, expires_at, members]` (only
///     `create_or_join`, join key matches, a seat is open): member ticket.
///   - [`RoomOutcome::Exists`] `[3, 0, 0]`: the room is live and the mode is
///     `create`, or the join key differs; nothing changed.
///   - [`RoomOutcome::Full`] `[4, expires_at, members]`: join key matches but
///     no seat is open; nothing changed.
///   - [`RoomOutcome::TooManyTickets`] `[6, retry_after_secs, members]`: as
///     many tickets as `max_members × ARGV[8]` are outstanding; nothing
///     changed.
///   - [`RoomOutcome::Locked`] `[7, 0, 0]` (only `create_or_join`, join key
///     matches): the creator locked the room; nothing changed.
pub const CREATE_ROOM: &str = concat!(
    issue_ticket_lua!(),
    delete_tickets_lua!(),
    seats_lua!(),
    now_ms_lua!(),
    r#"
local now = math.floor(now_ms / 1000)
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
  local room = redis.call('HMGET', KEYS[1], 'join_key_sha256', 'expires_at', 'max_members', 'locked')
  if room[1] ~= ARGV[1] then
    return {3, 0, 0}
  end
  if room[4] then
    return {7, 0, 0}
  end
  local expires_at = tonumber(room[2])
  local max_members = tonumber(room[3])
  local members = redis.call('ZCARD', KEYS[2])
  if members >= seats(KEYS[1], max_members, false) then
    return {4, expires_at, members}
  end
  if room_ttl_ms < 0 then
    room_ttl_ms = ticket_ttl_ms
  end
  local wait_ms = issue_ticket(KEYS[3], KEYS[4], [["#,
    grant_member!(),
    r#"]], room_ttl_ms, ticket_ttl_ms, now_ms, max_members * tonumber(ARGV[8]))
  if wait_ms > 0 then
    return {6, math.ceil(wait_ms / 1000), members}
  end
  return {2, expires_at, members}
end
local expires_at = now + tonumber(ARGV[3])
local deadline = math.min(now + tonumber(ARGV[9]), now + tonumber(ARGV[4]), expires_at)
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
    r#"]], deadline * 1000 - now_ms, ticket_ttl_ms, now_ms, tonumber(ARGV[5]) * tonumber(ARGV[8]))
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
///   ticket TTL in seconds ([`super::TICKET_TTL_SECS`]), `ARGV[4]`
///   outstanding tickets allowed per member seat ([`super::TICKETS_PER_SEAT`]).
/// - Reply `[outcome, a, b]` (see [`RoomOutcome`]):
///   - [`RoomOutcome::Joined`] `[2, expires_at, members]`: ticket stored (a
///     creator ticket when `ARGV[2]` matched); `members` present before this
///     one.
///   - [`RoomOutcome::NotFound`] `[5, 0, 0]`: no such room, wrong join key,
///     or a creator hash that does not match — one answer for all.
///   - [`RoomOutcome::Full`] `[4, expires_at, members]`: no seat is open
///     (the creator counts, and its seat is kept while it is away); nothing
///     changed.
///   - [`RoomOutcome::TooManyTickets`] `[6, retry_after_secs, members]`:
///     `max_members × ARGV[4]` tickets are outstanding; nothing changed.
///   - [`RoomOutcome::Locked`] `[7, 0, 0]`: an ordinary member's join of a
///     room its creator locked ([`LOCK_ROOM`]); nothing changed. The
///     creator's own join is not refused.
pub const JOIN_ROOM: &str = concat!(
    issue_ticket_lua!(),
    seats_lua!(),
    now_ms_lua!(),
    r#"
local room = redis.call('HMGET', KEYS[1], 'join_key_sha256', 'creator_sha256', 'expires_at', 'max_members', 'locked')
local room_ttl_ms = redis.call('PTTL', KEYS[1])
if room[1] ~= ARGV[1] or room_ttl_ms == 0 or room_ttl_ms == -2 then
  return {5, 0, 0}
end
local creator = ARGV[2] ~= ''
local grant = [["#,
    grant_member!(),
    r#"]]
if creator then
  if room[2] ~= ARGV[2] then
    return {5, 0, 0}
  end
  grant = [["#,
    grant_creator!(),
    r#"]]
elseif room[5] then
  return {7, 0, 0}
end
local ticket_ttl_ms = tonumber(ARGV[3]) * 1000
local expires_at = tonumber(room[3])
local max_members = tonumber(room[4])
local members = redis.call('ZCARD', KEYS[2])
if members >= seats(KEYS[1], max_members, creator) then
  return {4, expires_at, members}
end
if room_ttl_ms < 0 then
  room_ttl_ms = ticket_ttl_ms
end
local wait_ms = issue_ticket(KEYS[3], KEYS[4], grant, room_ttl_ms, ticket_ttl_ms, now_ms, max_members * tonumber(ARGV[4]))
if wait_ms > 0 then
  return {6, math.ceil(wait_ms / 1000), members}
end
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

/// Locks or unlocks a room, for its creator (the rooms API).
///
/// - `KEYS[1]` [`super::room_key`].
/// - `ARGV[1]` creator token SHA-256 (lowercase hex), `ARGV[2]` `1` to lock,
///   `0` to unlock.
/// - A locked room ([`super::room_fields::LOCKED`]) gets no ticket for a new
///   member ([`JOIN_ROOM`], [`CREATE_ROOM`] answer [`RoomOutcome::Locked`])
///   and relay nodes redeem no member ticket of it ([`REDEEM_TICKET`]); the
///   creator's own tickets still work. Relay nodes see the change in their
///   next [`MAINTAIN_ROOM`] and tell their members.
/// - Reply `[1, locked]` (the state now), or `[0]` when there is no such room
///   or the creator hash does not match — one answer for both. The field
///   adds nothing to the room's size but one flag, whatever the calls.
pub const LOCK_ROOM: &str = r#"
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0}
end
if redis.call('HGET', KEYS[1], 'creator_sha256') ~= ARGV[1] then
  return {0}
end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'locked', 1)
  return {1, 1}
end
redis.call('HDEL', KEYS[1], 'locked')
return {1, 0}
"#;

/// Removes a member, for the room's creator (the rooms API): locks the room
/// (the link is shared, so the member could otherwise come straight back)
/// and marks the member for expulsion; the relay node holding its
/// connection closes it with [`crate::relay::close::REMOVED`] in its next
/// [`MAINTAIN_ROOM`] and tells the room it left, and every member's keys
/// rotate as after any departure.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`].
/// - `ARGV[1]` creator token SHA-256 (lowercase hex), `ARGV[2]` the member
///   id (decimal, as the relay reports it).
/// - Reply (see [`ExpelOutcome`]): `[1]` marked (and locked), `[0]` no such
///   room or a creator hash that does not match, `[-1]` the member is not
///   present, `[-2]` it is the creator's own connection.
/// - Bounded: a mark (`expel:<id>` in the room hash, counted in `expels`)
///   exists only for a member in the presence set, and goes when the member
///   is expelled, leaves or goes stale, so a room never holds more marks
///   than `max_members`. Marking the same member again changes nothing.
pub const EXPEL_MEMBER: &str = r#"
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0}
end
local room = redis.call('HMGET', KEYS[1], 'creator_sha256', 'creator_member')
if room[1] ~= ARGV[1] then
  return {0}
end
if room[2] == ARGV[2] then
  return {-2}
end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return {-1}
end
redis.call('HSET', KEYS[1], 'locked', 1)
if redis.call('HSETNX', KEYS[1], 'expel:' .. ARGV[2], 1) == 1 then
  redis.call('HINCRBY', KEYS[1], 'expels', 1)
end
return {1}
"#;

/// The [`EXPEL_MEMBER`] reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpelOutcome {
    /// `1`: marked for expulsion; the room is locked.
    Expelled,
    /// `0`: no such room, or not its creator.
    NotFound,
    /// `-1`: no such member present.
    NoSuchMember,
    /// `-2`: the creator's own connection.
    Creator,
}

impl ExpelOutcome {
    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Expelled),
            0 => Some(Self::NotFound),
            -1 => Some(Self::NoSuchMember),
            -2 => Some(Self::Creator),
            _ => None,
        }
    }
}

/// Checks every rate limit a request counts against, and counts it in all
/// of them only if none is spent: one round trip for the client's buckets
/// and the global budget. A refused request counts nowhere, so a client
/// past its own limit cannot spend the budget every client shares.
///
/// - `KEYS[1..n]` [`super::rate_key`]s (fixed windows).
/// - `ARGV[1]` window in seconds ([`super::RATE_WINDOW_SECS`]); `ARGV[1 + i]`
///   the limit of `KEYS[i]` per window.
/// - Reply `[retry_after]`: `0` when admitted (every counter went up by
///   one; a new counter expires after the window), else the seconds until
///   the latest of the spent windows resets (≥ 1), and nothing changed.
pub const RATE_LIMIT: &str = r#"
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 0 then
      redis.call('EXPIRE', key, window)
      ttl = window
    end
    wait = math.max(wait, ttl, 1)
  end
end
if wait > 0 then
  return {wait}
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then
    redis.call('EXPIRE', key, window)
  end
end
return {0}
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
    /// `6`: too many tickets of the room are outstanding.
    TooManyTickets,
    /// `7`: the creator locked the room: no ticket for a new member.
    Locked,
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
            Self::TooManyTickets => 6,
            Self::Locked => 7,
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
            6 => Some(Self::TooManyTickets),
            7 => Some(Self::Locked),
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

/// Makes the holder of a redeemed ticket a member, on a relay node.
///
/// The node first redeems the ticket itself with one `GETDEL` of its
/// [`super::ticket_key`] on its command connection, so a forged or spent
/// ticket costs one command and nothing room-scoped; only a ticket that
/// existed reaches this script.
///
/// - `KEYS[1]` [`super::room_key`], `KEYS[2]` [`super::presence_key`],
///   `KEYS[3]` [`super::tickets_key`], `KEYS[4]` [`super::ticket_key`] of the
///   redeemed ticket.
/// - `ARGV[1]` the grant `GETDEL` returned ([`super::TicketGrant`] encoding).
/// - Removes the ticket's name from the tickets set, whatever follows.
/// - Reply (see [`RedeemOutcome`]):
///   - `[0]` ([`RedeemOutcome::Invalid`]): not a grant, or the room is gone.
///   - `[-2]` ([`RedeemOutcome::Full`]): no seat is open. The creator counts
///     toward `max_members`, and while no creator connection is present one
///     seat stays kept for it.
///   - `[-3]` ([`RedeemOutcome::Locked`]): a member ticket of a room its
///     creator locked ([`LOCK_ROOM`], [`EXPEL_MEMBER`]), even one issued
///     before the lock. Creator tickets are redeemed.
///   - `[1, member, creator, expires_at, idle_secs, remaining_ms, locked,
///     creator_sha256, present…]` ([`RedeemOutcome::Joined`]): the member id
///     (`HINCRBY` of [`crate::relay::room_fields::NEXT_MEMBER`], so unique
///     across nodes and never reused in the room), `1` for a creator ticket,
///     the room's `expires_at` and `idle_secs`, milliseconds until the room's
///     deadline, `1` if the room is locked (else `0`), the room's creator hash (a tag of this incarnation of the
///     room, passed back to [`END_ROOM`]), then the ids of the members present
///     before this one. The member is added to the presence set at the Redis
///     time; a creator ticket sets
///     [`crate::relay::room_fields::CREATOR_MEMBER`] and clears
///     [`crate::relay::room_fields::CREATOR_GONE_MS`] (the creator is back).
///     The first redemption *claims* the room
///     ([`super::room_fields::CLAIMED`]): its deadline moves from the short
///     claim deadline [`CREATE_ROOM`] set to `min(now + idle_secs,
///     expires_at)`.
pub const REDEEM_TICKET: &str = concat!(
    seats_lua!(),
    now_ms_lua!(),
    r#"
redis.call('ZREM', KEYS[3], KEYS[4])
local creator
if ARGV[1] == [["#,
    grant_creator!(),
    r#"]] then
  creator = 1
elseif ARGV[1] == [["#,
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
local room = redis.call('HMGET', KEYS[1], 'max_members', 'expires_at', 'idle_secs', 'creator_sha256', 'claimed', 'locked')
if room[6] and creator == 0 then
  return {-3}
end
local expires_ms = tonumber(room[2]) * 1000
if pttl < 0 then
  pttl = math.max(expires_ms - now_ms, 1)
end
local present = redis.call('ZRANGE', KEYS[2], 0, -1)
if #present >= seats(KEYS[1], tonumber(room[1]), creator == 1) then
  return {-2}
end
if not room[5] then
  local deadline = math.max(math.min(now_ms + tonumber(room[3]) * 1000, expires_ms), now_ms + 1)
  redis.call('HSET', KEYS[1], 'claimed', 1)
  redis.call('PEXPIREAT', KEYS[1], deadline)
  redis.call('PEXPIREAT', KEYS[3], deadline)
  pttl = deadline - now_ms
end
local id = redis.call('HINCRBY', KEYS[1], 'next_member', 1)
redis.call('ZADD', KEYS[2], now_ms, id)
redis.call('PEXPIRE', KEYS[2], pttl)
if creator == 1 then
  redis.call('HSET', KEYS[1], 'creator_member', id)
  redis.call('HDEL', KEYS[1], 'creator_gone_ms')
end
local reply = {1, id, creator, tonumber(room[2]), tonumber(room[3]), pttl, room[6] and 1 or 0, room[4]}
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
/// - Forgets a pending expulsion of the member ([`EXPEL_MEMBER`]).
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
    unmark_lua!(),
    now_ms_lua!(),
    r#"
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0, removed}
end
unmark(KEYS[1], ARGV[1])
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
/// - This node's members whose expulsion the creator asked for
///   ([`EXPEL_MEMBER`]) leave the presence set here, and their
///   `expel:<id>` fields go.
/// - Reply `[0]` when the room is gone, else `[1, remaining_ms, action,
///   locked, n_missing, n_expelled, missing…, expelled…, removed…]`:
///   milliseconds until the deadline;
///   `action` 0 (none), 1 (the creator did not come back within the grace
///   period: end the room), 2 (nobody left and no creator within its
///   grace: end the room) or 3 (the creator is away, within its grace
///   period: whoever watches keeps calling); `1` if the room is locked, else
///   `0`; the ids of this node's members that were no longer in the
///   presence set (another node declared them gone: close them); this
///   node's members just expelled (close them with
///   [`crate::relay::close::REMOVED`] and tell the room they left); and the
///   stale members this call removed (the caller tells the room they left;
///   a pending expulsion of theirs is dropped). A removed creator starts its
///   grace period.
pub const MAINTAIN_ROOM: &str = concat!(
    unmark_lua!(),
    now_ms_lua!(),
    r#"
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 or pttl == 0 then
  return {0}
end
local room = redis.call('HMGET', KEYS[1], 'idle_secs', 'expires_at', 'creator_member', 'creator_gone_ms', 'creator_sha256', 'locked', 'expels')
local marks = room[7]
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
local expelled = {}
for i = 5, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    missing[#missing + 1] = tonumber(ARGV[i])
  elseif marks and unmark(KEYS[1], ARGV[i]) then
    redis.call('ZREM', KEYS[2], ARGV[i])
    expelled[#expelled + 1] = tonumber(ARGV[i])
  else
    redis.call('ZADD', KEYS[2], 'XX', now_ms, ARGV[i])
  end
end
local removed = {}
local gone = tonumber(room[4])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(now_ms - tonumber(ARGV[2])))
for _, m in ipairs(stale) do
  redis.call('ZREM', KEYS[2], m)
  if marks then
    unmark(KEYS[1], m)
  end
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
local reply = {1, pttl, action, room[6] and 1 or 0, #missing, #expelled}
for _, m in ipairs(missing) do
  reply[#reply + 1] = m
end
for _, m in ipairs(expelled) do
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
    /// `-3`: the room is locked and the ticket is not the creator's.
    Locked,
}

impl RedeemOutcome {
    /// Reads the integer in the reply.
    pub const fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Joined),
            0 => Some(Self::Invalid),
            -2 => Some(Self::Full),
            -3 => Some(Self::Locked),
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
            RoomOutcome::TooManyTickets,
            RoomOutcome::Locked,
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
