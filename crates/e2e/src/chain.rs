//! Sender-key chains.
//!
//! ```text
//! message key material (44 bytes) = HKDF-Expand(PRK = ck_i, "vroom/v2/chain/message", 44)
//!                                   = key (32) || nonce (12)
//! ck_{i+1}                         = HKDF-Expand(PRK = ck_i, "vroom/v2/chain/next", 32)
//! ```
//!
//! A chain key is used once and then overwritten; message keys are erased
//! after use. Receivers keep at most [`MAX_SKIPPED`] message keys of skipped
//! indices per chain and accept at most [`MAX_SKIP`] indices ahead.

use core::fmt;
use std::collections::BTreeMap;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::RejectReason;
use crate::labels;
use crate::schedule::expand;

/// Most message keys of skipped indices kept per receiving chain.
pub const MAX_SKIPPED: usize = 1000;
/// Most indices a message may be ahead of the next expected one.
pub const MAX_SKIP: u32 = 1000;

/// A chain key (32 bytes). Zeroized on drop; not printed by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ChainKey([u8; 32]);

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh random chain key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Self([0; 32]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// The key bytes (secret).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Derives this index's message key and the next chain key.
    pub fn step(&self) -> (MessageKey, ChainKey) {
        // A 32-byte chain key is a valid HKDF PRK (HashLen bytes).
        let hk = Hkdf::<Sha256>::from_prk(&self.0)
            .unwrap_or_else(|_| unreachable!("a 32-byte PRK is always accepted"));
        let mut material = Zeroizing::new([0u8; 44]);
        expand(&hk, labels::CHAIN_MESSAGE, material.as_mut_slice());
        let mut next = ChainKey([0; 32]);
        expand(&hk, labels::CHAIN_NEXT, &mut next.0);
        let mut mk = MessageKey {
            key: [0; 32],
            nonce: [0; 12],
        };
        mk.key.copy_from_slice(&material[..32]);
        mk.nonce.copy_from_slice(&material[32..]);
        (mk, next)
    }
}

/// A message key and nonce, used for exactly one message. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MessageKey {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageKey(..)")
    }
}

impl MessageKey {
    /// The ChaCha20-Poly1305 key (secret).
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The ChaCha20-Poly1305 nonce.
    pub fn nonce(&self) -> &[u8; 12] {
        &self.nonce
    }
}

/// The local member's sending chain.
#[derive(Debug)]
pub struct SendChain {
    id: u32,
    index: u32,
    key: ChainKey,
}

impl SendChain {
    /// Starts a chain at index 0 with a random key.
    pub fn new<R: CryptoRng + ?Sized>(id: u32, rng: &mut R) -> Self {
        Self {
            id,
            index: 0,
            key: ChainKey::generate(rng),
        }
    }

    /// The chain id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The index of the next message.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The chain key at the next index (what a new member receives).
    pub fn key(&self) -> &ChainKey {
        &self.key
    }

    /// True when no index is left (`u32::MAX` is reserved).
    pub fn is_exhausted(&self) -> bool {
        self.index == u32::MAX
    }

    /// Takes the next message key and moves the chain forward, erasing the old chain key.
    /// Returns `None` when the chain is exhausted.
    pub fn advance(&mut self) -> Option<(u32, MessageKey)> {
        if self.is_exhausted() {
            return None;
        }
        let (mk, next) = self.key.step();
        let index = self.index;
        self.key = next;
        self.index += 1;
        Some((index, mk))
    }
}

/// A chain received from another member.
#[derive(Debug)]
pub struct RecvChain {
    id: u32,
    start: u32,
    next: u32,
    key: ChainKey,
    skipped: BTreeMap<u32, MessageKey>,
}

impl RecvChain {
    /// A chain received at position `index` with chain key `key`.
    pub fn new(id: u32, index: u32, key: ChainKey) -> Self {
        Self {
            id,
            start: index,
            next: index,
            key,
            skipped: BTreeMap::new(),
        }
    }

    /// The chain id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Number of skipped message keys held.
    pub fn skipped_len(&self) -> usize {
        self.skipped.len()
    }

