//! One task per WebSocket: hello and ticket (redeemed before any room task
//! exists), then reading client frames (limits, rate, the chunk lane's
//! budgets) and writing what the room queues for it, chat frames first.

use crate::Node;
use crate::budget::TokenBucket;
use crate::flow::{self, Admit, SocketFiles};
use crate::metrics;
use crate::queue;
use crate::room::{self, Departure, JoinReply, RoomCmd};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU16, AtomicUsize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, oneshot};
use tokio::time::{Duration, Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use vroom_shared::relay::{ClientFrame, Envelope, FrameError, RelayFrame, close, frame_type};

/// State a room shares with a socket: its send queues and close request.
/// (Plain queues rather than channels: they allocate nothing up front,
/// which keeps idle sockets small.)
#[derive(Default)]
pub(crate) struct SocketShared {
    /// Chat frames to write, in order (all but file chunks).
    pub queue: Mutex<VecDeque<Bytes>>,
    /// Bytes queued and not yet written.
    pub queued: AtomicUsize,
    /// File-chunk frames to write, in order, after the chat frames
    /// ([`crate::flow`]).
    pub chunks: flow::ChunkSlot,
    /// Close code requested by the room (0: none).
    pub close: AtomicU16,
    /// Wakes the socket task for new frames or a close request.
    pub wake: Notify,
}

/// The room's handle on a socket.
#[derive(Clone)]
pub(crate) struct SocketHandle {
    pub shared: Arc<SocketShared>,
}

/// Counts the socket while it lives.
struct SocketGuard(Arc<Node>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        metrics::add(&self.0.metrics.sockets, -1);
    }
}

/// The socket's rate limit: frames per second, WebSocket pings and pongs
/// included, and when it last warned the client.
struct Rate {
    bucket: TokenBucket,
    warned: Option<Instant>,
}

