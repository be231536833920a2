//! Key schedule: the room secret S and everything derived from it.
//!
//! ```text
//! quick room:  S = 32 random bytes
//! named room:  S = Argon2id(NFKC(passphrase), SHA-256("vroom/v2/room-name-salt" || normalise(name)))
//! PRK        = HKDF-Extract(salt = "vroom/v2/room-secret", IKM = S)
//! join key   = HKDF-Expand(PRK, "vroom/v2/join-key", 32)
//! PSK        = HKDF-Expand(PRK, "vroom/v2/psk", 32)
//! room id    = SHA-256("vroom/v2/room-id" || join key)[0..16]
//! announce   = HKDF(salt = room id, IKM = PSK, info = "vroom/v2/announce-mac", 32)
//! ```
//!
//! The room id is a hash of the join key, so the server, which sees both,
//! can check that a key belongs to an id: nobody without S can create, probe
//! or squat a room id. The PSK stays independent of the join key.

use core::fmt;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{self, B64Error};
use crate::error::{Error, LinkError};
use crate::labels;

/// Length of the room secret S.
pub const SECRET_LEN: usize = 32;
/// Length of the room id.
pub const ROOM_ID_LEN: usize = 16;
/// Length of the join key.
pub const JOIN_KEY_LEN: usize = 32;
/// Length of the PSK.
pub const PSK_LEN: usize = 32;

/// Largest normalised room name, in UTF-8 bytes.
pub const MAX_ROOM_NAME_LEN: usize = 256;
/// Largest normalised passphrase, in UTF-8 bytes.
pub const MAX_PASSPHRASE_LEN: usize = 1024;

/// Argon2id memory cost in KiB (64 MiB).
pub const ARGON2_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 12;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;

/// The room secret S (32 bytes). Zeroized on drop; its `Debug` prints nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RoomSecret([u8; SECRET_LEN]);

impl fmt::Debug for RoomSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomSecret(..)")
    }
}

impl RoomSecret {
    /// Draws a fresh secret for a quick room.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut secret = Self([0; SECRET_LEN]);
        rng.fill_bytes(&mut secret.0);
        secret
    }

    /// Wraps 32 bytes as a room secret.
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// The secret as 43 characters of base64url (the invite link fragment).
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(encoding::encode(&self.0))
    }

    /// Parses the 43-character base64url form (e.g. from `sessionStorage`).
    pub fn from_base64url(text: &str) -> Result<Self, LinkError> {
        encoding::decode_fixed::<SECRET_LEN>(text)
            .map(Self)
            .map_err(|e| match e {
                B64Error::Length => LinkError::SecretLength,
                B64Error::Encoding => LinkError::SecretEncoding,
            })
    }

    /// Derives the secret of a named room with Argon2id and the protocol's
    /// parameters ([`ARGON2_M_KIB`], [`ARGON2_T`], [`ARGON2_P`]).
    ///
    /// This is deliberately slow (about a second in a browser) and blocks.
    pub fn from_name_and_passphrase(name: &str, passphrase: &str) -> Result<Self, Error> {
        let name = normalize_room_name(name)?;
        let passphrase = normalize_passphrase(passphrase)?;
        let salt = room_name_salt(&name);
        let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(SECRET_LEN))
            .map_err(|_| Error::Argon2)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut secret = Self([0; SECRET_LEN]);
        argon
            .hash_password_into(passphrase.as_bytes(), &salt, &mut secret.0)
            .map_err(|_| Error::Argon2)?;
        Ok(secret)
    }

    /// Derives the room id, join key, PSK and announcement key.
    pub fn derive_keys(&self) -> RoomKeys {
        let hk = Hkdf::<Sha256>::new(Some(labels::ROOM_SECRET), &self.0);
        let mut join_key = Zeroizing::new([0u8; JOIN_KEY_LEN]);
        let mut psk = Zeroizing::new([0u8; PSK_LEN]);
        expand(&hk, labels::JOIN_KEY, join_key.as_mut_slice());
        expand(&hk, labels::PSK, psk.as_mut_slice());
        let room_id = RoomId::for_join_key(&join_key);
        let mut announce_key = Zeroizing::new([0u8; 32]);
        let hk_psk = Hkdf::<Sha256>::new(Some(room_id.as_bytes()), psk.as_slice());
        expand(&hk_psk, labels::ANNOUNCE_MAC, announce_key.as_mut_slice());
        RoomKeys {
            room_id,
            join_key,
            psk,
            announce_key,
        }
    }

    /// The room id protocol v1 derived from this secret, only to recognise an
    /// old invite link (`labels::v1`).
    pub(crate) fn v1_room_id(&self) -> RoomId {
        let hk = Hkdf::<Sha256>::new(Some(labels::v1::ROOM_SECRET), &self.0);
        let mut room_id = [0u8; ROOM_ID_LEN];
        expand(&hk, labels::v1::ROOM_ID, &mut room_id);
        RoomId(room_id)
    }
}