    /// Finds the key of `index` and runs `open` with it. The chain state
    /// (next index, chain key, skipped keys) changes only if `open` succeeds,
    /// so a forged or corrupted frame cannot move the chain.
    pub fn open<T>(
        &mut self,
        index: u32,
        open: impl FnOnce(&MessageKey) -> Option<T>,
    ) -> Result<T, RejectReason> {
        if index == u32::MAX {
            return Err(RejectReason::TooFarAhead);
        }
        if index < self.next {
            if index < self.start {
                return Err(RejectReason::BeforeChainStart);
            }
            let mk = self.skipped.get(&index).ok_or(RejectReason::Replay)?;
            let out = open(mk).ok_or(RejectReason::DecryptFailed)?;
            self.skipped.remove(&index);
            return Ok(out);
        }
        if index - self.next > MAX_SKIP {
            return Err(RejectReason::TooFarAhead);
        }
        let mut new_skipped = Vec::new();
        let mut ck = self.key.clone();
        for i in self.next..index {
            let (mk, next) = ck.step();
            new_skipped.push((i, mk));
            ck = next;
        }
        let (mk, next) = ck.step();
        let out = open(&mk).ok_or(RejectReason::DecryptFailed)?;
        self.key = next;
        self.next = index + 1;
        self.skipped.extend(new_skipped);
        while self.skipped.len() > MAX_SKIPPED {
            self.skipped.pop_first();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn chain_at(i: u32) -> (ChainKey, Vec<[u8; 32]>) {
        let mut ck = ChainKey::from_bytes([5; 32]);
        let mut keys = Vec::new();
        for _ in 0..=i {
            let (mk, next) = ck.step();
            keys.push(*mk.key());
            ck = next;
        }
        (ChainKey::from_bytes([5; 32]), keys)
    }

    #[test]
    fn receiver_follows_sender_with_skips_and_rejects_replays() {
        let (ck, keys) = chain_at(10);
        let mut rx = RecvChain::new(1, 0, ck);
        let got = |mk: &MessageKey| Some(*mk.key());
        assert_eq!(rx.open(3, got), Ok(keys[3]));
        assert_eq!(rx.skipped_len(), 3);
        assert_eq!(rx.open(3, got), Err(RejectReason::Replay));
        assert_eq!(rx.open(1, got), Ok(keys[1]));
        assert_eq!(rx.open(1, got), Err(RejectReason::Replay));
        // A failed open leaves the state as it was.
        assert_eq!(rx.open(8, |_| None::<()>), Err(RejectReason::DecryptFailed));
        assert_eq!(rx.open(4, got), Ok(keys[4]));
        assert_eq!(rx.open(10, got), Ok(keys[10]));
        assert_eq!(rx.skipped_len(), 2 + 5);
        assert_eq!(
            rx.open(11 + MAX_SKIP + 1, got),
            Err(RejectReason::TooFarAhead)
        );
    }

    #[test]
    fn skipped_keys_are_bounded() {
        let mut rx = RecvChain::new(1, 5, ChainKey::from_bytes([1; 32]));
        assert_eq!(
            rx.open(4, |_| Some(())),
            Err(RejectReason::BeforeChainStart)
        );
        rx.open(5 + MAX_SKIP, |_| Some(())).unwrap();
        assert_eq!(rx.skipped_len(), MAX_SKIPPED);
        rx.open(5 + 2 * MAX_SKIP, |_| Some(())).unwrap();
        assert_eq!(rx.skipped_len(), MAX_SKIPPED);
        // The oldest were evicted.
        assert_eq!(rx.open(6, |_| Some(())), Err(RejectReason::Replay));
        assert_eq!(rx.open(5 + 2 * MAX_SKIP - 1, |_| Some(())), Ok(()));
    }

    #[test]
    fn sender_advances_and_erases() {
        let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::from_seed([0; 32]);
        let mut tx = SendChain::new(3, &mut rng);
        let k0 = tx.key().clone();
        let (i0, m0) = tx.advance().unwrap();
        let (i1, _) = tx.advance().unwrap();
        assert_eq!((i0, i1, tx.index()), (0, 1, 2));
        assert_eq!(m0.key(), k0.step().0.key());
        assert_ne!(tx.key().as_bytes(), k0.as_bytes());
    }
}
