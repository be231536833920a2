//! Byte layouts of the four payloads (see `docs/PROTOCOL.md` §4–§7 and §7.3).
//!
//! Decoding here checks structure only: lengths, version, type and fixed
//! ranges. Cryptographic checks are done by [`crate::member`],
//! [`crate::distribution`] and [`crate::message`]. Every decoder returns an
//! error for any malformed input and never panics.

use core::fmt;

use crate::error::DecodeError;

/// Protocol version byte of every payload.
pub use crate::labels::VERSION;

/// The member id the relay assigned to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub u32);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
/// Payload type: member announcement.
pub const TYPE_ANNOUNCEMENT: u8 = 0x01;
/// Payload type: chain distribution (HPKE, to one member).
pub const TYPE_DISTRIBUTION: u8 = 0x02;
/// Payload type: message.
pub const TYPE_MESSAGE: u8 = 0x03;
/// Payload type: a chunk of a file (sent in the relay's chunk frames, never
/// in its chat frames).
pub const TYPE_CHUNK: u8 = 0x04;

/// Length of an announcement.
pub const ANNOUNCEMENT_LEN: usize = 166;
/// Bytes of an announcement covered by its signature (after the context and room id).
pub const ANNOUNCEMENT_SIGNED_LEN: usize = 70;
/// Bytes of an announcement covered by its MAC (after the room id).
pub const ANNOUNCEMENT_MACED_LEN: usize = 134;

/// Length of a tab id.
pub const TAB_ID_LEN: usize = 16;
/// Length of the plaintext sealed in a chain distribution: chain id, index,
/// chain key, tab id, name field.
pub const GRANT_LEN: usize = 4 + 4 + 32 + TAB_ID_LEN + 65;
/// Length of the HPKE ciphertext of a chain distribution (plaintext + 16-byte tag).
pub const DISTRIBUTION_CT_LEN: usize = GRANT_LEN + 16;
/// Length of the header of a chain distribution (the HPKE AAD).
pub const DISTRIBUTION_HEADER_LEN: usize = 10;
/// Length of a chain distribution.
pub const DISTRIBUTION_LEN: usize = DISTRIBUTION_HEADER_LEN + 32 + DISTRIBUTION_CT_LEN;

/// Length of a message header (the AEAD AAD after the room id).
pub const MESSAGE_HEADER_LEN: usize = 18;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Padded plaintext sizes of messages.
pub const BUCKETS: [usize; 4] = [256, 1024, 4096, 16384];
/// Length of a message of the largest bucket.
pub const MAX_MESSAGE_LEN: usize = MESSAGE_HEADER_LEN + 16384 + 16 + SIGNATURE_LEN;

/// Length of a file id.
pub const FILE_ID_LEN: usize = 16;
/// Length of a chunk header (the AEAD AAD after the room id): version, type,
/// sender, file id, index, flags, ciphertext length.
pub const CHUNK_HEADER_LEN: usize = 2 + 4 + FILE_ID_LEN + 4 + 1 + 4;
/// Flag bit of a chunk: the file's last chunk.
pub const CHUNK_FINAL: u8 = 0x01;
/// Length of a chunk of the largest bucket: the largest chunk payload, and
/// smaller than [`MAX_MESSAGE_LEN`], so chunks fit the relay's frame limit.
pub const MAX_CHUNK_LEN: usize = CHUNK_HEADER_LEN + 16384 + 16;

/// A decoded payload, borrowing the received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// A member announcement.
    Announcement(AnnouncementFrame<'a>),
    /// A chain distribution.
    Distribution(DistributionFrame<'a>),
    /// A message.
    Message(MessageFrame<'a>),
    /// A chunk of a file.
    Chunk(ChunkFrame<'a>),
}

/// Decodes any payload by its version and type bytes.
pub fn decode(bytes: &[u8]) -> Result<Payload<'_>, DecodeError> {
    match header(bytes)? {
        TYPE_ANNOUNCEMENT => AnnouncementFrame::decode(bytes).map(Payload::Announcement),
        TYPE_DISTRIBUTION => DistributionFrame::decode(bytes).map(Payload::Distribution),
        TYPE_MESSAGE => MessageFrame::decode(bytes).map(Payload::Message),
        TYPE_CHUNK => ChunkFrame::decode(bytes).map(Payload::Chunk),
        other => Err(DecodeError::Type(other)),
    }
}

/// Checks the version byte and returns the type byte.
fn header(bytes: &[u8]) -> Result<u8, DecodeError> {
    match bytes {
        [VERSION, kind, ..] => Ok(*kind),
        [version, _, ..] if *version < VERSION => Err(DecodeError::TooOld(*version)),
        [version, _, ..] => Err(DecodeError::TooNew(*version)),
        _ => Err(DecodeError::Truncated),
    }
}

fn expect_type(bytes: &[u8], kind: u8) -> Result<(), DecodeError> {
    let got = header(bytes)?;
    if got == kind {
        Ok(())
    } else {
        Err(DecodeError::Type(got))
    }
}

/// A cursor over a byte slice that hands out fixed-size pieces.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<&'a [u8; N], DecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array::<2>().map(|b| u16::from_be_bytes(*b))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array::<4>().map(|b| u32::from_be_bytes(*b))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn rest(self) -> &'a [u8] {
        self.0
    }
}

