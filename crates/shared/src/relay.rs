//! The relay wire format (`edge-ws-bridge`, DESIGN §7, `docs/PROTOCOL.md`
//! §12): WebSocket frames between a browser and a relay node, the envelope
//! relay nodes exchange on a room's Redis channel, close codes, and the room
//! hash fields the relay adds.
//!
//! Every WebSocket message is one binary frame: a one-byte type, then fixed
//! fields (big-endian), then an opaque payload where the type has one.
//! Payloads are the E2E layer's bytes; the relay never looks inside them.
//!
//! | dir | type | name | body |
//! | --- | --- | --- | --- |
//! | → | `0x01` | [`ClientFrame::Hello`] | room id (16) ‖ ticket (32) |
//! | → | `0x02` | [`ClientFrame::Broadcast`] | payload |
//! | → | `0x03` | [`ClientFrame::Direct`] | `u32` to ‖ payload |
//! | → | `0x04` | [`ClientFrame::Leave`] | — |
//! | → | `0x05` | [`ClientFrame::Ping`] | 0–8 bytes echoed |
//! | → | `0x06` | [`ClientFrame::Chunk`] | payload (a file chunk) |
//! | ← | `0x81` | [`RelayFrame::Welcome`] | `u32` member ‖ `u8` flags ‖ `u64` expires_at ‖ `u32` idle_secs |
//! | ← | `0x82` | [`RelayFrame::Joined`] | `u32` member |
//! | ← | `0x83` | [`RelayFrame::Left`] | `u32` member |
//! | ← | `0x84` | [`RelayFrame::Broadcast`] | `u32` from ‖ payload |
//! | ← | `0x85` | [`RelayFrame::Direct`] | `u32` from ‖ payload |
//! | ← | `0x86` | [`RelayFrame::Pong`] | 0–8 bytes |
//! | ← | `0x87` | [`RelayFrame::Ended`] | — |
//! | ← | `0x88` | [`RelayFrame::Error`] | `u16` code ‖ UTF-8 text (≤ 256) |
//! | ← | `0x89` | [`RelayFrame::RoomState`] | `u8` flags (bit 0: locked) |
//! | ← | `0x8A` | [`RelayFrame::Chunk`] | `u32` from ‖ payload (a file chunk) |
//!
//! Chat frames (Broadcast, Direct) and chunk frames (Chunk) are two lanes:
//! the relay sees only which lane a frame is in. It writes chat frames
//! ahead of chunk frames, budgets chunk bytes separately, and drops chunks
//! (never chat) for a member that reads too slowly (`docs/PROTOCOL.md` §12.7).
//!
//! No I/O here: the decoders borrow from the input and never panic.

use crate::ids::{RoomId, Ticket};

/// Largest payload a legitimate client sends: an E2E message of the
/// largest padding bucket (`docs/PROTOCOL.md` §7: 18-byte header, 16400
/// bytes of ciphertext, 64-byte signature). Announcements (166 bytes) and
/// chain distributions (179 bytes) are smaller.
pub const MAX_PAYLOAD: usize = 18 + 16_384 + 16 + 64;

/// Lengths of a file chunk payload (`docs/PROTOCOL.md` §7.3: a 31-byte
/// header and the ciphertext of one of the four padding buckets with its
/// 16-byte tag). A [`ClientFrame::Chunk`] carries exactly one of them.
pub const CHUNK_PAYLOAD_LENS: [usize; 4] = [
    31 + 256 + 16,
    31 + 1024 + 16,
    31 + 4096 + 16,
    31 + 16_384 + 16,
];

/// Largest file chunk payload: 16,431 bytes, less than [`MAX_PAYLOAD`], so
/// chunk frames fit the same frame limit as chat frames.
pub const MAX_CHUNK_PAYLOAD: usize = CHUNK_PAYLOAD_LENS[3];

/// Largest legitimate client frame: a [`ClientFrame::Direct`] (type byte,
/// `u32` recipient) around [`MAX_PAYLOAD`] — 16,487 bytes; the largest
/// [`ClientFrame::Chunk`] (type byte and [`MAX_CHUNK_PAYLOAD`]) is smaller.
/// A relay refuses anything larger (close [`close::FRAME_TOO_LARGE`]).
pub const MAX_CLIENT_FRAME: usize = max(1 + 4 + MAX_PAYLOAD, 1 + MAX_CHUNK_PAYLOAD);

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Longest [`ClientFrame::Ping`] / [`RelayFrame::Pong`] body.
pub const MAX_PING_DATA: usize = 8;