/// HKDF-Expand into a buffer of at most 255 * 32 bytes (all callers use 16..=44).
pub(crate) fn expand(hk: &Hkdf<Sha256>, info: &[u8], out: &mut [u8]) {
    // Only fails for outputs longer than 255 * HashLen; every caller passes a short fixed size.
    if hk.expand(info, out).is_err() {
        unreachable!("HKDF-Expand output lengths are fixed and short");
    }
}

/// The room id: 16 bytes, public (the server sees it in the path).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomId([u8; ROOM_ID_LEN]);

impl RoomId {
    /// The room id that belongs to a join key:
    /// `SHA-256("vroom/v2/room-id" || join_key)[0..16]` (what the rooms API checks).
    pub fn for_join_key(join_key: &[u8; JOIN_KEY_LEN]) -> Self {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(labels::ROOM_ID)
            .chain_update(join_key)
            .finalize()
            .into();
        let mut id = [0u8; ROOM_ID_LEN];
        id.copy_from_slice(&digest[..ROOM_ID_LEN]);
        Self(id)
    }

    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; ROOM_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8; ROOM_ID_LEN] {
        &self.0
    }

    /// The 22-character base64url form used in paths and the API.
    pub fn to_base64url(&self) -> String {
        encoding::encode(&self.0)
    }

    /// Parses the 22-character base64url form.
    pub fn from_base64url(text: &str) -> Result<Self, LinkError> {
        encoding::decode_fixed::<ROOM_ID_LEN>(text)
            .map(Self)
            .map_err(|e| match e {
                B64Error::Length => LinkError::RoomIdLength,
                B64Error::Encoding => LinkError::RoomIdEncoding,
            })
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomId({})", self.to_base64url())
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64url())
    }
}

/// Everything derived from S. Secrets are zeroized on drop and not printed by `Debug`.
#[derive(Clone)]
pub struct RoomKeys {
    room_id: RoomId,
    join_key: Zeroizing<[u8; JOIN_KEY_LEN]>,
    psk: Zeroizing<[u8; PSK_LEN]>,
    announce_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for RoomKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomKeys")
            .field("room_id", &self.room_id)
            .finish_non_exhaustive()
    }
}

impl RoomKeys {
    /// The room id (what the server sees).
    pub fn room_id(&self) -> RoomId {
        self.room_id
    }

    /// The join key (sent to the server, which stores only its SHA-256).
    pub fn join_key(&self) -> &[u8; JOIN_KEY_LEN] {
        &self.join_key
    }

    /// The join key as 43 characters of base64url, for the API.
    pub fn join_key_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(encoding::encode(self.join_key.as_slice()))
    }

    /// The PSK (HPKE pre-shared key). Never leaves the browser.
    pub fn psk(&self) -> &[u8; PSK_LEN] {
        &self.psk
    }

    /// The key of the announcement HMAC, derived from the PSK.
    pub fn announce_key(&self) -> &[u8; 32] {
        &self.announce_key
    }
}

