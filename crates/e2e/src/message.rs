//! Message frames: padded text, ChaCha20-Poly1305 under a chain's message
//! key, Ed25519 signature of the sender over the whole frame.
//!
//! ```text
//! padded   = u16 BE text length || text || zeros, to 256, 1024, 4096 or 16384 bytes
//! AAD      = room id || header (version, type, sender, chain id, index, ciphertext length)
//! frame    = header || ChaCha20-Poly1305(key, nonce, padded, AAD) || signature
//! signature = Ed25519(sender, "vroom/v2/sig/message" || room id || header || ciphertext)
//! ```

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use zeroize::Zeroizing;

use crate::chain::MessageKey;
use crate::error::{Error, RejectReason};
use crate::labels;
use crate::member::{MemberKeys, PeerKeys, Verification};
use crate::schedule::RoomId;
use crate::wire::{
    BUCKETS, MESSAGE_HEADER_LEN, MemberId, MessageFrame, Reader, SIGNATURE_LEN, TYPE_MESSAGE,
    VERSION,
};

/// Longest message text in UTF-8 bytes (largest bucket minus the length field).
pub const MAX_TEXT_LEN: usize = 16384 - 2;

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

/// Removes the padding; the length must fit, the padding must be zeros, the text UTF-8.
pub fn unpad(padded: &[u8]) -> Result<String, RejectReason> {
    if !BUCKETS.contains(&padded.len()) {
        return Err(RejectReason::BadPadding);
    }
    let mut r = Reader::new(padded);
    let len = usize::from(r.u16().map_err(|_| RejectReason::BadPadding)?);
    let text = r.bytes(len).map_err(|_| RejectReason::BadPadding)?;
    if r.rest().iter().any(|&b| b != 0) {
        return Err(RejectReason::BadPadding);
    }
    core::str::from_utf8(text)
        .map(str::to_owned)
        .map_err(|_| RejectReason::BadPadding)
}

fn aad(room_id: &RoomId, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + MESSAGE_HEADER_LEN);
    aad.extend_from_slice(room_id.as_bytes());
    aad.extend_from_slice(header);
    aad
}

/// Builds a message frame from member `sender_id` under chain `chain_id` at `index`.
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
                msg: &padded,
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
            assert_eq!(unpad(&pad(t).unwrap()).unwrap(), t);
        }
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
}