/// Longest [`RelayFrame::Error`] text.
pub const MAX_ERROR_TEXT: usize = 256;

/// Frame type bytes.
pub mod frame_type {
    /// [`super::ClientFrame::Hello`].
    pub const HELLO: u8 = 0x01;
    /// [`super::ClientFrame::Broadcast`].
    pub const BROADCAST: u8 = 0x02;
    /// [`super::ClientFrame::Direct`].
    pub const DIRECT: u8 = 0x03;
    /// [`super::ClientFrame::Leave`].
    pub const LEAVE: u8 = 0x04;
    /// [`super::ClientFrame::Ping`].
    pub const PING: u8 = 0x05;
    /// [`super::ClientFrame::Chunk`].
    pub const CHUNK: u8 = 0x06;
    /// [`super::RelayFrame::Welcome`].
    pub const WELCOME: u8 = 0x81;
    /// [`super::RelayFrame::Joined`].
    pub const JOINED: u8 = 0x82;
    /// [`super::RelayFrame::Left`].
    pub const LEFT: u8 = 0x83;
    /// [`super::RelayFrame::Broadcast`].
    pub const FROM_BROADCAST: u8 = 0x84;
    /// [`super::RelayFrame::Direct`].
    pub const FROM_DIRECT: u8 = 0x85;
    /// [`super::RelayFrame::Pong`].
    pub const PONG: u8 = 0x86;
    /// [`super::RelayFrame::Ended`].
    pub const ENDED: u8 = 0x87;
    /// [`super::RelayFrame::Error`].
    pub const ERROR: u8 = 0x88;
    /// [`super::RelayFrame::RoomState`].
    pub const ROOM_STATE: u8 = 0x89;
    /// [`super::RelayFrame::Chunk`].
    pub const FROM_CHUNK: u8 = 0x8A;
}

/// WebSocket close codes the relay uses. A client reconnects (with a new
/// ticket from the rooms API) after [`close::RESTART`] and
/// [`close::TRY_AGAIN_LATER`], and gives up on the room after
/// [`close::ROOM_ENDED`] and [`close::INVALID_TICKET`].
pub mod close {
    /// `1000`: after the client's [`super::ClientFrame::Leave`].
    pub const NORMAL: u16 = 1000;
    /// `1012`: the node is restarting (graceful shutdown); the room lives on,
    /// reconnect (to any node).
    pub const RESTART: u16 = 1012;
    /// `1013`: Redis is unreachable; the room's fate is unknown, try again.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// `4000`: a malformed frame, a text message, a frame out of order (no
    /// hello first, a second hello).
    pub const PROTOCOL_ERROR: u16 = 4000;
    /// `4001`: the ticket is unknown, forged, already used or expired, or its
    /// room has ended — one answer for all.
    pub const INVALID_TICKET: u16 = 4001;
    /// `4002`: the room ended (any reason of DESIGN §3); nothing of it remains.
    pub const ROOM_ENDED: u16 = 4002;
    /// `4003`: a frame larger than the relay's maximum.
    pub const FRAME_TOO_LARGE: u16 = 4003;
    /// `4004`: too many frames per second, after the warning
    /// [`super::RelayFrame::Error`] with this code.
    pub const RATE_LIMITED: u16 = 4004;
    /// `4005`: the client did not read fast enough; its send queue overflowed.
    pub const SLOW_READER: u16 = 4005;
    /// `4006`: the room has as many members as it may hold.
    pub const ROOM_FULL: u16 = 4006;
    /// `4007`: no hello within the handshake timeout.
    pub const TIMEOUT: u16 = 4007;
    /// `4008`: the page's `Origin` is not allowed.
    pub const BAD_ORIGIN: u16 = 4008;
    /// `4009`: this connection's presence was lost (another node declared it
    /// gone, e.g. after a network partition); rejoin as a new member.
    pub const PRESENCE_LOST: u16 = 4009;
    /// `4010`: the room's creator removed this member. The room is locked:
    /// the same link does not get back in unless the creator unlocks it.
    pub const REMOVED: u16 = 4010;
    /// `4011`: the room is locked; only its creator's ticket is redeemed.
    pub const ROOM_LOCKED: u16 = 4011;
    /// `4012`, in an [`super::RelayFrame::Error`] only (never a close):
    /// file chunks for this client were dropped because it read too slowly
    /// (its chunk queue was full) or the node's publish queue was backed
    /// up; the files they belonged to fail at the receiver.
    pub const CHUNKS_DROPPED: u16 = 4012;
    /// `4013`, in an [`super::RelayFrame::Error`] only (never a close):
    /// this client's chunk frame was dropped because the room reached its
    /// file-byte limit; cancel the file.
    pub const FILE_LIMIT: u16 = 4013;
}

