//! Room ids and the secrets that go with a room, in their one wire encoding:
//! unpadded, canonical base64url.
//!
//! Secrets ([`JoinKey`], [`CreatorToken`], [`Ticket`]) have no `Display` and a
//! redacting `Debug`, so they cannot end up in a log line by accident; the only
//! way to their text is [`JoinKey::to_base64`] and friends (or serde, for the
//! wire). The server keeps only their SHA-256 ([`JoinKey::sha256_hex`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Why a string is not a valid id or secret. Never contains the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong number of characters.
    #[error("{kind} must be {expected} base64url characters, got {got}")]
    Length {
        /// Which kind of id.
        kind: &'static str,
        /// Characters required.
        expected: usize,
        /// Characters given.
        got: usize,
    },
    /// A character outside the base64url alphabet, padding, or non-zero
    /// trailing bits (a non-canonical encoding).
    #[error("{kind} is not canonical unpadded base64url")]
    Encoding {
        /// Which kind of id.
        kind: &'static str,
    },
}

/// Number of unpadded base64 characters for `bytes` bytes.
const fn encoded_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

fn decode<const N: usize>(kind: &'static str, text: &str) -> Result<[u8; N], IdError> {
    let expected = encoded_len(N);
    if text.len() != expected {
        return Err(IdError::Length {
            kind,
            expected,
            got: text.chars().count(),
        });
    }
    // The engine rejects padding, foreign characters and non-zero trailing
    // bits, so every accepted string is the one encoding of its bytes.
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| IdError::Encoding { kind })?;
    bytes.try_into().map_err(|_| IdError::Encoding { kind })
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $len:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const BYTES: usize = $len;
            /// Length of the base64url text.
            pub const ENCODED_LEN: usize = encoded_len($len);

            /// Wraps raw bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Parses the canonical unpadded base64url text.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                decode($kind, text).map(Self)
            }

            /// The canonical unpadded base64url text.
            pub fn to_base64(&self) -> String {
                URL_SAFE_NO_PAD.encode(self.0)
            }

            /// SHA-256 of the raw bytes.
            pub fn sha256(&self) -> [u8; 32] {
                sha256(&self.0)
            }

            /// Lowercase hex of [`Self::sha256`], the form stored in Redis.
            pub fn sha256_hex(&self) -> String {
                to_hex(&self.sha256())
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_base64())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "a {} ({} base64url characters)", $kind, encoded_len($len))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

macro_rules! secret_debug {
    ($name:ident) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

id_type!(
    /// A room's public identity (16 bytes, 22 characters), derived in the
    /// browser from the room secret.
    RoomId,
    16,
    "room id"
);

impl RoomId {
    /// Domain-separation label of [`RoomId::for_join_key`].
    pub const JOIN_KEY_LABEL: &'static [u8] = b"vroom/v2/room-id";

    /// The room id bound to a join key (protocol v2): the first 16 bytes of
    /// `SHA-256("vroom/v2/room-id" || join_key)`. The server can check that
    /// a key belongs to an id, and nobody without the key can produce an id
    /// that matches it.
    pub fn for_join_key(join_key: &JoinKey) -> Self {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(Self::JOIN_KEY_LABEL)
            .chain_update(join_key.as_bytes())
            .finalize()
            .into();
        let mut id = [0; 16];
        id.copy_from_slice(&digest[..16]);
        Self(id)
    }
}

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl std::fmt::Debug for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RoomId({self})")
    }
}

id_type!(
    /// The key that proves knowledge of the room secret (32 bytes, 43
    /// characters). Stored only as its SHA-256.
    JoinKey,
    32,
    "join key"
);
secret_debug!(JoinKey);

id_type!(
    /// Drawn by the server at creation and returned once to the creator (32
    /// bytes, 43 characters); ends the room. Stored only as its SHA-256.
    CreatorToken,
    32,
    "creator token"
);
secret_debug!(CreatorToken);

