//! Flow control of the chunk lane (`docs/PROTOCOL.md` §12.7): file chunks
//! never hold up chat frames, and never grow the relay's memory.
//!
//! - **Budgets.** Chunk bytes a socket sends, and chunk bytes a room's
//!   members send through this node, are token buckets of their own (chat
//!   frames keep the frame-rate bucket to themselves). A chunk frame costs
//!   at least a full chunk ([`MAX_CHUNK_PAYLOAD`] bytes), so small chunks
//!   cannot multiply the frame count. Over budget, the socket stops reading
//!   until the buckets are out of debt: TCP backs the pressure up to the
//!   sender, nothing is dropped.
//! - **Room file limit.** The bytes of chunks a room's members send through
//!   this node over the room's life are capped (`--room-file-bytes`,
//!   100 MiB by default); beyond, chunks are dropped and the sender is told
//!   with an Error frame ([`close::FILE_LIMIT`]).
//! - **Slow receivers.** Each socket has a chunk queue next to its chat
//!   queue, bounded (`--chunk-queue-bytes`); chat frames are written first.
//!   A chunk that does not fit is dropped for that receiver (which then
//!   fails that file) and the receiver is told once with an Error frame
//!   ([`close::CHUNKS_DROPPED`]); it is never cut off for chunks.

use crate::budget::TokenBucket;
use crate::metrics::{self, Metrics};
use crate::socket::SocketHandle;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use tokio::time::Duration;
use vroom_shared::relay::{MAX_CHUNK_PAYLOAD, MAX_CLIENT_FRAME, RelayFrame, close};

/// The chunk lane's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct FlowConfig {
    /// File-chunk bytes per second one socket may send on average; beyond,
    /// the relay reads its next frame only when the budget allows
    /// (backpressure, nothing dropped). Every chunk frame costs at least a
    /// full chunk (16,431 bytes).
    #[arg(long, env = "RELAY_FILE_BYTES_PER_SEC", default_value_t = 4 << 20)]
    pub file_bytes_per_sec: u64,

    /// File-chunk bytes one socket may send in a burst.
    #[arg(long, env = "RELAY_FILE_BURST_BYTES", default_value_t = 1 << 20)]
    pub file_burst_bytes: u64,

    /// File-chunk bytes per second the members of one room may send through
    /// this node together; beyond, their sockets are read more slowly.
    #[arg(long, env = "RELAY_ROOM_FILE_BYTES_PER_SEC", default_value_t = 8 << 20)]
    pub room_file_bytes_per_sec: u64,

    /// File-chunk bytes the members of one room may send in a burst.
    #[arg(long, env = "RELAY_ROOM_FILE_BURST_BYTES", default_value_t = 2 << 20)]
    pub room_file_burst_bytes: u64,

    /// File-chunk bytes the members of one room may send through this node
    /// over the room's life (100 MiB by default; the site shows the same
    /// limit, Spin variable `room_file_bytes`). Beyond, chunk frames are
    /// dropped and the sender gets an Error frame with code 4013.
    #[arg(long, env = "RELAY_ROOM_FILE_BYTES", default_value_t = 100 << 20)]
    pub room_file_bytes: u64,

    /// Bytes of file chunks that may wait in one socket's chunk queue (next
    /// to its chat queue, written after it); a chunk that does not fit is
    /// dropped for that receiver (Error frame with code 4012, once until its
    /// queue drains).
    #[arg(long, env = "RELAY_CHUNK_QUEUE_BYTES", default_value_t = 1 << 20)]
    pub chunk_queue_bytes: usize,
}

impl FlowConfig {
    /// Checks values clap cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        let chunk = MAX_CHUNK_PAYLOAD as u64;
        if self.file_bytes_per_sec == 0
            || self.room_file_bytes_per_sec == 0
            || self.file_burst_bytes < chunk
            || self.room_file_burst_bytes < chunk
        {
            anyhow::bail!(
                "--file-bytes-per-sec and --room-file-bytes-per-sec must be positive, \
                 --file-burst-bytes and --room-file-burst-bytes at least {chunk}"
            );
        }
        if self.chunk_queue_bytes < MAX_CLIENT_FRAME {
            anyhow::bail!("--chunk-queue-bytes must be at least {MAX_CLIENT_FRAME}");
        }
        Ok(())
    }
}

/// What a chunk frame costs in the byte budgets.
fn cost(len: usize) -> f64 {
    len.max(MAX_CHUNK_PAYLOAD) as f64
}

/// One room's chunk budget on this node, shared by its sockets.
pub(crate) struct RoomFiles {
    budget: Mutex<TokenBucket>,
    sent: AtomicU64,
    limit: u64,
}

impl std::fmt::Debug for RoomFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomFiles")
            .field("sent", &self.sent.load(Relaxed))
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RoomFiles {
    /// A full budget and nothing sent yet.
    pub(crate) fn new(config: &FlowConfig) -> Arc<Self> {
        Arc::new(Self {
            budget: Mutex::new(TokenBucket::new(
                config.room_file_bytes_per_sec as f64,
                config.room_file_burst_bytes as f64,
            )),
            sent: AtomicU64::new(0),
            limit: config.room_file_bytes,
        })
    }

    /// Forgets what was sent (the room was created again).
    pub(crate) fn reset(&self) {
        self.sent.store(0, Relaxed);
    }
}