/// Fields the relay adds to the room hash (`vroom:{R}:room`), next to those
/// of [`crate::redis::room_fields`].
pub mod room_fields {
    /// Counter behind member ids (`HINCRBY` by 1 per redeemed ticket), so ids
    /// are unique across nodes and never reused within a room's lifetime.
    pub const NEXT_MEMBER: &str = "next_member";
    /// Member id of the creator's current connection; absent while the
    /// creator is away.
    pub const CREATOR_MEMBER: &str = "creator_member";
    /// Redis time (Unix ms) at which the creator's connection dropped without
    /// a leave frame; the room ends when the grace period after it passes and
    /// the creator has not redeemed a creator ticket again.
    pub const CREATOR_GONE_MS: &str = "creator_gone_ms";
}

/// Why bytes are not a valid frame. Never contains the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No type byte.
    #[error("empty frame")]
    Empty,
    /// A type byte this side does not accept.
    #[error("unknown frame type {0:#04x}")]
    UnknownType(u8),
    /// The body is too short, too long, or has the wrong size.
    #[error("frame of type {0:#04x} has a bad length")]
    Length(u8),
    /// An error text that is not UTF-8.
    #[error("error text is not UTF-8")]
    Utf8,
}

/// A frame from a client to the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame<'a> {
    /// The first frame of a connection: which room, and the one-time ticket.
    Hello {
        /// The room.
        room: RoomId,
        /// The ticket from the rooms API (redacted in `Debug`).
        ticket: Ticket,
    },
    /// To every other member of the room.
    Broadcast {
        /// Opaque.
        payload: &'a [u8],
    },
    /// To one member of the room.
    Direct {
        /// Addressee member id.
        to: u32,
        /// Opaque.
        payload: &'a [u8],
    },
    /// The tab is closing: leave the room for good. From the creator, this
    /// ends the room.
    Leave,
    /// Keep-alive; answered with [`RelayFrame::Pong`] carrying the same bytes.
    Ping {
        /// 0 to [`MAX_PING_DATA`] bytes.
        data: &'a [u8],
    },
    /// A file chunk to every other member of the room (the chunk lane).
    Chunk {
        /// Opaque; one of [`CHUNK_PAYLOAD_LENS`] bytes.
        payload: &'a [u8],
    },
}

/// Length of an encoded [`ClientFrame::Hello`].
pub const HELLO_LEN: usize = 1 + RoomId::BYTES + Ticket::BYTES;

impl<'a> ClientFrame<'a> {
    /// Parses one WebSocket message.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, FrameError> {
        use frame_type as t;
        let (&ty, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        match ty {
            t::HELLO => {
                if body.len() != HELLO_LEN - 1 {
                    return Err(FrameError::Length(ty));
                }
                let (room, ticket) = body.split_at(RoomId::BYTES);
                Ok(Self::Hello {
                    room: RoomId::from_bytes(room.try_into().map_err(|_| FrameError::Length(ty))?),
                    ticket: Ticket::from_bytes(
                        ticket.try_into().map_err(|_| FrameError::Length(ty))?,
                    ),
                })
            }
            t::BROADCAST => Ok(Self::Broadcast { payload: body }),
            t::DIRECT => {
                let (to, payload) = split_u32(body).ok_or(FrameError::Length(ty))?;
                Ok(Self::Direct { to, payload })
            }
            t::LEAVE if body.is_empty() => Ok(Self::Leave),
            t::PING if body.len() <= MAX_PING_DATA => Ok(Self::Ping { data: body }),
            t::CHUNK if CHUNK_PAYLOAD_LENS.contains(&body.len()) => {
                Ok(Self::Chunk { payload: body })
            }
            t::LEAVE | t::PING | t::CHUNK => Err(FrameError::Length(ty)),
            other => Err(FrameError::UnknownType(other)),
        }
    }