id_type!(
    /// One-time WebSocket ticket (32 random bytes, 43 characters), redeemed
    /// by the relay within [`crate::redis::TICKET_TTL_SECS`]. Stored only as
    /// its SHA-256, inside the ticket's key name.
    Ticket,
    32,
    "ticket"
);
secret_debug!(Ticket);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(RoomId::ENCODED_LEN, 22);
        assert_eq!(JoinKey::ENCODED_LEN, 43);
        assert_eq!(CreatorToken::ENCODED_LEN, 43);
        assert_eq!(Ticket::ENCODED_LEN, 43);
    }

    #[test]
    fn round_trip() {
        let room = RoomId::from_bytes(*b"0123456789abcdef");
        let text = room.to_base64();
        assert_eq!(text.len(), 22);
        assert_eq!(RoomId::parse(&text).unwrap(), room);
        assert_eq!(room.to_string(), text);
        let key = JoinKey::from_bytes([0xfb; 32]);
        let text = key.to_base64();
        assert_eq!(text.len(), 43);
        assert!(
            text.contains('-') || text.contains('_'),
            "url alphabet: {text}"
        );
        assert_eq!(text.parse::<JoinKey>().unwrap(), key);
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            RoomId::parse("AAAA"),
            Err(IdError::Length {
                kind: "room id",
                expected: 22,
                got: 4
            })
        );
        assert!(Ticket::parse(&"A".repeat(44)).is_err());
        assert!(Ticket::parse("").is_err());
        // 22 bytes of UTF-8 but fewer characters.
        assert!(RoomId::parse("ééééééééééé").is_err());
    }

    #[test]
    fn rejects_foreign_alphabet_and_padding() {
        let good = RoomId::from_bytes([7; 16]).to_base64();
        for bad_char in ['+', '/', '=', ' ', '.', '\0'] {
            let mut bad = good.clone();
            bad.replace_range(5..6, &bad_char.to_string());
            assert_eq!(
                RoomId::parse(&bad),
                Err(IdError::Encoding { kind: "room id" }),
                "{bad:?}"
            );
        }
        // Standard (padded) base64 of 16 bytes is 24 characters.
        assert!(RoomId::parse("BwcHBwcHBwcHBwcHBwcHBw==").is_err());
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // 16 bytes → 22 chars; the last char carries 2 data bits and 4 zero bits.
        let good = RoomId::from_bytes([0; 16]).to_base64();
        assert_eq!(good, "AAAAAAAAAAAAAAAAAAAAAA");
        assert!(RoomId::parse("AAAAAAAAAAAAAAAAAAAAAB").is_err());
        assert!(RoomId::parse("AAAAAAAAAAAAAAAAAAAAAQ").is_ok());
        // 32 bytes → 43 chars; the last char carries 4 data bits and 2 zero bits.
        assert!(JoinKey::parse(&format!("{}E", "A".repeat(42))).is_ok());
        assert!(JoinKey::parse(&format!("{}B", "A".repeat(42))).is_err());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let key = JoinKey::from_bytes([1; 32]);
        let text = key.to_base64();
        for shown in [
            format!("{key:?}"),
            format!("{:?}", CreatorToken::from_bytes([1; 32])),
            format!("{:?}", Ticket::from_bytes([1; 32])),
        ] {
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(!shown.contains(&text), "{shown}");
        }
        let room = RoomId::from_bytes([1; 16]);
        assert_eq!(format!("{room:?}"), format!("RoomId({room})"));
    }

    #[test]
    fn hashes() {
        // SHA-256("abc")
        assert_eq!(
            to_hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let ticket = Ticket::from_bytes([9; 32]);
        assert_eq!(ticket.sha256(), sha256(&[9; 32]));
        assert_eq!(ticket.sha256_hex(), to_hex(&sha256(&[9; 32])));
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn room_ids_are_bound_to_join_keys() {
        let mut bytes = [0; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let key = JoinKey::from_bytes(bytes);
        // SHA-256("vroom/v2/room-id" || 00 01 … 1f), first 16 bytes.
        assert_eq!(
            RoomId::for_join_key(&key).to_base64(),
            "Jlg5rNM06be_rFyMu2sGAw"
        );
        bytes[31] ^= 1;
        assert_ne!(
            RoomId::for_join_key(&JoinKey::from_bytes(bytes)),
            RoomId::for_join_key(&key)
        );
    }

    #[test]
    fn serde_uses_the_text_and_hides_bad_input() {
        let key = JoinKey::from_bytes([3; 32]);
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{}\"", key.to_base64()));
        assert_eq!(serde_json::from_str::<JoinKey>(&json).unwrap(), key);
        let err = serde_json::from_str::<JoinKey>("\"secret-but-short\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret-but-short"), "{err}");
        assert!(serde_json::from_str::<RoomId>("12").is_err());
    }
}