/// Why the read/write loop stopped.
enum Exit {
    /// The room asked for a close (code in the shared state): it already
    /// dropped the member.
    Room,
    /// The client sent a leave frame.
    Leave,
    /// The client broke the rules: close with this code.
    Violation(u16, &'static str),
    /// The connection is gone or dead.
    Gone,
}

type Ws<S> = WebSocketStream<S>;

async fn close_with<S>(ws: &mut Ws<S>, code: u16, reason: &'static str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    // Send the close, then read until the peer's close or EOF so the close
    // frame is not lost to a reset; give up after a second.
    let _ = timeout(Duration::from_secs(1), async {
        if ws.close(Some(frame)).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// Serves one upgraded WebSocket.
///
/// The hello/join phase and the closing handshake run as boxed futures of
/// their own, so what an idle socket keeps resident is the serving loop's
/// state only.
/// (The stream is borrowed: an async fn keeps a moved-in argument twice.)
pub(crate) async fn run<S>(node: Arc<Node>, ws: &mut Ws<S>, origin_ok: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    metrics::add(&node.metrics.sockets, 1);
    let _guard = SocketGuard(node.clone());
    let shared = Arc::new(SocketShared::default());
    let Some((member, room_tx, files)) = Box::pin(admit(&node, ws, origin_ok, &shared)).await
    else {
        return;
    };
    let files = SocketFiles::new(files);
    let exit = serve(&node, ws, &shared, member, &room_tx, files).await;
    Box::pin(finish(exit, ws, &shared, member, &room_tx)).await;
}

/// Origin, hello and join: the member id, its room's queue and the room's
/// chunk budget, or `None` once the socket was closed with the reason.
async fn admit<S>(
    node: &Arc<Node>,
    ws: &mut Ws<S>,
    origin_ok: bool,
    shared: &Arc<SocketShared>,
) -> Option<(u32, queue::Sender<RoomCmd>, Arc<flow::RoomFiles>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if !origin_ok {
        metrics::inc(&node.metrics.drop_origin);
        close_with(ws, close::BAD_ORIGIN, "origin not allowed").await;
        return None;
    }
    if node.is_shutting_down() {
        close_with(ws, close::RESTART, "node restarting").await;
        return None;
    }

    // Hello: which room, which ticket. Nothing else is read first.
    let first = timeout(
        Duration::from_millis(node.config.hello_timeout_ms),
        ws.next(),
    )
    .await;
    let (room, ticket) = match first {
        Err(_) => {
            metrics::inc(&node.metrics.drop_timeout);
            close_with(ws, close::TIMEOUT, "no hello in time").await;
            return None;
        }
        Ok(None) | Ok(Some(Err(_))) => return None,
        Ok(Some(Ok(Message::Binary(bytes)))) => match ClientFrame::decode(&bytes) {
            Ok(ClientFrame::Hello { room, ticket }) => (room, ticket),
            _ => {
                metrics::inc(&node.metrics.drop_protocol);
                close_with(ws, close::PROTOCOL_ERROR, "expected hello").await;
                return None;
            }
        },
        Ok(Some(Ok(_))) => {
            metrics::inc(&node.metrics.drop_protocol);
            close_with(ws, close::PROTOCOL_ERROR, "expected hello").await;
            return None;
        }
    };

    // Redeem the ticket before anything room-scoped: one GETDEL. A forged,
    // used or expired ticket costs that command and nothing else — no room
    // task, no subscription, no script.
    let grant = match room::take_ticket(node, &room, &ticket).await {
        Ok(Some(grant)) => grant,
        Ok(None) => {
            metrics::inc(&node.metrics.joins_invalid);
            close_with(ws, close::INVALID_TICKET, "invalid ticket").await;
            return None;
        }
        Err(()) => {
            metrics::inc(&node.metrics.joins_unavailable);
            close_with(ws, close::TRY_AGAIN_LATER, "try again later").await;
            return None;
        }
    };
    let handle = SocketHandle {
        shared: shared.clone(),
    };
    for _ in 0..5 {
        let room_tx = node.room(&room);
        let (reply_tx, reply_rx) = oneshot::channel();
        let cmd = RoomCmd::Join {
            ticket: ticket.clone(),
            grant: grant.clone(),
            socket: handle.clone(),
            reply: reply_tx,
        };
        if room_tx.send(cmd).is_err() {
            tokio::task::yield_now().await;
            continue;
        }
        match reply_rx.await {
            Ok(JoinReply::Joined { member, files }) => {
                metrics::inc(&node.metrics.joins_ok);
                return Some((member, room_tx, files));
            }
            Ok(JoinReply::Retry) | Err(_) => tokio::task::yield_now().await,
            Ok(JoinReply::Invalid) => {
                metrics::inc(&node.metrics.joins_invalid);
                close_with(ws, close::INVALID_TICKET, "invalid ticket").await;
                return None;
            }
            Ok(JoinReply::Full) => {
                metrics::inc(&node.metrics.joins_full);
                close_with(ws, close::ROOM_FULL, "room full").await;
                return None;
            }
            Ok(JoinReply::Locked) => {
                close_with(ws, close::ROOM_LOCKED, "room locked").await;
                return None;
            }
            Ok(JoinReply::Unavailable) => break,
        }
    }
    metrics::inc(&node.metrics.joins_unavailable);
    close_with(ws, close::TRY_AGAIN_LATER, "try again later").await;
    None
}

/// Tells the room how the member went and closes the socket.
async fn finish<S>(
    exit: Exit,
    ws: &mut Ws<S>,
    shared: &SocketShared,
    member: u32,
    room_tx: &queue::Sender<RoomCmd>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match exit {
        Exit::Room => {
            let code = shared.close.load(Relaxed);
            let reason = match code {
                close::ROOM_ENDED => "room ended",
                close::SLOW_READER => "slow reader",
                close::RESTART => "node restarting",
                close::PRESENCE_LOST => "presence lost",
                close::TRY_AGAIN_LATER => "redis unavailable",
                _ => "",
            };
            if code == close::SLOW_READER {
                // The client does not read: do not wait for it.
                let _ = timeout(
                    Duration::from_millis(200),
                    ws.close(Some(CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    })),
                )
                .await;
            } else {
                close_with(ws, code, reason).await;
            }
        }
        Exit::Leave => {
            let _ = room_tx.send(RoomCmd::Depart {
                member,
                how: Departure::Leave,
            });
            close_with(ws, close::NORMAL, "bye").await;
        }
        Exit::Violation(code, reason) => {
            let _ = room_tx.send(RoomCmd::Depart {
                member,
                how: Departure::Drop,
            });
            close_with(ws, code, reason).await;
        }
        Exit::Gone => {
            let _ = room_tx.send(RoomCmd::Depart {
                member,
                how: Departure::Drop,
            });
        }
    }
}

/// What to do after a client message.
enum Next {
    Continue,
    /// Send this frame back (a pong, a rate-limit warning).
    Reply(Vec<u8>),
    /// Read the next frame only after this long (the chunk lane's budgets).
    Pause(Duration),
    Exit(Exit),
}

/// The serving loop: writes what the room queues, reads client frames,
/// pings. Every await but the loop's `select!` is boxed, so an idle socket
/// keeps only the loop's few locals (a write batch costs one small
/// allocation, next to its system call).
async fn serve<S>(
    node: &Arc<Node>,
    ws: &mut Ws<S>,
    shared: &SocketShared,
    member: u32,
    room_tx: &queue::Sender<RoomCmd>,
    mut files: SocketFiles,
) -> Exit
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = &node.config;
    let ping_every = Duration::from_millis(config.ping_interval_ms);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    let mut rate = Rate {
        bucket: TokenBucket::new(f64::from(config.rate_per_sec), f64::from(config.rate_burst)),
        warned: None,
    };
    loop {
        tokio::select! {
            _ = shared.wake.notified() => {
                let write_timeout = Duration::from_millis(config.write_timeout_ms);
                match Box::pin(timeout(write_timeout, write_queued(ws, shared, &node.metrics))).await {
                    Ok(Ok(Written::Batch)) => {}
                    Ok(Ok(Written::SlowReader)) => return Exit::Room,
                    Ok(Err(_)) => return Exit::Gone,
                    Err(_) => {
                        metrics::inc(&node.metrics.drop_slow);
                        return Exit::Gone;
                    }
                }
                // A closing socket's chunks are dropped, not written.
                let closing = shared.close.load(Relaxed) != 0;
                let empty = {
                    let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                    if queue.is_empty() {
                        // Give the slots back: an idle socket holds none
                        // (the next frame costs one allocation, next to
                        // the system call that writes it).
                        *queue = VecDeque::new();
                    }
                    queue.is_empty()
                } && flow::chunks_done(&shared.chunks, closing);
                if !empty {
                    // More than a batch: come back after the other branches
                    // had their turn.
                    shared.wake.notify_one();
                } else if shared.close.load(Relaxed) != 0 {
                    return Exit::Room;
                }
            }
            msg = ws.next() => {
                last_heard = Instant::now();
                match on_message(node, &mut rate, &mut files, member, room_tx, msg) {
                    Next::Continue => {}
                    Next::Reply(frame) => {
                        if Box::pin(ws.send(Message::Binary(frame.into()))).await.is_err() {
                            return Exit::Gone;
                        }
                    }
                    Next::Pause(wait) => {
                        // Backpressure: this socket's TCP window fills up
                        // while it is not read. Short (a chunk's worth of
                        // budget), so its own deliveries wait that long too.
                        Box::pin(tokio::time::sleep(wait)).await;
                        last_heard = Instant::now();
                    }
                    Next::Exit(exit) => return exit,
                }
            }
            _ = ping.tick() => {
                let dead_after = ping_every + Duration::from_millis(config.ping_timeout_ms);
                if last_heard.elapsed() >= dead_after {
                    metrics::inc(&node.metrics.drop_timeout);
                    return Exit::Gone;
                }
                let write_timeout = Duration::from_millis(config.write_timeout_ms);
                match Box::pin(timeout(write_timeout, ws.send(Message::Ping(Bytes::new())))).await {
                    Ok(Ok(())) => {}
                    _ => return Exit::Gone,
                }
            }
        }
    }
}

/// One message from the client: checks, rate limit, decoding, and the
/// frame handed to the room.
fn on_message(
    node: &Node,
    rate: &mut Rate,
    files: &mut SocketFiles,
    member: u32,
    room_tx: &queue::Sender<RoomCmd>,
    msg: Option<Result<Message, WsError>>,
) -> Next {
    let metrics = &node.metrics;
    let bytes = match msg {
        None => return Next::Exit(Exit::Gone),
        Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
            metrics::inc(&metrics.drop_large);
            return Next::Exit(Exit::Violation(close::FRAME_TOO_LARGE, "frame too large"));
        }
        Some(Err(_)) => return Next::Exit(Exit::Gone),
        Some(Ok(Message::Binary(bytes))) => Some(bytes),
        // WebSocket pings and pongs cost a token like any frame: the
        // WebSocket layer answers each ping with a pong.
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
        Some(Ok(Message::Text(_))) => {
            metrics::inc(&metrics.drop_protocol);
            return Next::Exit(Exit::Violation(close::PROTOCOL_ERROR, "binary frames only"));
        }
        Some(Ok(Message::Close(_))) => return Next::Exit(Exit::Gone),
        Some(Ok(Message::Frame(_))) => return Next::Continue,
    };
    metrics::inc(&metrics.frames_in);
    // Chunk frames have budgets of their own (after decoding): they never
    // use up the chat frames' rate.
    let chunk_lane = bytes
        .as_ref()
        .is_some_and(|b| b.first() == Some(&frame_type::CHUNK));
    if !chunk_lane && let Err(debt) = rate.bucket.take(1.0) {
        metrics::inc(&metrics.drop_rate);
        if debt > rate.bucket.burst() {
            return Next::Exit(Exit::Violation(close::RATE_LIMITED, "rate limited"));
        }
        let now = Instant::now();
        if rate
            .warned
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            rate.warned = Some(now);
            return Next::Reply(
                RelayFrame::Error {
                    code: close::RATE_LIMITED,
                    message: "rate limited: frame dropped",
                }
                .encode(),
            );
        }
        return Next::Continue;
    }
    let Some(bytes) = bytes else {
        return Next::Continue;
    };
    let frame = match ClientFrame::decode(&bytes) {
        Ok(frame) => frame,
        Err(
            FrameError::Empty
            | FrameError::UnknownType(_)
            | FrameError::Length(_)
            | FrameError::Utf8,
        ) => {
            metrics::inc(&metrics.drop_protocol);
            return Next::Exit(Exit::Violation(close::PROTOCOL_ERROR, "malformed frame"));
        }
    };
    let node_id = &node.node_id;
    let header = Envelope::header_len(node_id.len());
    match frame {
        ClientFrame::Broadcast { payload } => {
            let bytes = build(
                node_id,
                0,
                &RelayFrame::Broadcast {
                    from: member,
                    payload,
                },
            );
            let _ = room_tx.send(RoomCmd::Frame {
                from: member,
                to: None,
                bytes,
                header,
                chunk: false,
            });
        }
        ClientFrame::Direct { to, payload } => {
            let bytes = build(
                node_id,
                to,
                &RelayFrame::Direct {
                    from: member,
                    payload,
                },
            );
            let _ = room_tx.send(RoomCmd::Frame {
                from: member,
                to: Some(to),
                bytes,
                header,
                chunk: false,
            });
        }
        ClientFrame::Chunk { payload } => {
            match files.admit(payload.len(), &node.config.flow, metrics) {
                Admit::OverLimit { warn: true } => return Next::Reply(flow::over_limit_frame()),
                Admit::OverLimit { warn: false } => {}
                Admit::Relay(wait) => {
                    let bytes = build(
                        node_id,
                        0,
                        &RelayFrame::Chunk {
                            from: member,
                            payload,
                        },
                    );
                    let _ = room_tx.send(RoomCmd::Frame {
                        from: member,
                        to: None,
                        bytes,
                        header,
                        chunk: true,
                    });
                    if !wait.is_zero() {
                        return Next::Pause(wait);
                    }
                }
            }
        }
        ClientFrame::Leave => return Next::Exit(Exit::Leave),
        ClientFrame::Ping { data } => return Next::Reply(RelayFrame::Pong { data }.encode()),
        ClientFrame::Hello { .. } => {
            metrics::inc(&metrics.drop_protocol);
            return Next::Exit(Exit::Violation(close::PROTOCOL_ERROR, "second hello"));
        }
    }
    Next::Continue
}

