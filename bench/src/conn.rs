//! WebSocket members of both systems: Vroom's relay protocol
//! (`vroom_shared::relay`, tickets from the rooms API) and Socket.IO v4 over
//! the websocket transport (Engine.IO text frames, as in the peer's README).
//!
//! Every client socket binds its own loopback source address
//! (127.1.x.y, rotating) so thousands of sockets never run out of
//! ephemeral ports, even with sockets in `TIME_WAIT` from join churn.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use vroom_shared::relay::{ClientFrame, RelayFrame, frame_type};
use vroom_shared::{RoomId, Ticket};

use crate::stats::now_micros;

/// A client WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// Which relay a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// `edge-ws-bridge`, tickets from the rooms API.
    Vroom,
    /// The Socket.IO + Redis adapter peer.
    Peer,
}

impl System {
    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Vroom => "Vroom relay",
            Self::Peer => "Socket.IO peer",
        }
    }
}

/// Payload bytes before base64 (the issue's 256 B).
pub const PAYLOAD_BYTES: usize = 256;

/// Characters of the base64 text every message carries (both systems).
pub const PAYLOAD_CHARS: usize = PAYLOAD_BYTES.div_ceil(3) * 4;

/// Hex digits of the send timestamp at the start of the payload.
const STAMP: usize = 16;

/// How long a connect, handshake or join may take.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(20);

static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

/// The next loopback source address: 127.1.0.2, 127.1.0.3, … (250 per
/// third octet, 200 third octets, then around again). `offset` spreads
/// worker processes apart.
fn next_source(offset: usize) -> Ipv4Addr {
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) + offset * 7919;
    let low = u8::try_from(2 + n % 250).unwrap_or(2);
    let mid = u8::try_from((n / 250) % 200).unwrap_or(0);
    Ipv4Addr::new(127, 1, mid, low)
}

/// Offset of this process in the source-address rotation (workers).
pub static SOURCE_OFFSET: AtomicUsize = AtomicUsize::new(0);

async fn tcp(addr: SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    let source = next_source(SOURCE_OFFSET.load(Ordering::Relaxed));
    socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    socket.set_nodelay(true)?;
    Ok(socket.connect(addr).await?)
}

