//! Files (`docs/PROTOCOL.md` §7.2, §7.3): an offer travels inside an
//! ordinary signed message (so only members holding the sender's chain learn
//! of it, and the server sees a message); the file's bytes follow as chunks,
//! each sealed with ChaCha20-Poly1305 under the offer's random per-file key.
//!
//! ```text
//! offer body = file_id (16) || file_key (32) || SHA-256 of the file (32) || u64 size
//!              || u32 chunk_size || u8 n || MIME type (n) || u8 m || name (m)
//! chunk body = u32 data_len || data || zeros, to 256, 1024, 4096 or 16384 bytes
//! header     = 0x02 || 0x04 || u32 sender || file_id || u32 index || u8 flags || u32 L
//! nonce      = 0^7 || flags || u32 index
//! chunk      = header || ChaCha20-Poly1305(file_key, nonce, chunk body, AAD = room_id || header)
//! ```
//!
//! A receiver takes chunks strictly in order (index 0, 1, …), each but the
//! last exactly `chunk_size` bytes of data, the last one flagged and holding
//! the rest; then the SHA-256 of everything must be the offer's. Reordering,
//! dropping, truncating, extending or splicing chunks across files (another
//! key, another file id in the AAD) is detected: [`FileError`].

use core::fmt;
use std::collections::BTreeSet;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding;
use crate::error::{Error, RejectReason};
use crate::member::is_invisible;
use crate::schedule::RoomId;
use crate::wire::{
    BUCKETS, CHUNK_FINAL, CHUNK_HEADER_LEN, ChunkFrame, FILE_ID_LEN, MemberId, Reader, TYPE_CHUNK,
    VERSION,
};

/// Chunk sizes an offer may name: a padding bucket minus the 4-byte length
/// field, so every chunk but the last fills its bucket exactly.
pub const CHUNK_SIZES: [u32; 4] = [252, 1020, 4092, 16380];
/// The chunk size [`crate::Session::offer_file`] uses (the largest).
pub const CHUNK_SIZE: u32 = 16380;
/// Largest file the protocol describes (1 TiB); rooms allow far less (the
/// relay's per-room file-byte limit, 100 MiB by default).
pub const MAX_FILE_SIZE: u64 = 1 << 40;
/// Longest MIME type in bytes.
pub const MAX_MIME_LEN: usize = 127;
/// Longest file name in UTF-8 bytes.
pub const MAX_FILE_NAME_LEN: usize = 255;
/// Length of the fixed fields of an offer body (before the MIME type).
const OFFER_FIXED_LEN: usize = FILE_ID_LEN + 32 + 32 + 8 + 4;

/// Why an incoming file was refused or stopped. The file is dropped; later
/// chunks of it are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The offer is larger than the limit the page accepts.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A chunk arrived out of order, or one went missing (the relay skips
    /// chunks for a receiver that reads too slowly).
    #[error("chunk {got} arrived where chunk {expected} was due")]
    OutOfOrder {
        /// The index due.
        expected: u32,
        /// The index received.
        got: u32,
    },
    /// A chunk does not decrypt under the file's key: altered, or from
    /// another file.
    #[error("a chunk was altered or belongs to another file")]
    Tampered,
    /// The last chunk came before all of the offered bytes.
    #[error("the file ended before all of its bytes arrived")]
    Truncated,
    /// The chunks carry more bytes than offered.
    #[error("the file carries more bytes than were offered")]
    Overlong,
    /// An authentic chunk with an invalid length field or padding.
    #[error("a chunk's length or padding is invalid")]
    BadChunk,
    /// Every chunk was authentic, but the file's SHA-256 is not the
    /// offer's (a member holding the file key forged chunks).
    #[error("the file does not match the hash in its offer")]
    HashMismatch,
    /// The sender cancelled the file (or stopped it because a member left).
    #[error("the sender cancelled the file")]
    Cancelled,
    /// The sender left the room.
    #[error("the sender left")]
    SenderLeft,
    /// More files at once than a session receives ([`crate::session::MAX_DOWNLOADS`]).
    #[error("too many files at once")]
    TooMany,
    /// No such offer from this member (never made, cancelled, or already
    /// accepted or declined).
    #[error("no such offer")]
    UnknownFile,
}

/// A file's id: 16 random bytes drawn by its sender. Not secret (it is in
/// every chunk header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub [u8; FILE_ID_LEN]);