    /// The bytes of this frame.
    pub fn encode(&self) -> Vec<u8> {
        use frame_type as t;
        match self {
            Self::Hello { room, ticket } => {
                let mut out = Vec::with_capacity(HELLO_LEN);
                out.push(t::HELLO);
                out.extend_from_slice(room.as_bytes());
                out.extend_from_slice(ticket.as_bytes());
                out
            }
            Self::Broadcast { payload } => prefixed(t::BROADCAST, &[], payload),
            Self::Direct { to, payload } => prefixed(t::DIRECT, &to.to_be_bytes(), payload),
            Self::Leave => vec![t::LEAVE],
            Self::Ping { data } => prefixed(t::PING, &[], data),
            Self::Chunk { payload } => prefixed(t::CHUNK, &[], payload),
        }
    }
}

/// A frame from the relay to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayFrame<'a> {
    /// First frame after a redeemed ticket: who you are. Followed by one
    /// [`RelayFrame::Joined`] per member already present.
    Welcome {
        /// Your member id in this room.
        member: u32,
        /// Whether you joined with a creator ticket.
        creator: bool,
        /// The room's lifetime cap (Unix seconds).
        expires_at: u64,
        /// The room's idle limit (seconds).
        idle_secs: u32,
    },
    /// A member is present (sent for members already there, and for newcomers).
    Joined {
        /// Its member id.
        member: u32,
    },
    /// A member left (leave frame, dropped connection, node gone).
    Left {
        /// Its member id.
        member: u32,
    },
    /// A broadcast from another member.
    Broadcast {
        /// The sender's member id.
        from: u32,
        /// Opaque.
        payload: &'a [u8],
    },
    /// A direct frame addressed to you.
    Direct {
        /// The sender's member id.
        from: u32,
        /// Opaque.
        payload: &'a [u8],
    },
    /// Answer to [`ClientFrame::Ping`].
    Pong {
        /// The ping's bytes.
        data: &'a [u8],
    },
    /// The room ended; the close code [`close::ROOM_ENDED`] follows.
    Ended,
    /// A problem that does not (yet) close the connection, e.g. a dropped
    /// frame over the rate limit ([`close::RATE_LIMITED`]).
    Error {
        /// A [`close`] code naming the problem.
        code: u16,
        /// Human-readable, at most [`MAX_ERROR_TEXT`] bytes.
        message: &'a str,
    },
    /// The room's state as its creator set it: sent after
    /// [`RelayFrame::Welcome`] when the room is locked, and to every member
    /// whenever it changes (within about a presence interval).
    RoomState {
        /// No new member is admitted (the creator still is).
        locked: bool,
    },
    /// A file chunk from another member (the chunk lane).
    Chunk {
        /// The sender's member id.
        from: u32,
        /// Opaque.
        payload: &'a [u8],
    },
}

/// Flag bit of [`RelayFrame::Welcome`]: joined with a creator ticket.
pub const WELCOME_CREATOR: u8 = 0x01;

/// Flag bit of [`RelayFrame::RoomState`]: the room is locked.
pub const STATE_LOCKED: u8 = 0x01;