async fn websocket(addr: SocketAddr, path: &str) -> Result<Ws> {
    let request = format!("ws://{addr}{path}").into_client_request()?;
    let stream = tcp(addr).await?;
    // Small buffers: thousands of these live in one process.
    let config = WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

/// Where a member belongs.
#[derive(Clone)]
pub enum RoomRef {
    /// A Vroom room and this member's one-time ticket.
    Vroom {
        /// The room.
        room: RoomId,
        /// The ticket from the rooms API.
        ticket: Ticket,
    },
    /// A Socket.IO room name.
    Peer(String),
}

/// A connected member of a room.
pub struct Member {
    /// Its socket.
    pub ws: Ws,
    /// Its system.
    pub system: System,
    /// The message template: the frame with a placeholder timestamp.
    template: Vec<u8>,
    /// Where the timestamp goes in `template`.
    stamp_at: usize,
    /// The peer's room name (empty for Vroom).
    peer_room: String,
}

/// What a received message means to the load generator.
pub enum Incoming {
    /// A delivered message, sent at this many µs after the epoch.
    Delivery(u64),
    /// An Engine.IO ping: answer it.
    EnginePing,
    /// The connection closed.
    Closed,
    /// Anything else (joins, acks, pongs).
    Other,
}

/// The base64 text every message carries, before the timestamp.
fn payload_text() -> Result<String> {
    use base64::Engine as _;
    let bytes = crate::http::random_bytes(PAYLOAD_BYTES)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl Member {
    /// Connects to `addr` and joins: Vroom redeems the ticket with a Hello
    /// and waits for Welcome; the peer opens the Engine.IO session, the
    /// namespace, and joins the room (waiting for the ack).
    pub async fn join(system: System, addr: SocketAddr, room: &RoomRef) -> Result<Self> {
        tokio::time::timeout(JOIN_TIMEOUT, Self::join_inner(system, addr, room))
            .await
            .context("join timed out")?
    }

    async fn join_inner(system: System, addr: SocketAddr, room: &RoomRef) -> Result<Self> {
        let payload = payload_text()?;
        match (system, room) {
            (System::Vroom, RoomRef::Vroom { room, ticket }) => {
                let mut ws = websocket(addr, "/ws").await?;
                let hello = ClientFrame::Hello {
                    room: room.clone(),
                    ticket: ticket.clone(),
                }
                .encode();
                ws.send(Message::Binary(hello.into())).await?;
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Binary(bytes))) => {
                            if let Ok(RelayFrame::Welcome { .. }) = RelayFrame::decode(&bytes) {
                                break;
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            bail!("relay closed the socket: {frame:?}")
                        }
                        Some(Ok(_)) => {}
                        Some(Err(err)) => return Err(err.into()),
                        None => bail!("relay closed the socket before Welcome"),
                    }
                }
                let mut template = Vec::with_capacity(1 + payload.len());
                template.push(frame_type::BROADCAST);
                template.extend_from_slice(payload.as_bytes());
                Ok(Self {
                    ws,
                    system,
                    template,
                    stamp_at: 1,
                    peer_room: String::new(),
                })
            }
            (System::Peer, RoomRef::Peer(name)) => {
                let mut ws = websocket(addr, "/socket.io/?EIO=4&transport=websocket").await?;
                expect_text(&mut ws, |t| t.starts_with("0{")).await?;
                ws.send(Message::text("40")).await?;
                expect_text(&mut ws, |t| t.starts_with("40")).await?;
                ws.send(Message::text(format!(r#"420["join","{name}"]"#)))
                    .await?;
                expect_text(&mut ws, |t| t.starts_with("430")).await?;
                let head = format!(r#"42["msg","{name}",""#);
                let template = format!(r#"{head}{payload}"]"#).into_bytes();
                Ok(Self {
                    ws,
                    system,
                    template,
                    stamp_at: head.len(),
                    peer_room: name.clone(),
                })
            }
            _ => bail!("room reference does not match the system"),
        }
    }

    /// The message to send now (timestamp inside).
    pub fn message(&mut self) -> Message {
        let mut frame = self.template.clone();
        let stamp = format!("{:016x}", now_micros());
        frame[self.stamp_at..self.stamp_at + STAMP].copy_from_slice(stamp.as_bytes());
        match self.system {
            System::Vroom => Message::Binary(Bytes::from(frame)),
            // The template is ASCII (JSON around base64 and hex).
            System::Peer => Message::text(String::from_utf8(frame).unwrap_or_default()),
        }
    }

    /// What `message` (received by this member) means.
    pub fn classify(system: System, message: &Message) -> Incoming {
        match (system, message) {
            (System::Vroom, Message::Binary(bytes)) => {
                if bytes.first() == Some(&frame_type::FROM_BROADCAST) && bytes.len() >= 5 + STAMP {
                    parse_stamp(&bytes[5..5 + STAMP]).map_or(Incoming::Other, Incoming::Delivery)
                } else {
                    Incoming::Other
                }
            }
            (System::Peer, Message::Text(text)) => {
                const HEAD: &str = r#"42["msg",""#;
                let text = text.as_str();
                if text == "2" {
                    Incoming::EnginePing
                } else if let Some(rest) = text.strip_prefix(HEAD)
                    && rest.len() >= STAMP
                {
                    parse_stamp(&rest.as_bytes()[..STAMP])
                        .map_or(Incoming::Other, Incoming::Delivery)
                } else {
                    Incoming::Other
                }
            }
            (_, Message::Close(_)) => Incoming::Closed,
            _ => Incoming::Other,
        }
    }

    /// Leaves for good: Vroom sends Leave (a creator's ends the room) and
    /// waits for the relay's close; the peer leaves the room (waiting for
    /// the ack) and closes. Bounded by `patience`.
    pub async fn leave(mut self, patience: Duration) -> Result<()> {
        let system = self.system;
        tokio::time::timeout(patience, async move {
            match system {
                System::Vroom => {
                    self.ws
                        .send(Message::Binary(ClientFrame::Leave.encode().into()))
                        .await?;
                    // The relay answers with close 1000; tungstenite answers it.
                    while let Some(message) = self.ws.next().await {
                        if message.is_err() {
                            break;
                        }
                    }
                }
                System::Peer => peer_leave(&mut self.ws, &self.peer_room).await?,
            }
            anyhow::Ok(())
        })
        .await
        .context("leave timed out")?
    }
}

/// Leaves the peer's room `name` (waiting for the ack), then closes.
pub async fn peer_leave(ws: &mut Ws, name: &str) -> Result<()> {
    ws.send(Message::text(format!(r#"421["leave","{name}"]"#)))
        .await?;
    expect_text(ws, |t| t.starts_with("431")).await?;
    let _ = ws.close(None).await;
    while let Some(message) = ws.next().await {
        if message.is_err() {
            break;
        }
    }
    Ok(())
}

fn parse_stamp(hex: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// Reads until a text message `want` accepts, answering Engine.IO pings.
async fn expect_text(ws: &mut Ws, want: impl Fn(&str) -> bool) -> Result<()> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                if want(text.as_str()) {
                    return Ok(());
                }
                if text.as_str() == "2" {
                    ws.send(Message::text("3")).await?;
                }
            }
            Some(Ok(Message::Close(frame))) => bail!("peer closed the socket: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => bail!("peer closed the socket"),
        }
    }
}