/// Most bytes of chunk frames one write batch takes (then chat frames get
/// the next batch's first turn).
const CHUNK_BATCH_BYTES: usize = 64 << 10;

/// What [`write_queued`] did.
enum Written {
    /// Wrote up to a batch of queued frames (maybe none).
    Batch,
    /// The room cut the socket off as a slow reader.
    SlowReader,
}

/// Writes what is queued, up to a batch, with one flush (one `write` to the
/// socket for the whole batch): chat frames first, then chunk frames (none
/// once a close is requested).
async fn write_queued<S>(
    ws: &mut Ws<S>,
    shared: &SocketShared,
    metrics: &metrics::Metrics,
) -> Result<Written, WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut wrote = false;
    let mut chunk_bytes = 0;
    for _ in 0..64 {
        if shared.close.load(Relaxed) == close::SLOW_READER {
            return Ok(Written::SlowReader);
        }
        let chat = shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        let bytes = match chat {
            Some(bytes) => {
                shared.queued.fetch_sub(bytes.len(), Relaxed);
                bytes
            }
            None if shared.close.load(Relaxed) != 0 => break,
            // A batch carries at most this much of chunks: a chat frame
            // queued meanwhile waits for no more, and a slow receiver's
            // batch finishes well within the write timeout.
            None if chunk_bytes >= CHUNK_BATCH_BYTES => break,
            None => {
                let Some(bytes) = flow::pop_chunk(&shared.chunks) else {
                    break;
                };
                chunk_bytes += bytes.len();
                bytes
            }
        };
        ws.feed(Message::Binary(bytes)).await?;
        metrics::inc(&metrics.frames_out);
        wrote = true;
    }
    if wrote {
        ws.flush().await?;
        metrics::inc(&metrics.socket_writes);
    }
    Ok(Written::Batch)
}

/// One allocation per frame: the envelope for other nodes, whose tail is
/// the frame local members get.
fn build(node_id: &[u8], to: u32, frame: &RelayFrame<'_>) -> Bytes {
    let payload_len = match frame {
        RelayFrame::Broadcast { payload, .. }
        | RelayFrame::Direct { payload, .. }
        | RelayFrame::Chunk { payload, .. } => payload.len(),
        _ => 0,
    };
    let mut out = Vec::with_capacity(Envelope::header_len(node_id.len()) + 5 + payload_len);
    Envelope::encode_header(node_id, to, &mut out);
    frame.encode_into(&mut out);
    Bytes::from(out)
}
