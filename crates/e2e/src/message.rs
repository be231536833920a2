//! Message frames: padded content (a text, a typing signal, a file offer or
//! a file's cancellation),
//! ChaCha20-Poly1305 under a chain's message key, Ed25519 signature of the
//! sender over the whole frame.
//!
//! ```text
//! padded   = u16 BE tag || text || zeros, to 256, 1024, 4096 or 16384 bytes
//!            (tag = text length 0..=16382, or 0xFFFF for a typing signal: no
//!            text, 256 bytes, so a relay cannot tell it from a short text;
//!            0xFFFE for a file offer, 0xFFFD for a cancellation: see `file`)
//! AAD      = room id || header (version, type, sender, chain id, index, ciphertext length)
//! frame    = header || ChaCha20-Poly1305(key, nonce, padded, AAD) || signature
//! signature = Ed25519(sender, "vroom/v2/sig/message" || room id || header || ciphertext)
//! ```

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use zeroize::Zeroizing;

use crate::chain::MessageKey;
use crate::error::{Error, RejectReason};
use crate::file::{FileId, FileOffer};
use crate::labels;
use crate::member::{MemberKeys, PeerKeys, Verification};
use crate::schedule::RoomId;
use crate::wire::{
    BUCKETS, MESSAGE_HEADER_LEN, MemberId, MessageFrame, Reader, SIGNATURE_LEN, TYPE_MESSAGE,
    VERSION,
};

/// Longest message text in UTF-8 bytes (largest bucket minus the length field).
pub const MAX_TEXT_LEN: usize = 16384 - 2;

/// The tag of a typing signal in place of a text length.
pub const TYPING_TAG: u16 = 0xFFFF;
/// The tag of a file offer (§7.2): the offer body follows.
pub const OFFER_TAG: u16 = 0xFFFE;
/// The tag of a file's cancellation by its sender: the file id follows.
pub const CANCEL_TAG: u16 = 0xFFFD;

/// What a decrypted message frame carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A text message.
    Text(String),
    /// "This member is typing": no text; the receiver shows it for a few
    /// seconds, or until a text from the same member arrives.
    Typing,
    /// A file offered to everyone holding the sender's chain.
    FileOffer(Box<FileOffer>),
    /// The sender stopped sending this file.
    FileCancel(FileId),
}

/// Pads any content to the smallest bucket that holds it.
pub fn pad_content(content: &Content) -> Result<Zeroizing<Vec<u8>>, Error> {
    let (tag, body) = match content {
        Content::Text(text) => return pad(text),
        Content::Typing => return Ok(pad_typing()),
        Content::FileOffer(offer) => {
            let mut body = Vec::with_capacity(offer.body_len());
            offer.encode_body(&mut body);
            (OFFER_TAG, Zeroizing::new(body))
        }
        Content::FileCancel(id) => (CANCEL_TAG, Zeroizing::new(id.0.to_vec())),
    };
    let bucket = BUCKETS
        .iter()
        .copied()
        .find(|b| body.len() + 2 <= *b)
        .ok_or(Error::MessageTooLong { max: MAX_TEXT_LEN })?;
    let mut out = Zeroizing::new(Vec::with_capacity(bucket));
    out.extend_from_slice(&tag.to_be_bytes());
    out.extend_from_slice(&body);
    out.resize(bucket, 0);
    Ok(out)
}

/// The padded body of a typing signal: the tag, then zeros to the smallest bucket.
pub fn pad_typing() -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0; BUCKETS[0]]);
    out[..2].copy_from_slice(&TYPING_TAG.to_be_bytes());
    out
}

