//! Members: identities, announcements, display names and safety codes.
//!
//! Each join makes a fresh X25519 key pair (HPKE) and Ed25519 key pair. The
//! member announces both public keys, bound to the room id and to the member
//! id the relay assigned, signed with its Ed25519 key and MAC'd with
//! HMAC-SHA256 under a key derived from the room PSK.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{KeyInit, Mac};
use hpke::{Deserializable, Kem as _, Serializable};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{NameError, RejectReason};
use crate::schedule::{RoomId, RoomKeys};
use crate::wire::{
    ANNOUNCEMENT_LEN, ANNOUNCEMENT_MACED_LEN, AnnouncementFrame, TYPE_ANNOUNCEMENT, VERSION,
};

pub(crate) type HpkeKem = hpke::kem::X25519HkdfSha256;
type HmacSha256 = hmac::Hmac<Sha256>;

/// Signature context of announcements.
pub(crate) const SIG_CONTEXT_ANNOUNCE: &[u8] = b"vroom/v1/sig/announce";
/// Hash prefix of safety codes.
pub(crate) const LABEL_SAFETY_CODE: &[u8] = b"vroom/v1/safety-code";

/// Largest display name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The member id the relay assigned to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub u32);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A display name: 1 to 64 bytes of UTF-8 without control or bidirectional
/// formatting characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a name typed by the local user (surrounding whitespace is trimmed).
    pub fn new(name: &str) -> Result<Self, NameError> {
        Self::check(name.trim()).map(|n| Self(n.to_owned()))
    }

    fn check(name: &str) -> Result<&str, NameError> {
        if name.is_empty() {
            Err(NameError::Empty)
        } else if name.len() > MAX_NAME_LEN {
            Err(NameError::TooLong)
        } else if name.chars().any(is_forbidden_in_name) {
            Err(NameError::Control)
        } else {
            Ok(name)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fixed 65-byte field: length byte, then the name, then zeros.
    pub(crate) fn to_field(&self) -> [u8; 1 + MAX_NAME_LEN] {
        let mut field = [0u8; 1 + MAX_NAME_LEN];
        let bytes = self.0.as_bytes();
        // `check` bounds the length to MAX_NAME_LEN, so both fit.
        field[0] = bytes.len() as u8;
        field[1..=bytes.len()].copy_from_slice(bytes);
        field
    }

    /// Parses the fixed 65-byte field received from another member.
    pub(crate) fn from_field(field: &[u8; 1 + MAX_NAME_LEN]) -> Result<Self, NameError> {
        let (len, rest) = field.split_first().ok_or(NameError::Empty)?;
        let len = usize::from(*len);
        let (name, padding) = rest.split_at_checked(len).ok_or(NameError::TooLong)?;
        if padding.iter().any(|&b| b != 0) {
            return Err(NameError::Padding);
        }
        let name = core::str::from_utf8(name).map_err(|_| NameError::NotUtf8)?;
        Self::check(name).map(|n| Self(n.to_owned()))
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Control characters (Unicode `Cc`) and bidirectional formatting characters,
/// which could make a name display as something else.
fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// A safety code: 20 decimal digits in 4 groups of 5, e.g. `"01234 56789 01234 56789"`.
///
/// SHA-256("vroom/v1/safety-code" || room id || Ed25519 key || X25519 key);
/// each group is a 5-byte big-endian chunk of the hash modulo 100000.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafetyCode(String);

impl SafetyCode {
    /// Computes the code of a member's public keys in a room.
    pub fn compute(room_id: &RoomId, signing_public: &[u8; 32], hpke_public: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(LABEL_SAFETY_CODE);
        h.update(room_id.as_bytes());
        h.update(signing_public);
        h.update(hpke_public);
        let digest: [u8; 32] = h.finalize().into();
        let groups: Vec<String> = digest
            .chunks_exact(5)
            .take(4)
            .map(|chunk| {
                let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                format!("{:05}", value % 100_000)
            })
            .collect();
        Self(groups.join(" "))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafetyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The local member's key pairs for one join. Private keys are zeroized on drop.
#[derive(Clone)]
pub struct MemberKeys {
    hpke_secret: <HpkeKem as hpke::Kem>::PrivateKey,
    hpke_public: <HpkeKem as hpke::Kem>::PublicKey,
    signing: SigningKey,
}

impl fmt::Debug for MemberKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberKeys")
            .field("hpke_public", &self.hpke_public_bytes())
            .field("signing_public", &self.signing_public_bytes())
            .finish_non_exhaustive()
    }
}

impl MemberKeys {
    /// Makes fresh key pairs: 32 bytes for HPKE `DeriveKeyPair`, then 32 bytes for the Ed25519 seed.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut hpke_ikm = Zeroizing::new([0u8; 32]);
        let mut ed_seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(hpke_ikm.as_mut_slice());
        rng.fill_bytes(ed_seed.as_mut_slice());
        Self::from_seeds(&hpke_ikm, &ed_seed)
    }

    /// Derives the key pairs deterministically: X25519 by RFC 9180 `DeriveKeyPair(hpke_ikm)`,
    /// Ed25519 from its 32-byte seed.
    pub fn from_seeds(hpke_ikm: &[u8; 32], ed25519_seed: &[u8; 32]) -> Self {
        let (hpke_secret, hpke_public) = HpkeKem::derive_keypair(hpke_ikm);
        Self {
            hpke_secret,
            hpke_public,
            signing: SigningKey::from_bytes(ed25519_seed),
        }
    }

    /// The X25519 public key.
    pub fn hpke_public_bytes(&self) -> [u8; 32] {
        self.hpke_public.to_bytes().into()
    }

    /// The Ed25519 verifying key.
    pub fn signing_public_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The member's own safety code in a room.
    pub fn safety_code(&self, room_id: &RoomId) -> SafetyCode {
        SafetyCode::compute(
            room_id,
            &self.signing_public_bytes(),
            &self.hpke_public_bytes(),
        )
    }

    /// The public half, as other members see it.
    pub fn public(&self) -> PeerKeys {
        PeerKeys {
            hpke_public: self.hpke_public.clone(),
            verifying: self.signing.verifying_key(),
        }
    }

    pub(crate) fn hpke_secret(&self) -> &<HpkeKem as hpke::Kem>::PrivateKey {
        &self.hpke_secret
    }

    pub(crate) fn hpke_public(&self) -> &<HpkeKem as hpke::Kem>::PublicKey {
        &self.hpke_public
    }

    pub(crate) fn sign(&self, context: &[u8], room_id: &RoomId, body: &[u8]) -> Signature {
        let mut msg = Vec::with_capacity(context.len() + 16 + body.len());
        msg.extend_from_slice(context);
        msg.extend_from_slice(room_id.as_bytes());
        msg.extend_from_slice(body);
        self.signing.sign(&msg)
    }

    /// Builds this member's announcement for a room and the member id the relay assigned.
    pub fn announcement(&self, room: &RoomKeys, member: MemberId) -> Vec<u8> {
        let room_id = room.room_id();
        let mut out = Vec::with_capacity(ANNOUNCEMENT_LEN);
        out.extend_from_slice(&[VERSION, TYPE_ANNOUNCEMENT]);
        out.extend_from_slice(&member.0.to_be_bytes());
        out.extend_from_slice(&self.hpke_public_bytes());
        out.extend_from_slice(&self.signing_public_bytes());
        let signature = self.sign(SIG_CONTEXT_ANNOUNCE, &room_id, &out);
        out.extend_from_slice(&signature.to_bytes());
        let mac = announcement_mac(room, &out);
        out.extend_from_slice(&mac);
        out
    }
}

fn announcement_mac(room: &RoomKeys, maced: &[u8]) -> [u8; 32] {
    let mut mac = new_hmac(room);
    mac.update(room.room_id().as_bytes());
    mac.update(maced);
    mac.finalize().into_bytes().into()
}

fn new_hmac(room: &RoomKeys) -> HmacSha256 {
    // HMAC accepts keys of any length; the key is a fixed 32 bytes.
    <HmacSha256 as KeyInit>::new_from_slice(room.announce_key())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// How strictly to verify an Ed25519 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verification {
    /// `verify_strict`: also refuses small-order R and public keys.
    Strict,
    /// RFC 8032 cofactorless verification (canonical S, R compared as bytes).
    Standard,
}

/// Another member's public keys, after its announcement verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerKeys {
    pub(crate) hpke_public: <HpkeKem as hpke::Kem>::PublicKey,
    pub(crate) verifying: VerifyingKey,
}

impl PeerKeys {
    /// The X25519 public key.
    pub fn hpke_public_bytes(&self) -> [u8; 32] {
        self.hpke_public.to_bytes().into()
    }

    /// The Ed25519 verifying key.
    pub fn signing_public_bytes(&self) -> [u8; 32] {
        self.verifying.to_bytes()
    }

    /// The member's safety code in a room.
    pub fn safety_code(&self, room_id: &RoomId) -> SafetyCode {
        SafetyCode::compute(
            room_id,
            &self.signing_public_bytes(),
            &self.hpke_public_bytes(),
        )
    }

    /// Verifies an Ed25519 signature by this member over `context || room id || body`.
    ///
    /// `Strict` also refuses a small-order R and public key (used for
    /// announcements, which thereby refuse weak keys); `Standard` is RFC 8032
    /// cofactorless verification with a canonical S and R compared as bytes
    /// (used for messages, whose key was checked by the announcement).
    pub(crate) fn verify(
        &self,
        mode: Verification,
        context: &[u8],
        room_id: &RoomId,
        body: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), RejectReason> {
        let mut msg = Vec::with_capacity(context.len() + 16 + body.len());
        msg.extend_from_slice(context);
        msg.extend_from_slice(room_id.as_bytes());
        msg.extend_from_slice(body);
        let signature = Signature::from_bytes(signature);
        match mode {
            Verification::Strict => self.verifying.verify_strict(&msg, &signature),
            Verification::Standard => self.verifying.verify(&msg, &signature),
        }
        .map_err(|_| RejectReason::BadSignature)
    }
}

/// True if an X25519 public key is a low-order point (its DH output with any
/// clamped scalar is all zeros, which RFC 9180 makes senders reject).
fn is_low_order_x25519(public: &[u8; 32]) -> bool {
    let shared = x25519_dalek::x25519([9; 32], *public);
    bool::from(subtle::ConstantTimeEq::ct_eq(&shared[..], &[0u8; 32][..]))
}

/// Verifies an announcement received from the member id `from` (as reported by the relay).
///
/// Checks, in order: layout; claimed member id equals `from`; HMAC under the
/// room's announcement key (constant time); X25519 key not low-order;
/// Ed25519 key valid; signature (strict: small-order keys are refused).
pub fn open_announcement(
    room: &RoomKeys,
    from: MemberId,
    bytes: &[u8],
) -> Result<PeerKeys, RejectReason> {
    let frame = AnnouncementFrame::decode(bytes)?;
    if frame.member != from {
        return Err(RejectReason::SenderMismatch);
    }
    let maced = frame
        .bytes
        .get(..ANNOUNCEMENT_MACED_LEN)
        .ok_or(RejectReason::BadMac)?;
    let mut mac = new_hmac(room);
    mac.update(room.room_id().as_bytes());
    mac.update(maced);
    mac.verify_slice(frame.mac)
        .map_err(|_| RejectReason::BadMac)?;
    let verifying =
        VerifyingKey::from_bytes(frame.signing_public).map_err(|_| RejectReason::BadSignature)?;
    if is_low_order_x25519(frame.hpke_public) {
        return Err(RejectReason::InvalidKey);
    }
    let hpke_public = <HpkeKem as hpke::Kem>::PublicKey::from_bytes(frame.hpke_public)
        .map_err(|_| RejectReason::InvalidKey)?;
    let peer = PeerKeys {
        hpke_public,
        verifying,
    };
    let signed = frame
        .bytes
        .get(..crate::wire::ANNOUNCEMENT_SIGNED_LEN)
        .ok_or(RejectReason::BadSignature)?;
    peer.verify(
        Verification::Strict,
        SIG_CONTEXT_ANNOUNCE,
        &room.room_id(),
        signed,
        frame.signature,
    )?;
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::RoomSecret;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn keys() -> MemberKeys {
        MemberKeys::from_seeds(&[1; 32], &[2; 32])
    }

    #[test]
    fn announcement_round_trip_and_binding() {
        let room = RoomSecret::from_bytes([9; 32]).derive_keys();
        let a = keys().announcement(&room, MemberId(7));
        assert_eq!(a.len(), ANNOUNCEMENT_LEN);
        let peer = open_announcement(&room, MemberId(7), &a).unwrap();
        assert_eq!(peer, keys().public());
        assert_eq!(
            open_announcement(&room, MemberId(8), &a),
            Err(RejectReason::SenderMismatch)
        );
        let other_room = RoomSecret::from_bytes([10; 32]).derive_keys();
        assert_eq!(
            open_announcement(&other_room, MemberId(7), &a),
            Err(RejectReason::BadMac)
        );
        for i in 2..ANNOUNCEMENT_LEN {
            let mut t = a.clone();
            t[i] ^= 0x40;
            let r = open_announcement(&room, MemberId(7), &t);
            assert!(r.is_err(), "byte {i}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            DisplayName::new("  Amber Otter ").unwrap().as_str(),
            "Amber Otter"
        );
        assert_eq!(DisplayName::new(" "), Err(NameError::Empty));
        assert_eq!(DisplayName::new(&"é".repeat(33)), Err(NameError::TooLong));
        assert_eq!(DisplayName::new("a\u{7}b"), Err(NameError::Control));
        assert_eq!(
            DisplayName::new("evil\u{202e}gnp.exe"),
            Err(NameError::Control)
        );
        assert_eq!(DisplayName::new("a\u{2066}b"), Err(NameError::Control));
        let n = DisplayName::new("Zoë").unwrap();
        let field = n.to_field();
        assert_eq!(DisplayName::from_field(&field).unwrap(), n);
        let mut bad = field;
        bad[10] = 1;
        assert_eq!(DisplayName::from_field(&bad), Err(NameError::Padding));
        let mut long = field;
        long[0] = 65;
        assert_eq!(DisplayName::from_field(&long), Err(NameError::TooLong));
        let mut utf = field;
        utf[1] = 0xff;
        assert_eq!(DisplayName::from_field(&utf), Err(NameError::NotUtf8));
    }

    #[test]
    fn safety_code_shape() {
        let room = RoomSecret::from_bytes([9; 32]).derive_keys();
        let code = keys().safety_code(&room.room_id());
        assert_eq!(code.as_str().len(), 23);
        assert!(
            code.as_str()
                .split(' ')
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        let other = MemberKeys::from_seeds(&[1; 32], &[3; 32]).safety_code(&room.room_id());
        assert_ne!(code, other);
    }

    #[test]
    fn weak_signing_key_rejected_even_with_valid_mac() {
        let room = RoomSecret::from_bytes([9; 32]).derive_keys();
        let mut a = keys().announcement(&room, MemberId(7));
        // The identity point: a small-order Ed25519 key.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        a[38..70].copy_from_slice(&weak);
        let mac = announcement_mac(&room, &a[..ANNOUNCEMENT_MACED_LEN]);
        a[ANNOUNCEMENT_MACED_LEN..].copy_from_slice(&mac);
        assert_eq!(
            open_announcement(&room, MemberId(7), &a),
            Err(RejectReason::BadSignature)
        );
    }

    #[test]
    fn low_order_hpke_key_rejected() {
        assert!(is_low_order_x25519(&[0; 32]));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(is_low_order_x25519(&one));
        assert!(!is_low_order_x25519(&keys().hpke_public_bytes()));
    }
}
