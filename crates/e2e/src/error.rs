//! Error and rejection types.
//!
//! [`Error`](enum@Error) is returned to the caller for bad local input (a name that is
//! too long, a message over the size limit). [`LinkError`] is returned by
//! invite-link parsing. [`DecodeError`] describes a payload whose layout is
//! wrong, and [`RejectReason`] tells why a received payload was refused.
//! None of them carries secret material.

use thiserror::Error;

/// Errors for local input and operations of this crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The room name is empty after normalisation.
    #[error("the room name is empty")]
    RoomNameEmpty,
    /// The room name is longer than the limit after normalisation.
    #[error("the room name is longer than {max} bytes")]
    RoomNameTooLong {
        /// The limit in UTF-8 bytes.
        max: usize,
    },
    /// The passphrase is empty.
    #[error("the passphrase is empty")]
    PassphraseEmpty,
    /// The passphrase is longer than the limit after normalisation.
    #[error("the passphrase is longer than {max} bytes")]
    PassphraseTooLong {
        /// The limit in UTF-8 bytes.
        max: usize,
    },
    /// The display name is not acceptable.
    #[error("invalid display name: {0}")]
    DisplayName(#[from] NameError),
    /// The message text is longer than the largest padding bucket allows.
    #[error("the message is longer than {max} bytes")]
    MessageTooLong {
        /// The limit in UTF-8 bytes.
        max: usize,
    },
    /// The sending chain cannot be renewed any more (2^32 chains used).
    #[error("no chain ids left for this member")]
    ChainIdsExhausted,
    /// Argon2id refused its parameters (cannot happen with the protocol's constants).
    #[error("Argon2id failed")]
    Argon2,
    /// HPKE failed to seal (e.g. the recipient's public key is a low-order point).
    #[error("HPKE seal failed")]
    Hpke,
    /// A stored identity is not 80 bytes of canonical base64url.
    #[error("the stored identity is damaged")]
    Identity,
    /// A file name to offer is empty, longer than 255 bytes, or holds a
    /// control, line break or invisible character.
    #[error("the file name is empty, longer than 255 bytes or holds invisible characters")]
    FileName,
    /// A MIME type to offer is not `type/subtype` in printable ASCII of at
    /// most 127 bytes.
    #[error("the file type is not a MIME type")]
    FileType,
    /// A file over the protocol's size limit.
    #[error("the file is larger than {max} bytes")]
    FileTooLarge {
        /// The limit in bytes.
        max: u64,
    },
    /// More files sent at once than a session allows.
    #[error("at most {max} files can be sent at once")]
    TooManyFiles {
        /// The limit.
        max: usize,
    },
    /// No file with this id is being sent (never offered, finished or cancelled).
    #[error("no such file is being sent")]
    UnknownFile,
    /// A chunk of the wrong length: every chunk but the last holds exactly
    /// the offer's chunk size, the last one the rest.
    #[error("the chunk must hold {expected} bytes")]
    ChunkLength {
        /// The length required.
        expected: usize,
    },
    /// A member the file was offered to left, and our chain rotated: the
    /// transfer stopped so that member cannot read the rest. Offer it again.
    #[error("the transfer stopped because a member left; offer the file again")]
    FileAborted,
}

/// Why a display name is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NameError {
    /// The name is empty (after trimming, for local input).
    #[error("empty")]
    Empty,
    /// The name is longer than [`crate::member::MAX_NAME_LEN`] bytes.
    #[error("longer than 64 bytes")]
    TooLong,
    /// The name contains a character that is invisible or changes how text
    /// around it is shown: a control, format, default-ignorable or
    /// bidirectional formatting character, or a line, paragraph or space
    /// separator other than U+0020.
    #[error("contains the invisible or formatting character U+{0:04X}")]
    Invisible(u32),
    /// The name starts or ends with a space, or has two spaces in a row.
    #[error("has a space at its start or end, or two spaces in a row")]
    Spacing,
    /// The name bytes are not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The bytes after the name in its fixed-size field are not all zero.
    #[error("non-zero padding")]
    Padding,
}