impl FileId {
    /// Base64url without padding (22 characters), e.g. as a DOM key.
    pub fn to_base64url(&self) -> String {
        encoding::encode(&self.0)
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64url())
    }
}

/// A file's random ChaCha20-Poly1305 key. Zeroized on drop; not printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FileKey([u8; 32]);

impl FileKey {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes (secret).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(..)")
    }
}

impl PartialEq for FileKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for FileKey {}

/// What the sender says about a file to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta<'a> {
    /// The file's name (1 to 255 bytes, nothing invisible; the receiving
    /// page still sanitises it before offering a download).
    pub name: &'a str,
    /// Its MIME type as the sender's browser reports it (`type/subtype`,
    /// printable ASCII, at most 127 bytes; `application/octet-stream` when
    /// unknown). Receivers never trust it for rendering.
    pub mime: &'a str,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes ([`FileHasher`]).
    pub sha256: [u8; 32],
}

/// An offer as it travels inside a message: everything a receiver needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// The file's id.
    pub file_id: FileId,
    /// The key its chunks are sealed with.
    pub key: FileKey,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
    /// Size in bytes.
    pub size: u64,
    /// Bytes per chunk (one of [`CHUNK_SIZES`]); the last chunk holds the rest.
    pub chunk_size: u32,
    /// MIME type as the sender declared it.
    pub mime: String,
    /// File name as the sender declared it.
    pub name: String,
}

/// Whether `name` may name a file: 1 to 255 bytes, no control, line break,
/// format or other invisible character (the display-name table, §4.3: no
/// right-to-left override can disguise an extension).
pub fn valid_file_name(name: &str) -> bool {
    (1..=MAX_FILE_NAME_LEN).contains(&name.len()) && !name.chars().any(is_invisible)
}

/// Whether `mime` is a MIME type as offers carry it: `type/subtype`, one
/// `/`, neither part empty, printable ASCII without spaces, at most 127 bytes.
pub fn valid_mime(mime: &str) -> bool {
    let printable = mime.bytes().all(|b| (0x21..=0x7E).contains(&b));
    let mut parts = mime.split('/');
    let shape = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty()
    );
    printable && shape && mime.len() <= MAX_MIME_LEN
}

/// Number of chunks of a file of `size` bytes (at least one: an empty file
/// is one empty last chunk); `None` if that does not fit a `u32` index.
pub fn chunk_count(size: u64, chunk_size: u32) -> Option<u32> {
    let n = size.div_ceil(u64::from(chunk_size)).max(1);
    u32::try_from(n).ok()
}

impl FileOffer {
    /// Checks the metadata a sender gives and draws the file id and key.
    pub fn new<R: CryptoRng + ?Sized>(meta: &FileMeta<'_>, rng: &mut R) -> Result<Self, Error> {
        if !valid_file_name(meta.name) {
            return Err(Error::FileName);
        }
        if !valid_mime(meta.mime) {
            return Err(Error::FileType);
        }
        if meta.size > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge { max: MAX_FILE_SIZE });
        }
        let mut file_id = [0u8; FILE_ID_LEN];
        rng.fill_bytes(&mut file_id);
        let mut key = FileKey([0; 32]);
        rng.fill_bytes(&mut key.0);
        Ok(Self {
            file_id: FileId(file_id),
            key,
            sha256: meta.sha256,
            size: meta.size,
            chunk_size: CHUNK_SIZE,
            mime: meta.mime.to_owned(),
            name: meta.name.to_owned(),
        })
    }

    /// Appends the offer body (after the message's tag) to `out`.
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.file_id.0);
        out.extend_from_slice(&self.key.0);
        out.extend_from_slice(&self.sha256);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        // Both lengths are bounded by `valid_mime` / `valid_file_name`.
        out.push(self.mime.len() as u8);
        out.extend_from_slice(self.mime.as_bytes());
        out.push(self.name.len() as u8);
        out.extend_from_slice(self.name.as_bytes());
    }

    /// Length of the encoded body.
    pub(crate) fn body_len(&self) -> usize {
        OFFER_FIXED_LEN + 1 + self.mime.len() + 1 + self.name.len()
    }

    /// Parses an offer body; returns it and the bytes after it (the
    /// message's padding). Any invalid field is [`RejectReason::BadOffer`].
    pub(crate) fn decode_body(bytes: &[u8]) -> Result<(Self, &[u8]), RejectReason> {
        let bad = |_| RejectReason::BadOffer;
        let mut r = Reader::new(bytes);
        let file_id = FileId(*r.array::<FILE_ID_LEN>().map_err(bad)?);
        let key = FileKey(*r.array::<32>().map_err(bad)?);
        let sha256 = *r.array::<32>().map_err(bad)?;
        let size = u64::from_be_bytes(*r.array::<8>().map_err(bad)?);
        let chunk_size = r.u32().map_err(bad)?;
        let [mime_len] = *r.array::<1>().map_err(bad)?;
        let mime = r.bytes(usize::from(mime_len)).map_err(bad)?;
        let [name_len] = *r.array::<1>().map_err(bad)?;
        let name = r.bytes(usize::from(name_len)).map_err(bad)?;
        let mime = core::str::from_utf8(mime).map_err(|_| RejectReason::BadOffer)?;
        let name = core::str::from_utf8(name).map_err(|_| RejectReason::BadOffer)?;
        if !valid_mime(mime)
            || !valid_file_name(name)
            || size > MAX_FILE_SIZE
            || !CHUNK_SIZES.contains(&chunk_size)
            || chunk_count(size, chunk_size).is_none()
        {
            return Err(RejectReason::BadOffer);
        }
        let offer = Self {
            file_id,
            key,
            sha256,
            size,
            chunk_size,
            mime: mime.to_owned(),
            name: name.to_owned(),
        };
        Ok((offer, r.rest()))
    }
}

