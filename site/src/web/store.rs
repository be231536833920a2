//! What a tab remembers about its room, in `sessionStorage` only (never
//! `localStorage`, never cookies), under one key: a tab is in one room at a
//! time. The entry lives only while the tab is in the room: ending, leaving,
//! an ended room and "not now" on an invite clear the tab's storage, and a
//! tab reopened after [`RELOAD_WINDOW_MS`] forgets it instead of rejoining.

use serde::{Deserialize, Serialize};

use super::util::window;

/// The one `sessionStorage` key of the site.
const KEY: &str = "vroom.room";

/// How long after the page was hidden (`pagehide`) a load of the same tab
/// still counts as a reload and rejoins. Later — "reopen closed tab", a
/// restored session — the entry is forgotten and the tab does not rejoin.
/// The relay's creator leave grace (PROTOCOL §12.4) is 5 s by default, so
/// the creator's room has usually ended by then anyway.
pub const RELOAD_WINDOW_MS: f64 = 10_000.0;

/// How the room page should get its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// An invite link was opened: ask before joining.
    Invited,
    /// Create a new (quick) room.
    Create,
    /// Create a named room, or join it when it is live.
    CreateOrJoin,
    /// Join a live room.
    Join,
}

/// One tab's entry for its room.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The room id, base64url (to tell whether an opened link is this room).
    pub room_id: String,
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
    /// The tab's identity in the room (`vroom_e2e::Identity`, base64url),
    /// once it joined: kept so a reload keeps the safety code.
    #[serde(default)]
    pub identity: Option<String>,
    /// When the page was last hidden (`Date.now()` ms), cleared on load.
    #[serde(default)]
    pub hidden_at: Option<f64>,
    /// The person's switches in this room.
    #[serde(default)]
    pub prefs: Prefs,
}

/// The person's switches in the room, kept with the tab's entry (so only
/// while the tab is in the room, like everything else the site stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Send typing signals while writing (on unless switched off).
    pub send_typing: bool,
    /// A desktop notification for a message while the tab is hidden.
    pub notify: bool,
    /// Notifications show who wrote what (off: they say only that a message came).
    pub notify_text: bool,
    /// A short sound for a message while the tab is hidden.
    pub sound: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            send_typing: true,
            notify: false,
            notify_text: false,
            sound: false,
        }
    }
}

impl Entry {
    /// A fresh entry for a room.
    pub fn new(room_id: String, secret: String, intent: Intent, name: String) -> Self {
        Self {
            room_id,
            secret,
            intent,
            lifetime: None,
            name,
            token: None,
            room_name: None,
            identity: None,
            hidden_at: None,
            prefs: Prefs::default(),
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// This tab's entry, if it has one.
pub fn load() -> Option<Entry> {
    let text = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Starts over with `entry`: everything else the tab stored is removed.
pub fn begin(entry: &Entry) {
    clear();
    save(entry);
}

/// Saves the tab's entry.
pub fn save(entry: &Entry) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(entry)) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// Forgets everything this tab stored.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.clear();
    }
}