/// Pads text to the smallest bucket that holds it.
pub fn pad(text: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let len = text.len();
    let bucket = BUCKETS
        .iter()
        .copied()
        .find(|b| len + 2 <= *b)
        .ok_or(Error::MessageTooLong { max: MAX_TEXT_LEN })?;
    let len16 = u16::try_from(len).map_err(|_| Error::MessageTooLong { max: MAX_TEXT_LEN })?;
    let mut out = Zeroizing::new(Vec::with_capacity(bucket));
    out.extend_from_slice(&len16.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.resize(bucket, 0);
    Ok(out)
}

/// Removes the padding: the tag is a length that fits or [`TYPING_TAG`] in
/// the smallest bucket, the padding zeros, a text UTF-8; or an offer or
/// cancellation in the smallest bucket that holds it.
pub fn unpad(padded: &[u8]) -> Result<Content, RejectReason> {
    if !BUCKETS.contains(&padded.len()) {
        return Err(RejectReason::BadPadding);
    }
    let mut r = Reader::new(padded);
    let tag = r.u16().map_err(|_| RejectReason::BadPadding)?;
    if tag == OFFER_TAG || tag == CANCEL_TAG {
        return unpad_file(tag, r.rest(), padded.len());
    }
    let typing = tag == TYPING_TAG;
    let len = if typing { 0 } else { usize::from(tag) };
    let text = r.bytes(len).map_err(|_| RejectReason::BadPadding)?;
    if r.rest().iter().any(|&b| b != 0) || (typing && padded.len() != BUCKETS[0]) {
        return Err(RejectReason::BadPadding);
    }
    if typing {
        return Ok(Content::Typing);
    }
    core::str::from_utf8(text)
        .map(|t| Content::Text(t.to_owned()))
        .map_err(|_| RejectReason::BadPadding)
}

/// An offer or cancellation after its tag: the body, zeros, and the
/// smallest bucket that holds them.
fn unpad_file(tag: u16, rest: &[u8], bucket: usize) -> Result<Content, RejectReason> {
    let (content, padding, used) = if tag == OFFER_TAG {
        let (offer, padding) = FileOffer::decode_body(rest)?;
        let used = 2 + offer.body_len();
        (Content::FileOffer(Box::new(offer)), padding, used)
    } else {
        let mut r = Reader::new(rest);
        let id = r
            .array::<{ crate::wire::FILE_ID_LEN }>()
            .map_err(|_| RejectReason::BadPadding)?;
        (Content::FileCancel(FileId(*id)), r.rest(), 2 + id.len())
    };
    if padding.iter().any(|&b| b != 0) || BUCKETS.iter().find(|b| used <= **b) != Some(&bucket) {
        return Err(RejectReason::BadPadding);
    }
    Ok(content)
}

fn aad(room_id: &RoomId, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + MESSAGE_HEADER_LEN);
    aad.extend_from_slice(room_id.as_bytes());
    aad.extend_from_slice(header);
    aad
}

/// Builds a message frame carrying `text` from member `sender_id` under
/// chain `chain_id` at `index`.
pub fn seal_message(
    room_id: &RoomId,
    sender_id: MemberId,
    sender: &MemberKeys,
    chain_id: u32,
    index: u32,
    key: &MessageKey,
    text: &str,
) -> Result<Vec<u8>, Error> {
    let padded = pad(text)?;
    seal_padded(room_id, sender_id, sender, chain_id, index, key, &padded)
}

/// Builds a message frame carrying any [`Content`] ([`pad_content`]).
pub fn seal_content(
    room_id: &RoomId,
    sender_id: MemberId,
    sender: &MemberKeys,
    chain_id: u32,
    index: u32,
    key: &MessageKey,
    content: &Content,
) -> Result<Vec<u8>, Error> {
    let padded = pad_content(content)?;
    seal_padded(room_id, sender_id, sender, chain_id, index, key, &padded)
}

/// Builds a message frame carrying a typing signal ([`pad_typing`]): the
/// same layout and size as a short text.
pub fn seal_typing(
    room_id: &RoomId,
    sender_id: MemberId,
    sender: &MemberKeys,
    chain_id: u32,
    index: u32,
    key: &MessageKey,
) -> Result<Vec<u8>, Error> {
    seal_padded(
        room_id,
        sender_id,
        sender,
        chain_id,
        index,
        key,
        &pad_typing(),
    )
}

fn seal_padded(
    room_id: &RoomId,
    sender_id: MemberId,
    sender: &MemberKeys,
    chain_id: u32,
    index: u32,
    key: &MessageKey,
    padded: &[u8],
) -> Result<Vec<u8>, Error> {
    let ct_len = u32::try_from(padded.len() + 16)
        .map_err(|_| Error::MessageTooLong { max: MAX_TEXT_LEN })?;
    let mut frame = Vec::with_capacity(MESSAGE_HEADER_LEN + padded.len() + 16 + SIGNATURE_LEN);
    frame.extend_from_slice(&[VERSION, TYPE_MESSAGE]);
    frame.extend_from_slice(&sender_id.0.to_be_bytes());
    frame.extend_from_slice(&chain_id.to_be_bytes());
    frame.extend_from_slice(&index.to_be_bytes());
    frame.extend_from_slice(&ct_len.to_be_bytes());
    let cipher = ChaCha20Poly1305::new(key.key().into());
    let ciphertext = cipher
        .encrypt(
            key.nonce().into(),
            Payload {
                msg: padded,
                aad: &aad(room_id, &frame),
            },
        )
        .map_err(|_| Error::MessageTooLong { max: MAX_TEXT_LEN })?;
    frame.extend_from_slice(&ciphertext);
    let signature = sender.sign(labels::SIG_MESSAGE, room_id, &frame);
    frame.extend_from_slice(&signature.to_bytes());
    Ok(frame)
}

/// Verifies the sender's signature over a decoded frame (RFC 8032
/// cofactorless verification; a small-order sender key was already refused
/// when its announcement was verified).
pub fn verify_message(
    room_id: &RoomId,
    frame: &MessageFrame<'_>,
    sender: &PeerKeys,
) -> Result<(), RejectReason> {
    sender.verify(
        Verification::Standard,
        labels::SIG_MESSAGE,
        room_id,
        frame.signed,
        frame.signature,
    )
}

