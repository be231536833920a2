//! A relay client for the system tests: connect with a ticket, send frames,
//! and read what the relay sends as owned [`Seen`] values.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use vroom_shared::relay::{ClientFrame, RelayFrame};
use vroom_shared::{RoomId, Ticket};

use crate::RelayNode;

/// A client's WebSocket to a relay node.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a client saw, owned.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// `Welcome`: this socket is in the room.
    Welcome {
        /// This socket's member id.
        member: u32,
        /// Whether this socket is the room's creator.
        creator: bool,
    },
    /// `Joined`: another member arrived.
    Joined(u32),
    /// `Left`: a member left.
    Left(u32),
    /// A broadcast from `from`.
    Broadcast {
        /// The sender's member id.
        from: u32,
        /// The opaque payload.
        payload: Vec<u8>,
    },
    /// A frame `from` sent to this member alone.
    Direct {
        /// The sender's member id.
        from: u32,
        /// The opaque payload.
        payload: Vec<u8>,
    },
    /// The room ended.
    Ended,
    /// An `Error` frame's code.
    Error(u16),
    /// The socket closed, with the close code if there was one.
    Closed(Option<u16>),
}

/// The next frame other than a pong, room state or file chunk, or how the
/// socket closed.
pub async fn next(ws: &mut Ws) -> Seen {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s");
        match message {
            Some(Ok(Message::Binary(bytes))) => {
                return match RelayFrame::decode(&bytes).expect("a valid relay frame") {
                    RelayFrame::Welcome {
                        member, creator, ..
                    } => Seen::Welcome { member, creator },
                    RelayFrame::Joined { member } => Seen::Joined(member),
                    RelayFrame::Left { member } => Seen::Left(member),
                    RelayFrame::Broadcast { from, payload } => Seen::Broadcast {
                        from,
                        payload: payload.to_vec(),
                    },
                    RelayFrame::Direct { from, payload } => Seen::Direct {
                        from,
                        payload: payload.to_vec(),
                    },
                    RelayFrame::Ended => Seen::Ended,
                    RelayFrame::Error { code, .. } => Seen::Error(code),
                    RelayFrame::Pong { .. }
                    | RelayFrame::RoomState { .. }
                    | RelayFrame::Chunk { .. } => continue,
                };
            }
            Some(Ok(Message::Close(frame))) => {
                return Seen::Closed(frame.map(|f| u16::from(f.code)));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Seen::Closed(None),
        }
    }
}

/// Opens a socket to `relay` and sends the Hello for `room_id` with `ticket`.
pub async fn connect(relay: &RelayNode, room_id: &str, ticket: &str) -> Ws {
    let (mut ws, _) = connect_async(relay.url.as_str())
        .await
        .expect("relay accepts");
    let hello = ClientFrame::Hello {
        room: room_id.parse::<RoomId>().unwrap(),
        ticket: ticket.parse::<Ticket>().unwrap(),
    };
    ws.send(Message::Binary(hello.encode().into()))
        .await
        .unwrap();
    ws
}

/// Sends one client frame.
pub async fn send(ws: &mut Ws, frame: ClientFrame<'_>) {
    ws.send(Message::Binary(frame.encode().into()))
        .await
        .unwrap();
}