fn exact_len(bytes: &[u8], expected: usize) -> Result<(), DecodeError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(DecodeError::Length {
            expected,
            got: bytes.len(),
        })
    }
}

/// Announcement layout: version, type, member id, HPKE key, Ed25519 key, signature, MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncementFrame<'a> {
    /// The whole payload.
    pub bytes: &'a [u8; ANNOUNCEMENT_LEN],
    /// The member id the sender claims (must equal the relay's).
    pub member: MemberId,
    /// The X25519 public key for HPKE.
    pub hpke_public: &'a [u8; 32],
    /// The Ed25519 verifying key.
    pub signing_public: &'a [u8; 32],
    /// Ed25519 signature.
    pub signature: &'a [u8; SIGNATURE_LEN],
    /// HMAC-SHA256 under the announcement key.
    pub mac: &'a [u8; 32],
}

impl<'a> AnnouncementFrame<'a> {
    /// Decodes the fixed 166-byte layout.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        expect_type(bytes, TYPE_ANNOUNCEMENT)?;
        exact_len(bytes, ANNOUNCEMENT_LEN)?;
        let whole = bytes
            .first_chunk::<ANNOUNCEMENT_LEN>()
            .ok_or(DecodeError::Truncated)?;
        let mut r = Reader::new(bytes);
        r.array::<2>()?;
        Ok(Self {
            bytes: whole,
            member: MemberId(r.u32()?),
            hpke_public: r.array()?,
            signing_public: r.array()?,
            signature: r.array()?,
            mac: r.array()?,
        })
    }
}

/// Chain distribution layout: version, type, sender, recipient, HPKE enc, HPKE ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistributionFrame<'a> {
    /// The header (the HPKE AAD): version, type, sender, recipient.
    pub header: &'a [u8; DISTRIBUTION_HEADER_LEN],
    /// Sender member id.
    pub sender: MemberId,
    /// Recipient member id.
    pub recipient: MemberId,
    /// HPKE encapsulated key.
    pub enc: &'a [u8; 32],
    /// HPKE ciphertext of the grant.
    pub ciphertext: &'a [u8; DISTRIBUTION_CT_LEN],
}

impl<'a> DistributionFrame<'a> {
    /// Decodes the fixed 163-byte layout.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        expect_type(bytes, TYPE_DISTRIBUTION)?;
        exact_len(bytes, DISTRIBUTION_LEN)?;
        let header = bytes
            .first_chunk::<DISTRIBUTION_HEADER_LEN>()
            .ok_or(DecodeError::Truncated)?;
        let mut r = Reader::new(bytes);
        r.array::<2>()?;
        Ok(Self {
            header,
            sender: MemberId(r.u32()?),
            recipient: MemberId(r.u32()?),
            enc: r.array()?,
            ciphertext: r.array()?,
        })
    }
}

/// Message layout: version, type, sender, chain id, index, ciphertext length, ciphertext, signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFrame<'a> {
    /// The header (the AEAD AAD after the room id).
    pub header: &'a [u8; MESSAGE_HEADER_LEN],
    /// Sender member id.
    pub sender: MemberId,
    /// The sender's chain id.
    pub chain_id: u32,
    /// The message index in the chain (never `u32::MAX`).
    pub index: u32,
    /// AEAD ciphertext with its tag (a padding bucket plus 16 bytes).
    pub ciphertext: &'a [u8],
    /// Everything the signature covers (after the context and room id).
    pub signed: &'a [u8],
    /// Ed25519 signature of the sender.
    pub signature: &'a [u8; SIGNATURE_LEN],
}

impl<'a> MessageFrame<'a> {
    /// Decodes the layout and checks the ciphertext length is a bucket size plus 16.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        expect_type(bytes, TYPE_MESSAGE)?;
        let header = bytes
            .first_chunk::<MESSAGE_HEADER_LEN>()
            .ok_or(DecodeError::Truncated)?;
        let mut r = Reader::new(bytes);
        r.array::<2>()?;
        let sender = MemberId(r.u32()?);
        let chain_id = r.u32()?;
        let index = r.u32()?;
        let ct_len = r.u32()?;
        if index == u32::MAX {
            return Err(DecodeError::Index);
        }
        let ct_usize =
            usize::try_from(ct_len).map_err(|_| DecodeError::CiphertextLength(ct_len))?;
        if !BUCKETS.iter().any(|b| b + 16 == ct_usize) {
            return Err(DecodeError::CiphertextLength(ct_len));
        }
        exact_len(bytes, MESSAGE_HEADER_LEN + ct_usize + SIGNATURE_LEN)?;
        let ciphertext = r.bytes(ct_usize)?;
        let signature = r.array::<SIGNATURE_LEN>()?;
        let signed = bytes
            .get(..MESSAGE_HEADER_LEN + ct_usize)
            .ok_or(DecodeError::Truncated)?;
        Ok(Self {
            header,
            sender,
            chain_id,
            index,
            ciphertext,
            signed,
            signature,
        })
    }
}