/// What a socket may do with a chunk frame it read.
pub(crate) enum Admit {
    /// Relay it, then wait this long before reading the next frame.
    Relay(Duration),
    /// The room reached its file-byte limit: drop it, and tell the sender
    /// (at most once per second).
    OverLimit {
        /// Whether to send the Error frame now.
        warn: bool,
    },
}

/// One socket's chunk budget: the room's, and its own, made on its first
/// chunk frame (an idle socket, or one that only chats, holds none).
pub(crate) struct SocketFiles {
    room: Arc<RoomFiles>,
    own: Option<Box<OwnBudget>>,
}

/// A sending socket's own chunk budget.
struct OwnBudget {
    budget: TokenBucket,
    warned: Option<tokio::time::Instant>,
}

impl SocketFiles {
    /// In `room`; nothing sent yet.
    pub(crate) fn new(room: Arc<RoomFiles>) -> Self {
        Self { room, own: None }
    }

    /// Counts a chunk frame of `len` payload bytes against the room's limit
    /// and both budgets.
    pub(crate) fn admit(&mut self, len: usize, config: &FlowConfig, metrics: &Metrics) -> Admit {
        let own = self.own.get_or_insert_with(|| {
            Box::new(OwnBudget {
                budget: TokenBucket::new(
                    config.file_bytes_per_sec as f64,
                    config.file_burst_bytes as f64,
                ),
                warned: None,
            })
        });
        let len64 = len as u64;
        let room = &self.room;
        let counted = room
            .sent
            .fetch_update(Relaxed, Relaxed, |sent| {
                sent.checked_add(len64).filter(|s| *s <= room.limit)
            })
            .is_ok();
        if !counted {
            metrics::inc(&metrics.drop_file_limit);
            let now = tokio::time::Instant::now();
            let warn = own
                .warned
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
            if warn {
                own.warned = Some(now);
            }
            return Admit::OverLimit { warn };
        }
        metrics::inc(&metrics.chunks_in);
        metrics.chunk_bytes_in.fetch_add(len64, Relaxed);
        let mine = own.budget.wait_after(cost(len));
        let shared = room
            .budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wait_after(cost(len));
        let wait = mine.max(shared);
        if !wait.is_zero() {
            metrics::inc(&metrics.chunk_throttled);
        }
        Admit::Relay(wait)
    }
}

/// A socket's chunk queue, allocated only while chunks wait (an idle
/// socket holds none), inside [`crate::socket::SocketShared`].
pub(crate) type ChunkSlot = Mutex<Option<Box<ChunkQueue>>>;

/// Chunk frames waiting for one socket.
#[derive(Default)]
pub(crate) struct ChunkQueue {
    frames: VecDeque<Bytes>,
    bytes: usize,
    /// Chunks were dropped and the client told since the queue last drained.
    dropped: bool,
}

fn lock(slot: &ChunkSlot) -> std::sync::MutexGuard<'_, Option<Box<ChunkQueue>>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// The next chunk frame to write, if any; the queue's memory goes back
/// once it drains.
pub(crate) fn pop_chunk(slot: &ChunkSlot) -> Option<Bytes> {
    let mut guard = lock(slot);
    let queue = guard.as_mut()?;
    let frame = queue.frames.pop_front();
    if let Some(f) = &frame {
        queue.bytes -= f.len();
    }
    if queue.frames.is_empty() {
        *guard = None;
    }
    frame
}

/// Whether no chunk frame waits; with `discard`, drops those that do.
pub(crate) fn chunks_done(slot: &ChunkSlot, discard: bool) -> bool {
    let mut guard = lock(slot);
    if discard {
        *guard = None;
    }
    guard.is_none()
}

/// The Error frame a sender gets for a chunk over the room's limit.
pub(crate) fn over_limit_frame() -> Vec<u8> {
    RelayFrame::Error {
        code: close::FILE_LIMIT,
        message: "room file limit reached: chunk dropped",
    }
    .encode()
}