/// Incremental SHA-256 of a file, for [`FileMeta::sha256`] (the page feeds
/// it the file's slices before offering it).
#[derive(Debug, Clone, Default)]
pub struct FileHasher(Sha256);

impl FileHasher {
    /// An empty hash state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The SHA-256 of everything added.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

fn nonce(index: u32, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[7] = if last { CHUNK_FINAL } else { 0 };
    nonce[8..].copy_from_slice(&index.to_be_bytes());
    nonce
}

fn aad(room_id: &RoomId, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + CHUNK_HEADER_LEN);
    aad.extend_from_slice(room_id.as_bytes());
    aad.extend_from_slice(header);
    aad
}

/// Seals one chunk (`data` at most 16380 bytes; the caller, [`OutgoingFile`],
/// enforces the chunk sizes).
fn seal_chunk(
    room_id: &RoomId,
    sender: MemberId,
    file_id: &FileId,
    key: &FileKey,
    index: u32,
    last: bool,
    data: &[u8],
) -> Vec<u8> {
    let need = data.len() + 4;
    let bucket = BUCKETS
        .iter()
        .copied()
        .find(|b| need <= *b)
        .unwrap_or(BUCKETS[BUCKETS.len() - 1]);
    let mut padded = Zeroizing::new(Vec::with_capacity(bucket));
    padded.extend_from_slice(&(data.len() as u32).to_be_bytes());
    padded.extend_from_slice(data);
    padded.resize(bucket, 0);
    let mut frame = Vec::with_capacity(CHUNK_HEADER_LEN + bucket + 16);
    frame.extend_from_slice(&[VERSION, TYPE_CHUNK]);
    frame.extend_from_slice(&sender.0.to_be_bytes());
    frame.extend_from_slice(&file_id.0);
    frame.extend_from_slice(&index.to_be_bytes());
    frame.push(if last { CHUNK_FINAL } else { 0 });
    frame.extend_from_slice(&((bucket + 16) as u32).to_be_bytes());
    let cipher = ChaCha20Poly1305::new(key.as_bytes().into());
    let ciphertext = cipher
        .encrypt(
            (&nonce(index, last)).into(),
            Payload {
                msg: &padded,
                aad: &aad(room_id, &frame),
            },
        )
        .unwrap_or_default();
    frame.extend_from_slice(&ciphertext);
    frame
}

/// Decrypts a decoded chunk and removes its padding: the chunk's data.
fn open_chunk(
    room_id: &RoomId,
    frame: &ChunkFrame<'_>,
    key: &FileKey,
) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let cipher = ChaCha20Poly1305::new(key.as_bytes().into());
    let padded = cipher
        .decrypt(
            (&nonce(frame.index, frame.last)).into(),
            Payload {
                msg: frame.ciphertext,
                aad: &aad(room_id, frame.header),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| FileError::Tampered)?;
    let mut r = Reader::new(&padded);
    let len = r.u32().map_err(|_| FileError::BadChunk)?;
    let data = usize::try_from(len)
        .ok()
        .and_then(|len| r.bytes(len).ok())
        .ok_or(FileError::BadChunk)?;
    // Zeros after the data, in the smallest bucket that holds it: one
    // encoding per chunk.
    if r.rest().iter().any(|&b| b != 0)
        || BUCKETS.iter().find(|b| data.len() + 4 <= **b) != Some(&padded.len())
    {
        return Err(FileError::BadChunk);
    }
    Ok(Zeroizing::new(data.to_vec()))
}