/// Normalises a room name: NFKC, Unicode lowercase, NFKC again, then trim and
/// collapse every run of Unicode `White_Space` to one U+0020.
///
/// Fails if the result is empty or longer than [`MAX_ROOM_NAME_LEN`] bytes.
pub fn normalize_room_name(name: &str) -> Result<String, Error> {
    let folded: String = name
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect();
    let mut out = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        return Err(Error::RoomNameEmpty);
    }
    if out.len() > MAX_ROOM_NAME_LEN {
        return Err(Error::RoomNameTooLong {
            max: MAX_ROOM_NAME_LEN,
        });
    }
    Ok(out)
}

/// Normalises a passphrase: NFKC only (no trimming, no case change).
///
/// Fails if it is empty or longer than [`MAX_PASSPHRASE_LEN`] bytes.
pub fn normalize_passphrase(passphrase: &str) -> Result<Zeroizing<String>, Error> {
    let out = Zeroizing::new(passphrase.nfkc().collect::<String>());
    if out.is_empty() {
        return Err(Error::PassphraseEmpty);
    }
    if out.len() > MAX_PASSPHRASE_LEN {
        return Err(Error::PassphraseTooLong {
            max: MAX_PASSPHRASE_LEN,
        });
    }
    Ok(out)
}

/// The Argon2id salt of a named room: SHA-256("vroom/v2/room-name-salt" || normalised name).
pub fn room_name_salt(normalized_name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(labels::ROOM_NAME_SALT);
    h.update(normalized_name.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn name_normalisation() {
        assert_eq!(
            normalize_room_name("  Café \t\n Bar  ").unwrap(),
            "café bar"
        );
        // NFKC: fullwidth letters and the "ﬁ" ligature become ASCII.
        assert_eq!(normalize_room_name("ＲＯＯＭ ﬁve").unwrap(), "room five");
        // Decomposed and composed forms agree.
        assert_eq!(
            normalize_room_name("Cafe\u{301}").unwrap(),
            normalize_room_name("Caf\u{e9}").unwrap()
        );
        // Ideographic space and no-break space are whitespace.
        assert_eq!(normalize_room_name("a\u{3000}\u{a0}b").unwrap(), "a b");
        assert_eq!(normalize_room_name(" \t "), Err(Error::RoomNameEmpty));
        assert!(matches!(
            normalize_room_name(&"x".repeat(257)),
            Err(Error::RoomNameTooLong { .. })
        ));
    }

    #[test]
    fn name_normalisation_is_idempotent() {
        for s in [
            "ΣΊΣΥΦΟΣ  Room",
            "İstanbul",
            "\u{a8}x",
            "Straße ǅ",
            "ﬀ  Ⅻ  ①",
        ] {
            let once = normalize_room_name(s).unwrap();
            assert_eq!(normalize_room_name(&once).unwrap(), once, "{s:?}");
        }
    }

    #[test]
    fn passphrase_is_nfkc_only() {
        assert_eq!(normalize_passphrase(" Ab ﬁ ").unwrap().as_str(), " Ab fi ");
        assert_eq!(normalize_passphrase(""), Err(Error::PassphraseEmpty));
    }

    #[test]
    fn derived_values_are_distinct_and_the_id_is_bound_to_the_key() {
        let keys = RoomSecret::from_bytes([7; 32]).derive_keys();
        assert_ne!(keys.join_key(), keys.psk());
        assert_ne!(keys.psk(), keys.announce_key());
        assert_eq!(keys.room_id(), RoomId::for_join_key(keys.join_key()));
        let mut other = *keys.join_key();
        other[31] ^= 1;
        assert_ne!(keys.room_id(), RoomId::for_join_key(&other));
        // The v1 id of the same secret is another id.
        assert_ne!(keys.room_id(), RoomSecret::from_bytes([7; 32]).v1_room_id());
    }

    #[test]
    fn debug_prints_no_secret() {
        let s = RoomSecret::from_bytes([0xab; 32]);
        let keys = s.derive_keys();
        let printed = format!("{s:?} {keys:?}");
        assert!(!printed.contains("171"), "{printed}");
        assert!(!printed.to_lowercase().contains("ab, ab"), "{printed}");
        assert!(!printed.contains(s.to_base64url().as_str()));
        assert!(!printed.contains(keys.join_key_base64url().as_str()));
    }
}