/// Chunk layout: version, type, sender, file id, index, flags, ciphertext
/// length, ciphertext (no signature: the offer that carries the file key and
/// the hash of the whole file is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkFrame<'a> {
    /// The header (the AEAD AAD after the room id).
    pub header: &'a [u8; CHUNK_HEADER_LEN],
    /// Sender member id.
    pub sender: MemberId,
    /// The file this chunk belongs to.
    pub file_id: &'a [u8; FILE_ID_LEN],
    /// The chunk's index in the file (0, 1, …).
    pub index: u32,
    /// Whether this is the file's last chunk.
    pub last: bool,
    /// AEAD ciphertext with its tag (a padding bucket plus 16 bytes).
    pub ciphertext: &'a [u8],
}

impl<'a> ChunkFrame<'a> {
    /// Decodes the layout: flags 0 or [`CHUNK_FINAL`], the ciphertext length
    /// a bucket size plus 16, nothing after the ciphertext.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        expect_type(bytes, TYPE_CHUNK)?;
        let header = bytes
            .first_chunk::<CHUNK_HEADER_LEN>()
            .ok_or(DecodeError::Truncated)?;
        let mut r = Reader::new(bytes);
        r.array::<2>()?;
        let sender = MemberId(r.u32()?);
        let file_id = r.array::<FILE_ID_LEN>()?;
        let index = r.u32()?;
        let [flags] = *r.array::<1>()?;
        let ct_len = r.u32()?;
        if flags & !CHUNK_FINAL != 0 {
            return Err(DecodeError::Flags(flags));
        }
        let ct_usize =
            usize::try_from(ct_len).map_err(|_| DecodeError::CiphertextLength(ct_len))?;
        if !BUCKETS.iter().any(|b| b + 16 == ct_usize) {
            return Err(DecodeError::CiphertextLength(ct_len));
        }
        exact_len(bytes, CHUNK_HEADER_LEN + ct_usize)?;
        Ok(Self {
            header,
            sender,
            file_id,
            index,
            last: flags & CHUNK_FINAL != 0,
            ciphertext: r.rest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn header_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[1]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[1, 1]), Err(DecodeError::TooOld(1)));
        assert_eq!(decode(&[0, 1]), Err(DecodeError::TooOld(0)));
        assert_eq!(decode(&[3, 1]), Err(DecodeError::TooNew(3)));
        assert_eq!(decode(&[2, 9]), Err(DecodeError::Type(9)));
        assert_eq!(
            decode(&[2, 1, 0]),
            Err(DecodeError::Length {
                expected: ANNOUNCEMENT_LEN,
                got: 3
            })
        );
    }

    #[test]
    fn message_lengths() {
        let mut m = vec![2, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5];
        m.extend_from_slice(&272u32.to_be_bytes());
        m.resize(MESSAGE_HEADER_LEN + 272 + 64, 0);
        let f = MessageFrame::decode(&m).unwrap();
        assert_eq!((f.sender, f.chain_id, f.index), (MemberId(1), 0, 5));
        assert_eq!(f.ciphertext.len(), 272);
        assert_eq!(f.signed.len(), MESSAGE_HEADER_LEN + 272);
        let mut long = m.clone();
        long.push(0);
        assert!(matches!(
            MessageFrame::decode(&long),
            Err(DecodeError::Length { .. })
        ));
        let mut odd = m.clone();
        odd[14..18].copy_from_slice(&273u32.to_be_bytes());
        assert_eq!(
            MessageFrame::decode(&odd),
            Err(DecodeError::CiphertextLength(273))
        );
        let mut max = m;
        max[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(MessageFrame::decode(&max), Err(DecodeError::Index));
    }

    #[test]
    fn chunk_lengths() {
        let mut c = vec![2, 4, 0, 0, 0, 9];
        c.extend_from_slice(&[0xAA; FILE_ID_LEN]);
        c.extend_from_slice(&3u32.to_be_bytes());
        c.push(CHUNK_FINAL);
        c.extend_from_slice(&272u32.to_be_bytes());
        c.resize(CHUNK_HEADER_LEN + 272, 0);
        let f = ChunkFrame::decode(&c).unwrap();
        assert_eq!((f.sender, f.index, f.last), (MemberId(9), 3, true));
        assert_eq!(f.file_id, &[0xAA; FILE_ID_LEN]);
        assert_eq!(f.ciphertext.len(), 272);
        assert_eq!(decode(&c), Ok(Payload::Chunk(f)));
        let mut long = c.clone();
        long.push(0);
        assert!(matches!(
            ChunkFrame::decode(&long),
            Err(DecodeError::Length { .. })
        ));
        let mut flags = c.clone();
        flags[26] = 2;
        assert_eq!(ChunkFrame::decode(&flags), Err(DecodeError::Flags(2)));
        let mut odd = c;
        odd[27..31].copy_from_slice(&300u32.to_be_bytes());
        assert_eq!(
            ChunkFrame::decode(&odd),
            Err(DecodeError::CiphertextLength(300))
        );
        const { assert!(MAX_CHUNK_LEN < MAX_MESSAGE_LEN) };
    }
}