/// Errors from parsing an invite link or its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The link does not start with `https://` or `http://`.
    #[error("the link is not an http(s) address")]
    NotHttp,
    /// The link has no host.
    #[error("the link has no host")]
    MissingHost,
    /// The path does not end in `/r/<room-id>`.
    #[error("the link has no /r/<room-id> path")]
    MissingRoomPath,
    /// The room id does not have 22 characters.
    #[error("the room id in the link has the wrong length")]
    RoomIdLength,
    /// The room id is not canonical base64url without padding.
    #[error("the room id in the link is not valid base64url")]
    RoomIdEncoding,
    /// The link has no `#` fragment, or it is empty.
    #[error("the link has no #secret part")]
    MissingFragment,
    /// The secret does not have 43 characters.
    #[error("the room secret in the link has the wrong length")]
    SecretLength,
    /// The secret is not canonical base64url without padding.
    #[error("the room secret in the link is not valid base64url")]
    SecretEncoding,
    /// The room id is not the one derived from the secret.
    #[error("the room id does not belong to the secret in the link")]
    RoomIdMismatch,
    /// The link was made by protocol version 1 (its room id is the v1 id of
    /// its secret): that room cannot be joined with this version.
    #[error("the link is from an older version of Vroom")]
    OldVersion,
}

/// A payload whose byte layout is wrong (checked before any cryptography).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The payload is empty or shorter than its fixed header.
    #[error("payload truncated")]
    Truncated,
    /// The first byte is an older protocol version than this one.
    #[error("payload from older protocol version {0}")]
    TooOld(u8),
    /// The first byte is a newer protocol version than this one.
    #[error("payload from newer protocol version {0}")]
    TooNew(u8),
    /// The second byte is not a known payload type.
    #[error("unknown payload type {0}")]
    Type(u8),
    /// The payload length does not match its type.
    #[error("wrong payload length {got} (expected {expected})")]
    Length {
        /// The length the layout requires.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The message ciphertext length is not one of the padding buckets.
    #[error("ciphertext length {0} is not a padding bucket")]
    CiphertextLength(u32),
    /// The message index is the reserved value `u32::MAX`.
    #[error("message index out of range")]
    Index,
    /// A chunk's flags byte has bits other than the final-chunk bit.
    #[error("unknown chunk flags {0:#04x}")]
    Flags(u8),
    /// A file chunk where a chat payload belongs (a relay chat frame), or a
    /// chat payload in a relay chunk frame.
    #[error("payload in the wrong kind of relay frame")]
    Lane,
}

/// Why a received payload (or a member) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RejectReason {
    /// The bytes do not have the layout of any payload.
    #[error("malformed payload: {0}")]
    Malformed(#[from] DecodeError),
    /// The sender id inside the payload is not the member id the relay reported.
    #[error("sender id does not match the relay's member id")]
    SenderMismatch,
    /// A chain distribution addressed to another member.
    #[error("addressed to another member")]
    NotForMe,
    /// The payload claims to come from this member itself.
    #[error("payload from our own member id")]
    FromSelf,
    /// The sender has left (member ids are never reused).
    #[error("sender has left the room")]
    SenderLeft,
    /// The relay reported a join for a member id that already left.
    #[error("member id reused")]
    MemberIdReused,
    /// The announcement's MAC under the room PSK is wrong: the sender does not hold the room secret.
    #[error("announcement MAC invalid (sender does not hold the room secret)")]
    BadMac,
    /// The announced X25519 key is a low-order point.
    #[error("invalid public key")]
    InvalidKey,
    /// An Ed25519 signature did not verify, or a public key is invalid.
    #[error("bad signature")]
    BadSignature,
    /// A member announced different keys after its first announcement.
    #[error("member announced different keys")]
    KeyChange,
    /// HPKE could not open the chain distribution.
    #[error("chain distribution does not open")]
    OpenFailed,
    /// The display name inside a chain distribution is invalid.
    #[error("invalid display name: {0}")]
    BadName(NameError),
    /// A chain distribution carries another display name than the member's first one.
    #[error("display name changed")]
    NameChanged,
    /// A chain distribution whose chain id is not newer than the current one.
    #[error("stale or replayed chain distribution")]
    StaleChain,
    /// A message under a chain id that is neither the sender's current nor previous chain.
    #[error("message under an unknown or expired chain")]
    UnknownChain,
    /// A message index before the position at which we received the chain.
    #[error("message sent before we received the chain")]
    BeforeChainStart,
    /// A message index whose key was already used or is no longer kept.
    #[error("replayed or expired message")]
    Replay,
    /// A message index more than the skip limit ahead of the chain.
    #[error("message index too far ahead")]
    TooFarAhead,
    /// The message did not decrypt under its message key.
    #[error("message does not decrypt")]
    DecryptFailed,
    /// The decrypted message has an invalid length field, padding or UTF-8.
    #[error("message plaintext malformed")]
    BadPadding,
    /// An authentic message offers a file with invalid metadata (name, type,
    /// size or chunk size).
    #[error("file offer malformed")]
    BadOffer,
    /// A queued payload was dropped because the waiting queue was full.
    #[error("dropped from the full waiting queue")]
    QueueOverflow,
}