impl<'a> RelayFrame<'a> {
    /// Parses one WebSocket message.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, FrameError> {
        use frame_type as t;
        let (&ty, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        let len_err = FrameError::Length(ty);
        match ty {
            t::WELCOME => {
                if body.len() != 17 || body[4] & !WELCOME_CREATOR != 0 {
                    return Err(len_err);
                }
                let (member, rest) = split_u32(body).ok_or(len_err)?;
                let creator = rest[0] & WELCOME_CREATOR != 0;
                let expires_at = u64::from_be_bytes(rest[1..9].try_into().map_err(|_| len_err)?);
                let idle_secs = u32::from_be_bytes(rest[9..13].try_into().map_err(|_| len_err)?);
                Ok(Self::Welcome {
                    member,
                    creator,
                    expires_at,
                    idle_secs,
                })
            }
            t::JOINED | t::LEFT => match split_u32(body) {
                Some((member, [])) if ty == t::JOINED => Ok(Self::Joined { member }),
                Some((member, [])) => Ok(Self::Left { member }),
                _ => Err(len_err),
            },
            t::FROM_BROADCAST => {
                let (from, payload) = split_u32(body).ok_or(len_err)?;
                Ok(Self::Broadcast { from, payload })
            }
            t::FROM_DIRECT => {
                let (from, payload) = split_u32(body).ok_or(len_err)?;
                Ok(Self::Direct { from, payload })
            }
            t::FROM_CHUNK => {
                let (from, payload) = split_u32(body).ok_or(len_err)?;
                Ok(Self::Chunk { from, payload })
            }
            t::PONG if body.len() <= MAX_PING_DATA => Ok(Self::Pong { data: body }),
            t::ENDED if body.is_empty() => Ok(Self::Ended),
            t::ERROR => {
                if body.len() < 2 || body.len() > 2 + MAX_ERROR_TEXT {
                    return Err(len_err);
                }
                let code = u16::from_be_bytes([body[0], body[1]]);
                let message = std::str::from_utf8(&body[2..]).map_err(|_| FrameError::Utf8)?;
                Ok(Self::Error { code, message })
            }
            t::ROOM_STATE => match body {
                [flags] if flags & !STATE_LOCKED == 0 => Ok(Self::RoomState {
                    locked: flags & STATE_LOCKED != 0,
                }),
                _ => Err(len_err),
            },
            t::PONG | t::ENDED => Err(len_err),
            other => Err(FrameError::UnknownType(other)),
        }
    }

    /// The bytes of this frame. An error text over [`MAX_ERROR_TEXT`] bytes
    /// is cut at a character boundary.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the bytes of this frame to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        use frame_type as t;
        match self {
            Self::Welcome {
                member,
                creator,
                expires_at,
                idle_secs,
            } => {
                out.push(t::WELCOME);
                out.extend_from_slice(&member.to_be_bytes());
                out.push(if *creator { WELCOME_CREATOR } else { 0 });
                out.extend_from_slice(&expires_at.to_be_bytes());
                out.extend_from_slice(&idle_secs.to_be_bytes());
            }
            Self::Joined { member } => {
                out.push(t::JOINED);
                out.extend_from_slice(&member.to_be_bytes());
            }
            Self::Left { member } => {
                out.push(t::LEFT);
                out.extend_from_slice(&member.to_be_bytes());
            }
            Self::Broadcast { from, payload } => {
                out.push(t::FROM_BROADCAST);
                out.extend_from_slice(&from.to_be_bytes());
                out.extend_from_slice(payload);
            }
            Self::Direct { from, payload } => {
                out.push(t::FROM_DIRECT);
                out.extend_from_slice(&from.to_be_bytes());
                out.extend_from_slice(payload);
            }
            Self::Chunk { from, payload } => {
                out.push(t::FROM_CHUNK);
                out.extend_from_slice(&from.to_be_bytes());
                out.extend_from_slice(payload);
            }
            Self::Pong { data } => {
                out.push(t::PONG);
                out.extend_from_slice(&data[..data.len().min(MAX_PING_DATA)]);
            }
            Self::Ended => out.push(t::ENDED),
            Self::Error { code, message } => {
                out.push(t::ERROR);
                out.extend_from_slice(&code.to_be_bytes());
                let mut end = message.len().min(MAX_ERROR_TEXT);
                while !message.is_char_boundary(end) {
                    end -= 1;
                }
                out.extend_from_slice(&message.as_bytes()[..end]);
            }
            Self::RoomState { locked } => {
                out.push(t::ROOM_STATE);
                out.push(if *locked { STATE_LOCKED } else { 0 });
            }
        }
    }
}

/// First byte of every [`Envelope`]; never the first byte of
/// [`crate::redis::ENDED`], so the two cannot be confused on a room channel.
pub const ENVELOPE_VERSION: u8 = 0xB1;

/// Longest node id a relay may use.
pub const MAX_NODE_ID: usize = 64;