/// A file being sent: its key and how far it got.
pub struct OutgoingFile {
    file_id: FileId,
    key: FileKey,
    size: u64,
    chunk_size: u32,
    chunks: u32,
    next: u32,
    /// Members holding our chain when the offer went out: they hold the key.
    recipients: BTreeSet<MemberId>,
}

impl fmt::Debug for OutgoingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingFile")
            .field("file_id", &self.file_id)
            .field("next", &self.next)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl OutgoingFile {
    /// The sending state for `offer`, which went to `recipients`.
    pub fn new(offer: &FileOffer, recipients: BTreeSet<MemberId>) -> Self {
        Self {
            file_id: offer.file_id,
            key: offer.key.clone(),
            size: offer.size,
            chunk_size: offer.chunk_size,
            chunks: chunk_count(offer.size, offer.chunk_size).unwrap_or(u32::MAX),
            next: 0,
            recipients,
        }
    }

    /// The file's id.
    pub fn file_id(&self) -> FileId {
        self.file_id
    }

    /// Whether `member` received the offer (and so holds the key).
    pub fn offered_to(&self, member: MemberId) -> bool {
        self.recipients.contains(&member)
    }

    /// Whether the last chunk went out.
    pub fn is_done(&self) -> bool {
        self.next >= self.chunks
    }

    /// Bytes the next chunk must hold (0 once done).
    pub fn next_len(&self) -> usize {
        if self.is_done() {
            return 0;
        }
        let before = u64::from(self.next) * u64::from(self.chunk_size);
        (self.size - before).min(u64::from(self.chunk_size)) as usize
    }

    /// Seals the next chunk: `data` must be exactly [`OutgoingFile::next_len`]
    /// bytes. Returns the chunk payload for the relay's chunk frame.
    pub fn next_chunk(
        &mut self,
        room_id: &RoomId,
        sender: MemberId,
        data: &[u8],
    ) -> Result<Vec<u8>, Error> {
        if self.is_done() {
            return Err(Error::UnknownFile);
        }
        let expected = self.next_len();
        if data.len() != expected {
            return Err(Error::ChunkLength { expected });
        }
        let last = self.next + 1 == self.chunks;
        let chunk = seal_chunk(
            room_id,
            sender,
            &self.file_id,
            &self.key,
            self.next,
            last,
            data,
        );
        self.next += 1;
        Ok(chunk)
    }
}

/// What one chunk gave: its data, and whether the file is now complete and
/// its hash verified.
#[derive(Debug)]
pub struct Fed {
    /// The chunk's bytes (not to be shown before the file is complete).
    pub data: Zeroizing<Vec<u8>>,
    /// The last chunk arrived and the whole file's SHA-256 matched.
    pub complete: bool,
}

/// A file being received from one member: accept its offer, feed its
/// chunks in order, and the last one verifies the whole file's hash.
pub struct IncomingFile {
    sender: MemberId,
    file_id: FileId,
    key: FileKey,
    sha256: [u8; 32],
    size: u64,
    chunk_size: u32,
    chunks: u32,
    next: u32,
    hasher: Sha256,
}