/// Decrypts a decoded frame with its message key; `None` if the AEAD tag is wrong.
/// The padded plaintext is returned zeroizing; see [`unpad`].
pub fn decrypt_message(
    room_id: &RoomId,
    frame: &MessageFrame<'_>,
    key: &MessageKey,
) -> Option<Zeroizing<Vec<u8>>> {
    let cipher = ChaCha20Poly1305::new(key.key().into());
    cipher
        .decrypt(
            key.nonce().into(),
            Payload {
                msg: frame.ciphertext,
                aad: &aad(room_id, frame.header),
            },
        )
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn padding_buckets() {
        assert_eq!(pad("").unwrap().len(), 256);
        assert_eq!(pad(&"a".repeat(254)).unwrap().len(), 256);
        assert_eq!(pad(&"a".repeat(255)).unwrap().len(), 1024);
        assert_eq!(pad(&"a".repeat(MAX_TEXT_LEN)).unwrap().len(), 16384);
        assert_eq!(
            pad(&"a".repeat(MAX_TEXT_LEN + 1)).map(|_| ()),
            Err(Error::MessageTooLong { max: MAX_TEXT_LEN })
        );
        for t in ["", "héllo", &"x".repeat(3000)] {
            assert_eq!(
                unpad(&pad(t).unwrap()).unwrap(),
                Content::Text(t.to_owned())
            );
        }
        assert_eq!(pad_typing().len(), 256);
        assert_eq!(unpad(&pad_typing()), Ok(Content::Typing));
    }

    #[test]
    fn typing_signals_are_exact() {
        // Only in the smallest bucket, and only zeros after the tag.
        let mut big = vec![0u8; 1024];
        big[..2].copy_from_slice(&TYPING_TAG.to_be_bytes());
        assert_eq!(unpad(&big), Err(RejectReason::BadPadding));
        let mut trailing = pad_typing().to_vec();
        trailing[2] = b'x';
        assert_eq!(unpad(&trailing), Err(RejectReason::BadPadding));
        // Other tags beyond the longest text stay refused.
        let mut other = vec![0u8; 16384];
        other[..2].copy_from_slice(&0xFFFCu16.to_be_bytes());
        assert_eq!(unpad(&other), Err(RejectReason::BadPadding));
        // An offer of zeros is no offer (an empty name and type).
        other[..2].copy_from_slice(&OFFER_TAG.to_be_bytes());
        assert_eq!(unpad(&other), Err(RejectReason::BadOffer));
    }

    #[test]
    fn unpad_rejects() {
        let mut p = pad("hi").unwrap().to_vec();
        p[100] = 1;
        assert_eq!(unpad(&p), Err(RejectReason::BadPadding));
        let mut p = pad("hi").unwrap().to_vec();
        p[0..2].copy_from_slice(&300u16.to_be_bytes());
        assert_eq!(unpad(&p), Err(RejectReason::BadPadding));
        let mut p = pad("hi").unwrap().to_vec();
        p[2] = 0xff;
        assert_eq!(unpad(&p), Err(RejectReason::BadPadding));
        assert_eq!(unpad(&[0; 255]), Err(RejectReason::BadPadding));
    }

    #[test]
    fn file_contents_round_trip_in_their_smallest_bucket() {
        let offer = FileOffer {
            file_id: FileId([4; 16]),
            key: crate::file::FileKey::from_bytes([5; 32]),
            sha256: [6; 32],
            size: 123_456,
            chunk_size: crate::file::CHUNK_SIZE,
            mime: "image/png".into(),
            name: "cat.png".into(),
        };
        let offer = Content::FileOffer(Box::new(offer));
        let padded = pad_content(&offer).unwrap();
        assert_eq!(padded.len(), 256);
        assert_eq!(unpad(&padded), Ok(offer.clone()));
        let cancel = Content::FileCancel(FileId([7; 16]));
        let padded = pad_content(&cancel).unwrap();
        assert_eq!((padded.len(), unpad(&padded)), (256, Ok(cancel)));
        // The same offer in a larger bucket is refused: one encoding.
        let mut big = pad_content(&offer).unwrap().to_vec();
        big.resize(1024, 0);
        assert_eq!(unpad(&big), Err(RejectReason::BadPadding));
        let mut trailing = pad_content(&offer).unwrap().to_vec();
        trailing[255] = 1;
        assert_eq!(unpad(&trailing), Err(RejectReason::BadPadding));
        let long = Content::FileOffer(Box::new(FileOffer {
            file_id: FileId([4; 16]),
            key: crate::file::FileKey::from_bytes([5; 32]),
            sha256: [6; 32],
            size: 1,
            chunk_size: 252,
            mime: format!("application/{}", "x".repeat(100)),
            name: "n".repeat(255),
        }));
        let padded = pad_content(&long).unwrap();
        assert_eq!(padded.len(), 1024);
        assert_eq!(unpad(&padded), Ok(long));
    }
}