/// What relay nodes publish on a room's channel (`vroom:{R}`): the origin
/// node, the addressee of a direct frame (0 for everyone), and the
/// [`RelayFrame`] exactly as local members receive it (`Joined`, `Left`,
/// `Broadcast` or `Direct`).
///
/// `0xB1 ‖ u8 node_len ‖ node id ‖ u32 to ‖ relay frame`.
///
/// A node ignores envelopes with its own node id (it delivered them to its
/// own sockets already) and delivers a direct frame only to a local socket of
/// member `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Id of the publishing node (1 to [`MAX_NODE_ID`] bytes).
    pub origin: &'a [u8],
    /// Addressee of a `Direct` frame; 0 otherwise (member ids start at 1).
    pub to: u32,
    /// The encoded [`RelayFrame`].
    pub frame: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Length of the header before the frame for a node id of `origin_len`
    /// bytes.
    pub const fn header_len(origin_len: usize) -> usize {
        1 + 1 + origin_len + 4
    }

    /// Appends the header (everything before the frame) to `out`. `origin`
    /// must be 1 to [`MAX_NODE_ID`] bytes.
    pub fn encode_header(origin: &[u8], to: u32, out: &mut Vec<u8>) {
        debug_assert!((1..=MAX_NODE_ID).contains(&origin.len()));
        out.push(ENVELOPE_VERSION);
        out.push(u8::try_from(origin.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(origin);
        out.extend_from_slice(&to.to_be_bytes());
    }

    /// The bytes of this envelope.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::header_len(self.origin.len()) + self.frame.len());
        Self::encode_header(self.origin, self.to, &mut out);
        out.extend_from_slice(self.frame);
        out
    }

    /// Parses a channel message. The frame inside is not checked; decode it
    /// with [`RelayFrame::decode`].
    pub fn decode(bytes: &'a [u8]) -> Result<Self, FrameError> {
        let err = FrameError::Length(ENVELOPE_VERSION);
        match bytes {
            [ENVELOPE_VERSION, len, rest @ ..] => {
                let len = usize::from(*len);
                if len == 0 || len > MAX_NODE_ID || rest.len() < len + 4 {
                    return Err(err);
                }
                let (origin, rest) = rest.split_at(len);
                let (to, frame) = split_u32(rest).ok_or(err)?;
                Ok(Self { origin, to, frame })
            }
            [] => Err(FrameError::Empty),
            [other, ..] => Err(FrameError::UnknownType(*other)),
        }
    }
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*head), rest))
}