impl SocketHandle {
    /// Queues a chunk frame in the socket's chunk queue, unless the socket
    /// is closing; drops it when the queue would exceed `limit` bytes,
    /// telling the client once (until its chunk queue drains) through its
    /// chat queue (bounded by `chat_limit`). False if that notice overflowed
    /// the chat queue, which cut the socket off as a slow reader: the room
    /// must drop the member.
    pub(crate) fn push_chunk(
        &self,
        bytes: Bytes,
        limit: usize,
        chat_limit: usize,
        metrics: &Metrics,
    ) -> bool {
        let shared = &self.shared;
        if shared.close.load(Relaxed) != 0 {
            return true;
        }
        let tell = {
            let mut guard = lock(&shared.chunks);
            let queued = guard.as_ref().map_or(0, |q| q.bytes);
            if queued + bytes.len() > limit {
                metrics::inc(&metrics.drop_chunk_slow);
                // A full queue exists: it holds at least one frame.
                guard
                    .as_mut()
                    .is_some_and(|q| !std::mem::replace(&mut q.dropped, true))
            } else {
                let queue = guard.get_or_insert_with(Box::default);
                queue.bytes += bytes.len();
                queue.frames.push_back(bytes);
                drop(guard);
                shared.wake.notify_one();
                return true;
            }
        };
        if tell {
            let notice = RelayFrame::Error {
                code: close::CHUNKS_DROPPED,
                message: "file chunks dropped: reading too slowly",
            }
            .encode();
            return self.push(Bytes::from(notice), chat_limit, metrics);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::{SocketHandle, SocketShared};

    fn chat_frames(handle: &SocketHandle) -> Vec<Bytes> {
        handle
            .shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect()
    }

    #[test]
    fn a_full_chunk_queue_drops_tells_once_and_forgets_when_drained() {
        let handle = SocketHandle {
            shared: Arc::new(SocketShared::default()),
        };
        let metrics = Metrics::default();
        let chunk = Bytes::from(vec![7u8; 1000]);
        // Room for two.
        for _ in 0..5 {
            assert!(handle.push_chunk(chunk.clone(), 2500, 1 << 20, &metrics));
        }
        assert_eq!(metrics.drop_chunk_slow.load(Relaxed), 3);
        let notices = chat_frames(&handle);
        assert_eq!(notices.len(), 1, "told once");
        assert_eq!(
            RelayFrame::decode(&notices[0]),
            Ok(RelayFrame::Error {
                code: close::CHUNKS_DROPPED,
                message: "file chunks dropped: reading too slowly",
            })
        );
        assert!(pop_chunk(&handle.shared.chunks).is_some());
        assert!(!chunks_done(&handle.shared.chunks, false));
        assert!(pop_chunk(&handle.shared.chunks).is_some());
        // Drained: the memory went back, and the next overflow is told again.
        assert!(chunks_done(&handle.shared.chunks, false));
        for _ in 0..3 {
            assert!(handle.push_chunk(chunk.clone(), 2500, 1 << 20, &metrics));
        }
        assert_eq!(chat_frames(&handle).len(), 1);
        assert!(chunks_done(&handle.shared.chunks, true), "discarded");
        assert!(pop_chunk(&handle.shared.chunks).is_none());
    }

    #[test]
    fn a_notice_that_overflows_the_chat_queue_cuts_the_socket_off() {
        let handle = SocketHandle {
            shared: Arc::new(SocketShared::default()),
        };
        let metrics = Metrics::default();
        let chunk = Bytes::from(vec![7u8; 1000]);
        assert!(handle.push_chunk(chunk.clone(), 1000, 10, &metrics));
        assert!(!handle.push_chunk(chunk, 1000, 10, &metrics));
        assert_eq!(handle.shared.close.load(Relaxed), close::SLOW_READER);
    }

    #[tokio::test]
    async fn the_room_limit_and_the_budgets() {
        let config = FlowConfig {
            file_bytes_per_sec: 1,
            file_burst_bytes: MAX_CHUNK_PAYLOAD as u64,
            room_file_bytes_per_sec: 1 << 30,
            room_file_burst_bytes: 1 << 30,
            room_file_bytes: 2 * MAX_CHUNK_PAYLOAD as u64,
            chunk_queue_bytes: MAX_CLIENT_FRAME,
        };
        config.validate().unwrap();
        let metrics = Metrics::default();
        let room = RoomFiles::new(&config);
        let mut a = SocketFiles::new(room.clone());
        let mut b = SocketFiles::new(room.clone());
        // The first chunk fits a's burst; the second puts it in debt (a
        // wait), even a small one (it costs a full chunk).
        assert!(
            matches!(a.admit(MAX_CHUNK_PAYLOAD, &config, &metrics), Admit::Relay(w) if w.is_zero())
        );
        assert!(matches!(b.admit(303, &config, &metrics), Admit::Relay(w) if w.is_zero()));
        assert!(matches!(a.admit(303, &config, &metrics), Admit::Relay(w) if !w.is_zero()));
        // 16,431 + 303 + 303 bytes sent: one more full chunk would pass the
        // room's limit of two; the sender is warned once a second.
        assert!(matches!(
            b.admit(MAX_CHUNK_PAYLOAD, &config, &metrics),
            Admit::OverLimit { warn: true }
        ));
        assert!(matches!(
            b.admit(MAX_CHUNK_PAYLOAD, &config, &metrics),
            Admit::OverLimit { warn: false }
        ));
        assert_eq!(metrics.drop_file_limit.load(Relaxed), 2);
        assert_eq!(metrics.chunks_in.load(Relaxed), 3);
        room.reset();
        assert!(matches!(b.admit(303, &config, &metrics), Admit::Relay(_)));
        assert!(
            FlowConfig {
                chunk_queue_bytes: 1000,
                ..config
            }
            .validate()
            .is_err()
        );
    }
}
