//! Chain distributions: a member's current chain position, sealed to one
//! other member with HPKE (RFC 9180) mode AuthPSK.
//!
//! Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
//! `psk` = room PSK, `psk_id` = room id, `skS` = the sender's X25519 key,
//! `info` binds the room, both member ids and all four public keys, and the
//! AAD is the 10-byte frame header. The sealed grant carries the chain id,
//! the index, the chain key at that index, the sender's tab id and its
//! display name.

use core::fmt;

use hpke::{Deserializable, OpModeR, OpModeS, PskBundle, Serializable};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::chain::ChainKey;
use crate::error::{Error, RejectReason};
use crate::labels;
use crate::member::{DisplayName, HpkeKem, MAX_NAME_LEN, MemberKeys, PeerKeys, TabId};
use crate::schedule::RoomKeys;
use crate::wire::{
    DISTRIBUTION_LEN, DistributionFrame, GRANT_LEN, MemberId, Reader, TAB_ID_LEN,
    TYPE_DISTRIBUTION, VERSION,
};

type HpkeAead = hpke::aead::ChaCha20Poly1305;
type HpkeKdf = hpke::kdf::HkdfSha256;

/// What a chain distribution carries.
#[derive(Clone)]
pub struct ChainGrant {
    /// The sender's chain id.
    pub chain_id: u32,
    /// The index at which the receiver may start.
    pub index: u32,
    /// The chain key at `index`.
    pub chain_key: ChainKey,
    /// The sender's tab id (the same across its reconnects).
    pub tab: TabId,
    /// The sender's display name.
    pub name: DisplayName,
}

impl fmt::Debug for ChainGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainGrant")
            .field("chain_id", &self.chain_id)
            .field("index", &self.index)
            .field("tab", &self.tab)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ChainGrant {
    fn encode(&self) -> Zeroizing<[u8; GRANT_LEN]> {
        let mut out = Zeroizing::new([0u8; GRANT_LEN]);
        out[0..4].copy_from_slice(&self.chain_id.to_be_bytes());
        out[4..8].copy_from_slice(&self.index.to_be_bytes());
        out[8..40].copy_from_slice(self.chain_key.as_bytes());
        out[40..40 + TAB_ID_LEN].copy_from_slice(&self.tab.0);
        out[40 + TAB_ID_LEN..].copy_from_slice(&self.name.to_field());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, RejectReason> {
        let mut r = Reader::new(bytes);
        let chain_id = r.u32()?;
        let index = r.u32()?;
        let chain_key = ChainKey::from_bytes(*r.array::<32>()?);
        let tab = TabId(*r.array::<TAB_ID_LEN>()?);
        let field = r.array::<{ 1 + MAX_NAME_LEN }>()?;
        if !r.rest().is_empty() {
            return Err(RejectReason::OpenFailed);
        }
        let name = DisplayName::from_field(field).map_err(RejectReason::BadName)?;
        Ok(Self {
            chain_id,
            index,
            chain_key,
            tab,
            name,
        })
    }
}

/// The HPKE `info`: label || room id || sender id || recipient id ||
/// sender X25519 || sender Ed25519 || recipient X25519 || recipient Ed25519.
fn info(
    room: &RoomKeys,
    sender_id: MemberId,
    sender: &PeerKeys,
    recipient_id: MemberId,
    recipient: &PeerKeys,
) -> Vec<u8> {
    let mut info = Vec::with_capacity(labels::HPKE_CHAIN.len() + 16 + 8 + 128);
    info.extend_from_slice(labels::HPKE_CHAIN);
    info.extend_from_slice(room.room_id().as_bytes());
    info.extend_from_slice(&sender_id.0.to_be_bytes());
    info.extend_from_slice(&recipient_id.0.to_be_bytes());
    info.extend_from_slice(&sender.hpke_public_bytes());
    info.extend_from_slice(&sender.signing_public_bytes());
    info.extend_from_slice(&recipient.hpke_public_bytes());
    info.extend_from_slice(&recipient.signing_public_bytes());
    info
}

/// Seals `grant` from `sender` (member `sender_id`) to `recipient` (member `recipient_id`).
/// The HPKE ephemeral key comes from `rng` (32 bytes for `DeriveKeyPair`).
pub fn seal_distribution<R: CryptoRng + ?Sized>(
    room: &RoomKeys,
    sender_id: MemberId,
    sender: &MemberKeys,
    recipient_id: MemberId,
    recipient: &PeerKeys,
    grant: &ChainGrant,
    rng: &mut R,
) -> Result<Vec<u8>, Error> {
    let mut header = [0u8; 10];
    header[0] = VERSION;
    header[1] = TYPE_DISTRIBUTION;
    header[2..6].copy_from_slice(&sender_id.0.to_be_bytes());
    header[6..10].copy_from_slice(&recipient_id.0.to_be_bytes());
    let info = info(room, sender_id, &sender.public(), recipient_id, recipient);
    let room_id = room.room_id();
    let psk = PskBundle::new(room.psk(), room_id.as_bytes()).map_err(|_| Error::Hpke)?;
    let mode = OpModeS::<HpkeKem>::AuthPsk(
        (sender.hpke_secret().clone(), sender.hpke_public().clone()),
        psk,
    );
    let plaintext = grant.encode();
    let (enc, ciphertext) = hpke::single_shot_seal_with_rng::<HpkeAead, HpkeKdf, HpkeKem>(
        &mode,
        &recipient.hpke_public,
        &info,
        plaintext.as_slice(),
        &header,
        &mut &mut *rng,
    )
    .map_err(|_| Error::Hpke)?;
    let mut out = Vec::with_capacity(DISTRIBUTION_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(&enc.to_bytes());
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens a chain distribution that the relay delivered from member `from`,
/// sent by `sender` (its verified keys) to us (`my_id`, `me`).
///
/// Checks, in order: layout; sender id equals `from`; recipient id equals
/// `my_id`; HPKE AuthPSK open; grant layout and display name.
pub fn open_distribution(
    room: &RoomKeys,
    my_id: MemberId,
    me: &MemberKeys,
    from: MemberId,
    sender: &PeerKeys,
    bytes: &[u8],
) -> Result<ChainGrant, RejectReason> {
    let frame = DistributionFrame::decode(bytes)?;
    if frame.sender != from {
        return Err(RejectReason::SenderMismatch);
    }
    if frame.recipient != my_id {
        return Err(RejectReason::NotForMe);
    }
    let info = info(room, from, sender, my_id, &me.public());
    let room_id = room.room_id();
    let psk =
        PskBundle::new(room.psk(), room_id.as_bytes()).map_err(|_| RejectReason::OpenFailed)?;
    let mode = OpModeR::<HpkeKem>::AuthPsk(sender.hpke_public.clone(), psk);
    let enc = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(frame.enc)
        .map_err(|_| RejectReason::OpenFailed)?;
    let plaintext = Zeroizing::new(
        hpke::single_shot_open::<HpkeAead, HpkeKdf, HpkeKem>(
            &mode,
            me.hpke_secret(),
            &enc,
            &info,
            frame.ciphertext,
            frame.header,
        )
        .map_err(|_| RejectReason::OpenFailed)?,
    );
    ChainGrant::decode(&plaintext)
}
