//! Vroom rooms and tickets the way a browser gets them: `POST /api/rooms`
//! (a creator ticket) and `POST /api/rooms/{id}/join` (a member ticket).

use anyhow::{Context, Result, bail};
use vroom_shared::api::{CreateRoomResponse, JoinRoomResponse};
use vroom_shared::{RoomId, Ticket};

use crate::http::{HttpClient, client, new_room_credentials, send};

/// The rooms API of a running host.
#[derive(Clone)]
pub struct Api {
    client: HttpClient,
    base: String,
}

/// A room this load generator created.
#[derive(Clone)]
pub struct ApiRoom {
    /// The room id.
    pub id: RoomId,
    /// base64url of the id (for URLs).
    id_text: String,
    /// The join key every member presents.
    join_key: String,
}

impl Api {
    /// A client of the API at `base` (`http://host:port`).
    pub fn new(base: &str) -> Self {
        Self {
            client: client(64),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// Creates a room; returns it and the creator's ticket.
    pub async fn create_room(&self) -> Result<(ApiRoom, Ticket)> {
        let (id_text, join_key) = new_room_credentials()?;
        let (status, body) = send(
            &self.client,
            http::Method::POST,
            &format!("{}/api/rooms", self.base),
            Some(format!(
                r#"{{"room_id":"{id_text}","join_key":"{join_key}"}}"#
            )),
            None,
        )
        .await?;
        if status != 201 {
            bail!(
                "create room: HTTP {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        let created: CreateRoomResponse =
            serde_json::from_slice(&body).context("create room response")?;
        Ok((
            ApiRoom {
                id: created.room_id,
                id_text,
                join_key,
            },
            created.ticket,
        ))
    }

    /// A member ticket for `room`.
    pub async fn join(&self, room: &ApiRoom) -> Result<Ticket> {
        let (status, body) = send(
            &self.client,
            http::Method::POST,
            &format!("{}/api/rooms/{}/join", self.base, room.id_text),
            Some(format!(r#"{{"join_key":"{}"}}"#, room.join_key)),
            None,
        )
        .await?;
        if status != 200 {
            bail!(
                "join room: HTTP {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        let joined: JoinRoomResponse =
            serde_json::from_slice(&body).context("join room response")?;
        Ok(joined.ticket)
    }
}