impl fmt::Debug for IncomingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingFile")
            .field("sender", &self.sender)
            .field("file_id", &self.file_id)
            .field("next", &self.next)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl IncomingFile {
    /// Accepts `offer` from `sender` if it is at most `limit` bytes.
    pub fn accept(sender: MemberId, offer: &FileOffer, limit: u64) -> Result<Self, FileError> {
        if offer.size > limit {
            return Err(FileError::TooLarge { limit });
        }
        Ok(Self {
            sender,
            file_id: offer.file_id,
            key: offer.key.clone(),
            sha256: offer.sha256,
            size: offer.size,
            chunk_size: offer.chunk_size,
            chunks: chunk_count(offer.size, offer.chunk_size)
                .ok_or(FileError::TooLarge { limit })?,
            next: 0,
            hasher: Sha256::new(),
        })
    }

    /// The file's id.
    pub fn file_id(&self) -> FileId {
        self.file_id
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        (u64::from(self.next) * u64::from(self.chunk_size)).min(self.size)
    }

    /// Takes the next chunk (already decoded; its sender and file id are the
    /// caller's to match). Any error ends the file.
    pub fn feed(&mut self, room_id: &RoomId, frame: &ChunkFrame<'_>) -> Result<Fed, FileError> {
        if frame.sender != self.sender || frame.file_id != &self.file_id.0 {
            return Err(FileError::Tampered);
        }
        if frame.index != self.next {
            return Err(FileError::OutOfOrder {
                expected: self.next,
                got: frame.index,
            });
        }
        let data = open_chunk(room_id, frame, &self.key)?;
        let is_last_index = self.next + 1 == self.chunks;
        let before = u64::from(self.next) * u64::from(self.chunk_size);
        let expected = (self.size - before).min(u64::from(self.chunk_size)) as usize;
        match (frame.last, is_last_index) {
            (true, false) => return Err(FileError::Truncated),
            (false, true) => return Err(FileError::Overlong),
            _ => {}
        }
        if data.len() < expected {
            return Err(FileError::Truncated);
        }
        if data.len() > expected {
            return Err(FileError::Overlong);
        }
        self.hasher.update(&data);
        self.next += 1;
        let complete = frame.last;
        if complete {
            let digest: [u8; 32] = self.hasher.clone().finalize().into();
            if !bool::from(digest.ct_eq(&self.sha256)) {
                return Err(FileError::HashMismatch);
            }
        }
        Ok(Fed { data, complete })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::RoomSecret;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn room() -> RoomId {
        RoomSecret::from_bytes([5; 32]).derive_keys().room_id()
    }

    fn offer(data: &[u8]) -> FileOffer {
        let mut h = FileHasher::new();
        h.update(data);
        FileOffer {
            file_id: FileId([1; 16]),
            key: FileKey([2; 32]),
            sha256: h.finish(),
            size: data.len() as u64,
            chunk_size: 252,
            mime: "text/plain".into(),
            name: "notes.txt".into(),
        }
    }

    fn chunks(offer: &FileOffer, data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = OutgoingFile::new(offer, BTreeSet::new());
        let mut rest = data;
        let mut frames = Vec::new();
        while !out.is_done() {
            let (head, tail) = rest.split_at(out.next_len());
            frames.push(out.next_chunk(&room(), MemberId(3), head).unwrap());
            rest = tail;
        }
        frames
    }

    fn receive(offer: &FileOffer, frames: &[Vec<u8>]) -> Result<Vec<u8>, FileError> {
        let mut inc = IncomingFile::accept(MemberId(3), offer, u64::MAX)?;
        let mut got = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let frame = ChunkFrame::decode(f).unwrap();
            let fed = inc.feed(&room(), &frame)?;
            got.extend_from_slice(&fed.data);
            if fed.complete {
                assert_eq!(i + 1, frames.len());
                return Ok(got);
            }
        }
        Err(FileError::Truncated)
    }

    #[test]
    fn round_trips_at_every_boundary() {
        for len in [0usize, 1, 251, 252, 253, 504, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let o = offer(&data);
            let frames = chunks(&o, &data);
            assert_eq!(frames.len(), len.div_ceil(252).max(1));
            assert_eq!(receive(&o, &frames).unwrap(), data, "{len}");
            // Every chunk but the last fills a 256-byte bucket.
            for f in &frames {
                assert_eq!(f.len(), CHUNK_HEADER_LEN + 256 + 16);
            }
        }
    }

    #[test]
    fn reorder_drop_truncate_splice_and_tamper_are_detected() {
        let data = vec![7u8; 1000];
        let o = offer(&data);
        let frames = chunks(&o, &data);
        assert_eq!(frames.len(), 4);
        let mut swapped = frames.clone();
        swapped.swap(1, 2);
        assert_eq!(
            receive(&o, &swapped),
            Err(FileError::OutOfOrder {
                expected: 1,
                got: 2
            })
        );
        let mut dropped = frames.clone();
        dropped.remove(1);
        assert!(matches!(
            receive(&o, &dropped),
            Err(FileError::OutOfOrder { .. })
        ));
        // The final flag cannot be moved: it is in the nonce and the AAD.
        let mut early_end = frames[..2].to_vec();
        early_end[1][26] = CHUNK_FINAL;
        assert_eq!(receive(&o, &early_end), Err(FileError::Tampered));
        let mut cut = frames.clone();
        cut.pop();
        assert_eq!(receive(&o, &cut), Err(FileError::Truncated));
        let mut flipped = frames.clone();
        flipped[2][40] ^= 1;
        assert_eq!(receive(&o, &flipped), Err(FileError::Tampered));
        // A chunk of another file (other key, other id) at the same index.
        let mut other = offer(&data);
        other.file_id = FileId([9; 16]);
        other.key = FileKey([8; 32]);
        let foreign = chunks(&other, &data);
        let mut spliced = frames.clone();
        spliced[1] = foreign[1].clone();
        assert_eq!(receive(&o, &spliced), Err(FileError::Tampered));
        // Same id, other key (a forged offer reusing the id).
        let mut same_id = other.clone();
        same_id.file_id = o.file_id;
        let mut spliced = frames.clone();
        spliced[1] = chunks(&same_id, &data)[1].clone();
        assert_eq!(receive(&o, &spliced), Err(FileError::Tampered));
    }

    #[test]
    fn hash_and_size_are_enforced() {
        let data = vec![1u8; 300];
        let mut o = offer(&data);
        let frames = chunks(&o, &data);
        o.sha256[0] ^= 1;
        assert_eq!(receive(&o, &frames), Err(FileError::HashMismatch));
        let o = offer(&data);
        assert!(matches!(
            IncomingFile::accept(MemberId(3), &o, 299),
            Err(FileError::TooLarge { limit: 299 })
        ));
        // Chunks of a longer file under an offer of a shorter one.
        let mut short = o.clone();
        short.size = 252;
        assert_eq!(receive(&short, &frames), Err(FileError::Overlong));
        let mut long = o.clone();
        long.size = 400;
        assert_eq!(receive(&long, &frames), Err(FileError::Truncated));
    }

    #[test]
    fn the_sender_enforces_chunk_lengths() {
        let o = offer(&[0; 300]);
        let mut out = OutgoingFile::new(&o, BTreeSet::new());
        assert_eq!(
            out.next_chunk(&room(), MemberId(3), &[0; 10]),
            Err(Error::ChunkLength { expected: 252 })
        );
        out.next_chunk(&room(), MemberId(3), &[0; 252]).unwrap();
        assert_eq!(out.next_len(), 48);
        out.next_chunk(&room(), MemberId(3), &[0; 48]).unwrap();
        assert!(out.is_done());
        assert_eq!(
            out.next_chunk(&room(), MemberId(3), &[]),
            Err(Error::UnknownFile)
        );
    }

    #[test]
    fn offers_round_trip_and_refuse_bad_metadata() {
        let o = offer(b"abc");
        let mut body = Vec::new();
        o.encode_body(&mut body);
        assert_eq!(body.len(), o.body_len());
        body.extend_from_slice(&[0; 5]);
        let (back, rest) = FileOffer::decode_body(&body).unwrap();
        assert_eq!(back, o);
        assert_eq!(rest, &[0; 5]);
        let encode = |o: &FileOffer| {
            let mut b = Vec::new();
            o.encode_body(&mut b);
            b
        };
        for bad in [
            FileOffer {
                name: "evil\u{202E}txt.exe".into(),
                ..o.clone()
            },
            FileOffer {
                name: "two\nlines".into(),
                ..o.clone()
            },
            FileOffer {
                name: String::new(),
                ..o.clone()
            },
            FileOffer {
                mime: "text".into(),
                ..o.clone()
            },
            FileOffer {
                mime: "text/plain; charset=utf-8".into(),
                ..o.clone()
            },
            FileOffer {
                chunk_size: 1000,
                ..o.clone()
            },
            FileOffer {
                size: MAX_FILE_SIZE + 1,
                ..o.clone()
            },
        ] {
            assert_eq!(
                FileOffer::decode_body(&encode(&bad)).map(|_| ()),
                Err(RejectReason::BadOffer),
                "{bad:?}"
            );
        }
        assert!(FileOffer::decode_body(&encode(&o)[..50]).is_err());
        assert!(valid_mime("image/svg+xml") && !valid_mime("/x") && !valid_mime("a/b/c"));
        assert!(valid_file_name("Résumé (final).pdf"));
        assert!(!valid_file_name(&"a".repeat(256)));
    }
}
