//! Every domain-separation label of the protocol, in one table
//! (`docs/PROTOCOL.md` §1.1).
//!
//! A label is the ASCII bytes of `vroom/v2/<purpose>`, used as an HKDF salt
//! or info, a hash prefix, or a signature context. The version in the label
//! changes with every incompatible protocol version, so nothing derived for
//! one version is valid in another. The set is prefix-free: no label is the
//! start of another, so `label || data` never collides across purposes.

/// The protocol version these labels belong to (also the first byte of every payload).
pub const VERSION: u8 = 2;

/// HKDF-Extract salt of the room secret S.
pub const ROOM_SECRET: &[u8] = b"vroom/v2/room-secret";
/// HKDF info of the join key.
pub const JOIN_KEY: &[u8] = b"vroom/v2/join-key";
/// HKDF info of the PSK.
pub const PSK: &[u8] = b"vroom/v2/psk";
/// SHA-256 prefix of the room id (16 bytes, no separator before the join key).
pub const ROOM_ID: &[u8; 16] = b"vroom/v2/room-id";
/// HKDF info of the announcement MAC key.
pub const ANNOUNCE_MAC: &[u8] = b"vroom/v2/announce-mac";
/// SHA-256 prefix of a named room's Argon2id salt.
pub const ROOM_NAME_SALT: &[u8] = b"vroom/v2/room-name-salt";
/// Signature context of announcements.
pub const SIG_ANNOUNCE: &[u8] = b"vroom/v2/sig/announce";
/// SHA-256 prefix of safety codes.
pub const SAFETY_CODE: &[u8] = b"vroom/v2/safety-code";
/// HKDF info of a chain step's message key and nonce.
pub const CHAIN_MESSAGE: &[u8] = b"vroom/v2/chain/message";
/// HKDF info of the next chain key.
pub const CHAIN_NEXT: &[u8] = b"vroom/v2/chain/next";
/// Signature context of messages.
pub const SIG_MESSAGE: &[u8] = b"vroom/v2/sig/message";
/// Prefix of the HPKE `info` of chain distributions.
pub const HPKE_CHAIN: &[u8] = b"vroom/v2/hpke/chain";

/// Every label of this version, by name (for the distinctness test and the docs).
pub const ALL: [(&str, &[u8]); 12] = [
    ("ROOM_SECRET", ROOM_SECRET),
    ("JOIN_KEY", JOIN_KEY),
    ("PSK", PSK),
    ("ROOM_ID", ROOM_ID),
    ("ANNOUNCE_MAC", ANNOUNCE_MAC),
    ("ROOM_NAME_SALT", ROOM_NAME_SALT),
    ("SIG_ANNOUNCE", SIG_ANNOUNCE),
    ("SAFETY_CODE", SAFETY_CODE),
    ("CHAIN_MESSAGE", CHAIN_MESSAGE),
    ("CHAIN_NEXT", CHAIN_NEXT),
    ("SIG_MESSAGE", SIG_MESSAGE),
    ("HPKE_CHAIN", HPKE_CHAIN),
];

/// Labels of protocol version 1, kept only to recognise a v1 invite link
/// (whose room id was `HKDF-Expand(HKDF-Extract(V1_ROOM_SECRET, S), V1_ROOM_ID, 16)`)
/// and refuse it with a clear error. Nothing else of v1 is computed.
pub mod v1 {
    /// v1 HKDF-Extract salt of S.
    pub const ROOM_SECRET: &[u8] = b"vroom/v1/room-secret";
    /// v1 HKDF info of the room id.
    pub const ROOM_ID: &[u8] = b"vroom/v1/room-id";
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn labels_are_versioned_distinct_and_prefix_free() {
        let prefix = format!("vroom/v{VERSION}/");
        for (i, (name, a)) in ALL.iter().enumerate() {
            assert!(a.starts_with(prefix.as_bytes()), "{name}");
            assert!(a.is_ascii(), "{name}");
            for (other, b) in &ALL[i + 1..] {
                assert!(
                    !a.starts_with(b) && !b.starts_with(a),
                    "{name} and {other} overlap"
                );
            }
        }
        for old in [v1::ROOM_SECRET, v1::ROOM_ID] {
            assert!(ALL.iter().all(|(_, l)| *l != old));
        }
    }
}
