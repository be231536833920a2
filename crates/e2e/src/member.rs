//! Members: identities, announcements, display names and safety codes.
//!
//! A tab makes an [`Identity`] when it first joins a room: an X25519 key pair
//! (HPKE), an Ed25519 key pair and a random tab id. It keeps the identity
//! across its own reconnects, so its safety code changes only when something
//! is wrong. The member announces both public keys, bound to the room id and
//! to the member id the relay assigned, signed with its Ed25519 key and MAC'd
//! with HMAC-SHA256 under a key derived from the room PSK.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{KeyInit, Mac};
use hpke::{Deserializable, Kem as _, Serializable};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::encoding;
use crate::error::{Error, NameError, RejectReason};
use crate::labels;
use crate::schedule::{RoomId, RoomKeys};
use crate::wire::{
    ANNOUNCEMENT_LEN, ANNOUNCEMENT_MACED_LEN, AnnouncementFrame, MemberId, TAB_ID_LEN,
    TYPE_ANNOUNCEMENT, VERSION,
};

pub(crate) type HpkeKem = hpke::kem::X25519HkdfSha256;
type HmacSha256 = hmac::Hmac<Sha256>;

/// Largest display name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A display name: 1 to 64 bytes of UTF-8 with nothing invisible in it (see
/// [`NameError::Invisible`]) and single spaces only between words.
///
/// The same rules apply to the local user's name before it is sent and to
/// every name received, so no member can show a name that looks like another
/// one through invisible characters or reorder text around it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a name typed by the local user. Every run of Unicode white
    /// space (tabs, no-break and ideographic spaces, line separators) becomes
    /// one U+0020, and surrounding white space is trimmed.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
        Self::check(&collapsed).map(|n| Self(n.to_owned()))
    }

    fn check(name: &str) -> Result<&str, NameError> {
        if name.is_empty() {
            Err(NameError::Empty)
        } else if name.len() > MAX_NAME_LEN {
            Err(NameError::TooLong)
        } else if let Some(c) = name.chars().find(|c| is_invisible(*c)) {
            Err(NameError::Invisible(u32::from(c)))
        } else if name.starts_with(' ') || name.ends_with(' ') || name.contains("  ") {
            Err(NameError::Spacing)
        } else {
            Ok(name)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key under which names that read alike are equal: NFKC, lowercase,
    /// NFKC again (as for room names). The page marks members whose names
    /// share a key; the discriminator of the safety code tells them apart.
    pub fn look_alike_key(&self) -> String {
        self.0
            .nfkc()
            .collect::<String>()
            .to_lowercase()
            .nfkc()
            .collect()
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

/// Code points a name may not hold besides controls and white space:
/// every format character (General_Category `Cf`, which includes the
/// bidirectional controls), every `Default_Ignorable_Code_Point` (Unicode
/// 16.0 `DerivedCoreProperties.txt`: soft hyphen, joiners, Hangul fillers,
/// variation selectors, tags…) and U+2800 BRAILLE PATTERN BLANK, which shows
/// as nothing. Sorted, inclusive ranges.
const INVISIBLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Whether a character is invisible or changes how the text around it is
/// shown: a control (`Cc`), white space other than U+0020 (space, line and
/// paragraph separators), or one of [`INVISIBLE`].
pub fn is_invisible(c: char) -> bool {
    let code = u32::from(c);
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || INVISIBLE
            .binary_search_by(|&(low, high)| {
                if high < code {
                    core::cmp::Ordering::Less
                } else if low > code {
                    core::cmp::Ordering::Greater
                } else {
                    core::cmp::Ordering::Equal
                }
            })
            .is_ok()
}

/// Number of discriminator colours ([`SafetyCode::colour`]).
pub const COLOURS: u8 = 8;

/// A safety code: 20 decimal digits in 4 groups of 5, e.g.
/// `"01234 56789 01234 56789"`, and a discriminator colour.
///
/// `h = SHA-256("vroom/v2/safety-code" || room id || Ed25519 key || X25519 key)`;
/// each group is a 5-byte big-endian chunk of `h` modulo 100000, and the
/// colour is `h[20] mod 8`. The colour and the first group are the member's
/// *discriminator*, shown beside its name everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SafetyCode {
    text: String,
    colour: u8,
}

impl SafetyCode {
    /// Computes the code of a member's public keys in a room.
    pub fn compute(room_id: &RoomId, signing_public: &[u8; 32], hpke_public: &[u8; 32]) -> Self {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(labels::SAFETY_CODE)
            .chain_update(room_id.as_bytes())
            .chain_update(signing_public)
            .chain_update(hpke_public)
            .finalize()
            .into();
        let groups: Vec<String> = digest
            .chunks_exact(5)
            .take(4)
            .map(|chunk| {
                let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                format!("{:05}", value % 100_000)
            })
            .collect();
        Self {
            text: groups.join(" "),
            colour: digest[20] % COLOURS,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first group of five digits (part of the discriminator).
    pub fn first_group(&self) -> &str {
        self.text.get(..5).unwrap_or(&self.text)
    }

    /// The discriminator colour, `0..COLOURS`.
    pub fn colour(&self) -> u8 {
        self.colour
    }
}

impl fmt::Display for SafetyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A random id a tab draws once per room and keeps with its [`Identity`]. It
/// travels only inside chain distributions, so members can tell "the same
/// tab came back" (same keys) from "the same tab now has other keys" (a
/// warning) across the new member ids of reconnects.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TabId(pub [u8; TAB_ID_LEN]);

impl fmt::Debug for TabId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TabId({})", encoding::encode(&self.0))
    }
}

/// Length of [`Identity::to_bytes`]: HPKE private key, Ed25519 seed, tab id.
pub const IDENTITY_LEN: usize = 32 + 32 + TAB_ID_LEN;

/// A tab's identity in one room: its key pairs and its tab id. The page keeps
/// it in memory across reconnects and, for reloads of the tab, in
/// `sessionStorage` while the room lives.
#[derive(Clone)]
pub struct Identity {
    keys: MemberKeys,
    tab: TabId,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("keys", &self.keys)
            .field("tab", &self.tab)
            .finish()
    }
}

impl Identity {
    /// Fresh key pairs ([`MemberKeys::generate`]), then 16 bytes of tab id.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let keys = MemberKeys::generate(rng);
        let mut tab = TabId([0; TAB_ID_LEN]);
        rng.fill_bytes(&mut tab.0);
        Self { keys, tab }
    }

    /// Combines key pairs and a tab id.
    pub fn new(keys: MemberKeys, tab: TabId) -> Self {
        Self { keys, tab }
    }

    /// The key pairs.
    pub fn keys(&self) -> &MemberKeys {
        &self.keys
    }

    /// The tab id.
    pub fn tab(&self) -> TabId {
        self.tab
    }

    /// The 80 secret bytes: HPKE private key, Ed25519 seed, tab id.
    pub fn to_bytes(&self) -> Zeroizing<[u8; IDENTITY_LEN]> {
        let mut out = Zeroizing::new([0u8; IDENTITY_LEN]);
        out[..32].copy_from_slice(&self.keys.hpke_secret.to_bytes());
        out[32..64].copy_from_slice(self.keys.signing.as_bytes());
        out[64..].copy_from_slice(&self.tab.0);
        out
    }

    /// Restores an identity from [`Identity::to_bytes`].
    pub fn from_bytes(bytes: &[u8; IDENTITY_LEN]) -> Result<Self, Error> {
        let hpke_secret = <HpkeKem as hpke::Kem>::PrivateKey::from_bytes(&bytes[..32])
            .map_err(|_| Error::Identity)?;
        let hpke_public = HpkeKem::sk_to_pk(&hpke_secret);
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[32..64]);
        let mut tab = TabId([0; TAB_ID_LEN]);
        tab.0.copy_from_slice(&bytes[64..]);
        Ok(Self {
            keys: MemberKeys {
                hpke_secret,
                hpke_public,
                signing: SigningKey::from_bytes(&seed),
            },
            tab,
        })
    }

    /// [`Identity::to_bytes`] as 107 characters of base64url (for `sessionStorage`).
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(encoding::encode(self.to_bytes().as_slice()))
    }

    /// Parses [`Identity::to_base64url`].
    pub fn from_base64url(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(
            encoding::decode_fixed::<IDENTITY_LEN>(text).map_err(|_| Error::Identity)?,
        );
        Self::from_bytes(&bytes)
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
        let signature = self.sign(labels::SIG_ANNOUNCE, &room_id, &out);
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
        labels::SIG_ANNOUNCE,
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
            DisplayName::new("  Amber \t Otter\u{3000}")
                .unwrap()
                .as_str(),
            "Amber Otter"
        );
        assert_eq!(DisplayName::new(" "), Err(NameError::Empty));
        assert_eq!(DisplayName::new(&"é".repeat(33)), Err(NameError::TooLong));
        assert_eq!(DisplayName::new("a\u{7}b"), Err(NameError::Invisible(7)));
        assert_eq!(
            DisplayName::new("evil\u{202e}gnp.exe"),
            Err(NameError::Invisible(0x202e))
        );
        // Look-alikes of "Alice" through invisible characters are refused,
        // locally and when received.
        for c in [
            '\u{200b}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{3164}',
            '\u{115f}',
            '\u{2066}',
            '\u{2028}',
            '\u{2029}',
            '\u{200d}',
            '\u{fe0f}',
            '\u{e0041}',
            '\u{2800}',
            '\u{180e}',
        ] {
            let name = format!("Ali{c}ce");
            // Typed locally, white space (the line and paragraph separators)
            // becomes a plain space; everything else is refused.
            let local = if c.is_whitespace() {
                DisplayName::new("Ali ce")
            } else {
                Err(NameError::Invisible(u32::from(c)))
            };
            assert_eq!(DisplayName::new(&name), local, "{c:?}");
            let mut field = [0u8; 1 + MAX_NAME_LEN];
            field[0] = name.len() as u8;
            field[1..=name.len()].copy_from_slice(name.as_bytes());
            assert!(DisplayName::from_field(&field).is_err(), "{c:?}");
        }
        // Received names may not play with spaces either.
        for name in [" Sam", "Sam ", "Sam  Lee", "Sam\u{a0}Lee"] {
            let mut field = [0u8; 1 + MAX_NAME_LEN];
            field[0] = name.len() as u8;
            field[1..=name.len()].copy_from_slice(name.as_bytes());
            assert!(DisplayName::from_field(&field).is_err(), "{name:?}");
        }
        assert_eq!(
            DisplayName::check("Sam  Lee"),
            Err(NameError::Spacing),
            "double space"
        );
        // Letters of any script, emoji without joiners, and punctuation are fine.
        for ok in [
            "Zoë",
            "سام",
            "山田 太郎",
            "Ødegård-Ñúñez",
            "Sam 🦊",
            "O'Brien (work)",
        ] {
            assert_eq!(DisplayName::new(ok).unwrap().as_str(), ok);
        }
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
    fn look_alike_keys() {
        let key = |n: &str| DisplayName::new(n).unwrap().look_alike_key();
        assert_eq!(key("Alice"), key("ALICE"));
        assert_eq!(key("Ａｌｉｃｅ"), key("alice"));
        assert_eq!(key("Cafe\u{301}"), key("Café"));
        assert_ne!(key("Alice"), key("Alicia"));
    }

    #[test]
    fn invisible_table_is_sorted_and_disjoint() {
        for pair in INVISIBLE.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
        assert!(!is_invisible(' '));
        assert!(!is_invisible('a'));
        assert!(is_invisible('\u{0}'));
        assert!(is_invisible('\u{e0fff}'));
        assert!(!is_invisible('\u{e1000}'));
    }

    /// Every format character and every separator but U+0020 of the Unicode
    /// version the `unicode-properties` crate knows is refused: the table
    /// above misses none of them.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn every_format_and_separator_character_is_refused() {
        use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let refuse = matches!(
                c.general_category(),
                GeneralCategory::Format
                    | GeneralCategory::Control
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
            ) || (c.general_category() == GeneralCategory::SpaceSeparator && c != ' ');
            if refuse {
                assert!(is_invisible(c), "U+{:04X} is not refused", u32::from(c));
            }
        }
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
        assert_eq!(code.first_group(), &code.as_str()[..5]);
        let other = MemberKeys::from_seeds(&[1; 32], &[3; 32]).safety_code(&room.room_id());
        assert_ne!(code, other);
        // Colours spread over the whole palette.
        let colours: std::collections::BTreeSet<u8> = (0..64u8)
            .map(|i| {
                MemberKeys::from_seeds(&[i; 32], &[i; 32])
                    .safety_code(&room.room_id())
                    .colour()
            })
            .collect();
        assert_eq!(colours, (0..COLOURS).collect());
    }

    #[test]
    fn identity_round_trip() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let id = Identity::generate(&mut rng);
        let text = id.to_base64url();
        assert_eq!(text.len(), 107);
        let back = Identity::from_base64url(&text).unwrap();
        assert_eq!(back.tab(), id.tab());
        assert_eq!(back.keys().public(), id.keys().public());
        assert_eq!(
            back.keys().hpke_public_bytes(),
            id.keys().hpke_public_bytes()
        );
        assert!(matches!(
            Identity::from_base64url(&text[1..]),
            Err(Error::Identity)
        ));
        assert!(!format!("{id:?}").contains(&text[..20]));
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