fn prefixed(ty: u8, fixed: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + fixed.len() + payload.len());
    out.push(ty);
    out.extend_from_slice(fixed);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_frames() -> Vec<ClientFrame<'static>> {
        vec![
            ClientFrame::Hello {
                room: RoomId::from_bytes([7; 16]),
                ticket: Ticket::from_bytes([9; 32]),
            },
            ClientFrame::Broadcast { payload: b"" },
            ClientFrame::Broadcast { payload: b"abc" },
            ClientFrame::Direct {
                to: 0xDEAD_BEEF,
                payload: b"x",
            },
            ClientFrame::Leave,
            ClientFrame::Ping { data: b"" },
            ClientFrame::Ping { data: b"12345678" },
            ClientFrame::Chunk {
                payload: &[7; CHUNK_PAYLOAD_LENS[0]],
            },
            ClientFrame::Chunk {
                payload: &[8; MAX_CHUNK_PAYLOAD],
            },
        ]
    }

    fn relay_frames() -> Vec<RelayFrame<'static>> {
        vec![
            RelayFrame::Welcome {
                member: 3,
                creator: true,
                expires_at: 1_800_000_000,
                idle_secs: 900,
            },
            RelayFrame::Welcome {
                member: u32::MAX,
                creator: false,
                expires_at: 0,
                idle_secs: 0,
            },
            RelayFrame::Joined { member: 1 },
            RelayFrame::Left { member: 2 },
            RelayFrame::Broadcast {
                from: 5,
                payload: b"hello",
            },
            RelayFrame::Direct {
                from: 6,
                payload: b"",
            },
            RelayFrame::Pong { data: b"ab" },
            RelayFrame::Ended,
            RelayFrame::Error {
                code: close::RATE_LIMITED,
                message: "slow down",
            },
            RelayFrame::RoomState { locked: true },
            RelayFrame::RoomState { locked: false },
            RelayFrame::Chunk {
                from: 9,
                payload: b"chunk",
            },
        ]
    }

    #[test]
    fn client_frames_round_trip() {
        for frame in client_frames() {
            let bytes = frame.encode();
            assert_eq!(ClientFrame::decode(&bytes), Ok(frame));
        }
        assert_eq!(
            ClientFrame::Hello {
                room: RoomId::from_bytes([0; 16]),
                ticket: Ticket::from_bytes([0; 32]),
            }
            .encode()
            .len(),
            HELLO_LEN
        );
    }

    #[test]
    fn relay_frames_round_trip() {
        for frame in relay_frames() {
            let bytes = frame.encode();
            assert_eq!(RelayFrame::decode(&bytes), Ok(frame));
        }
    }

    #[test]
    fn exact_encodings() {
        assert_eq!(
            ClientFrame::Direct {
                to: 258,
                payload: b"p"
            }
            .encode(),
            [0x03, 0, 0, 1, 2, b'p']
        );
        assert_eq!(
            RelayFrame::Welcome {
                member: 1,
                creator: true,
                expires_at: 2,
                idle_secs: 3
            }
            .encode(),
            [0x81, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3]
        );
        assert_eq!(
            Envelope {
                origin: b"n1",
                to: 4,
                frame: &[0x82, 0, 0, 0, 9]
            }
            .encode(),
            [0xB1, 2, b'n', b'1', 0, 0, 0, 4, 0x82, 0, 0, 0, 9]
        );
    }

    #[test]
    fn malformed_frames_are_refused() {
        assert_eq!(ClientFrame::decode(b""), Err(FrameError::Empty));
        assert_eq!(ClientFrame::decode(&[0x01; 48]), Err(FrameError::Length(1)));
        assert_eq!(ClientFrame::decode(&[0x01; 50]), Err(FrameError::Length(1)));
        assert_eq!(
            ClientFrame::decode(&[0x03, 0, 0]),
            Err(FrameError::Length(3))
        );
        assert_eq!(ClientFrame::decode(&[0x04, 0]), Err(FrameError::Length(4)));
        assert_eq!(ClientFrame::decode(&[0x05; 10]), Err(FrameError::Length(5)));
        for len in [0, 1, 302, 304, MAX_CHUNK_PAYLOAD + 1] {
            let mut chunk = vec![0x06; 1 + len];
            chunk[0] = 0x06;
            assert_eq!(ClientFrame::decode(&chunk), Err(FrameError::Length(6)));
        }
        const { assert!(1 + MAX_CHUNK_PAYLOAD < MAX_CLIENT_FRAME) };
        assert_eq!(
            ClientFrame::decode(&[0x84, 0, 0, 0, 1]),
            Err(FrameError::UnknownType(0x84))
        );
        assert_eq!(
            RelayFrame::decode(&[0x02]),
            Err(FrameError::UnknownType(0x02))
        );
        assert_eq!(
            RelayFrame::decode(&[0x82, 0, 0, 0, 1, 0]),
            Err(FrameError::Length(0x82))
        );
        assert_eq!(
            RelayFrame::decode(&[0x88, 0, 1, 0xff]),
            Err(FrameError::Utf8)
        );
        let mut welcome = relay_frames()[0].encode();
        welcome[5] = 2;
        assert!(RelayFrame::decode(&welcome).is_err());
        assert_eq!(
            RelayFrame::RoomState { locked: true }.encode(),
            [0x89, 0x01]
        );
        for bad in [&[0x89][..], &[0x89, 2], &[0x89, 1, 0]] {
            assert_eq!(RelayFrame::decode(bad), Err(FrameError::Length(0x89)));
        }
    }

    #[test]
    fn envelopes() {
        let frame = RelayFrame::Broadcast {
            from: 1,
            payload: b"x",
        }
        .encode();
        let env = Envelope {
            origin: b"node-a",
            to: 0,
            frame: &frame,
        };
        let bytes = env.encode();
        assert_eq!(bytes.len(), Envelope::header_len(6) + frame.len());
        assert_eq!(Envelope::decode(&bytes), Ok(env));
        assert!(Envelope::decode(crate::redis::ENDED).is_err());
        assert_ne!(crate::redis::ENDED.first(), Some(&ENVELOPE_VERSION));
        assert!(Envelope::decode(&[0xB1, 0, 0, 0, 0, 0]).is_err());
        assert!(Envelope::decode(&[0xB1, 2, b'a', b'b', 0, 0, 0]).is_err());
        assert!(Envelope::decode(&[0xB1, 65]).is_err());
    }

    #[test]
    fn error_text_is_cut_at_a_char_boundary() {
        let long = "é".repeat(200);
        let bytes = RelayFrame::Error {
            code: 1,
            message: &long,
        }
        .encode();
        assert!(bytes.len() <= 3 + MAX_ERROR_TEXT);
        assert!(RelayFrame::decode(&bytes).is_ok());
    }
}
