//! What a tab remembers about its room, in `sessionStorage` only (dies with
//! the tab; never `localStorage`, never cookies).

use serde::{Deserialize, Serialize};

use super::util::window;

/// How the room page should get its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Create a new (quick) room.
    Create,
    /// Create a named room, or join it when it is live.
    CreateOrJoin,
    /// Join a live room.
    Join,
}

/// One tab's entry for one room.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The room secret S, base64url.
    pub secret: String,
    /// What to do on load.
    pub intent: Intent,
    /// Lifetime cap asked for when creating.
    #[serde(default)]
    pub lifetime: Option<u32>,
    /// Display name inside the encryption.
    pub name: String,
    /// Creator token, once this tab created the room.
    #[serde(default)]
    pub token: Option<String>,
    /// The room name of a named room (for the page title and invite note).
    #[serde(default)]
    pub room_name: Option<String>,
}

fn key(room_id: &str) -> String {
    format!("vroom.room.{room_id}")
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// The entry of `room_id`, if this tab has one.
pub fn load(room_id: &str) -> Option<Entry> {
    let text = storage()?.get_item(&key(room_id)).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Saves the entry of `room_id`.
pub fn save(room_id: &str, entry: &Entry) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(entry)) {
        let _ = storage.set_item(&key(room_id), &text);
    }
}

/// Forgets everything about `room_id`.
pub fn remove(room_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(room_id));
    }
}
