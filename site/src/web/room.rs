//! The room page: joins through the rooms API, talks to the relay, drives
//! `vroom_e2e::Session`, and shows the conversation.
//!
//! All state that holds keys lives in one thread-local controller; the view
//! only sees signals of plain strings. Ending, leaving or an ended room drop
//! the controller (the session and room keys zeroize on drop) and forget the
//! tab's `sessionStorage` entry.

use std::cell::RefCell;

use leptos::prelude::*;
use vroom_e2e::{Event, MemberId, Outgoing, Output, RoomKeys, RoomSecret, Session, SystemRng};
use vroom_shared::relay::{ClientFrame, RelayFrame, close};
use vroom_shared::{RoomId, Ticket};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

use super::api::{self, ApiError};
use super::store::{self, Entry, Intent};
use super::util;

/// Where the page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Getting a ticket and connecting (with a message).
    Joining(String),
    /// In the room.
    Live,
    /// The room ended: nothing of it remains.
    Ended,
    /// This tab left the room.
    Left,
    /// Cannot enter the room.
    Failed(String),
}

/// Connection to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    /// Connecting for the first time.
    Connecting,
    /// Connected and welcomed.
    Online,
    /// Lost; trying again.
    Reconnecting,
}

/// Who wrote a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This tab.
    Own,
    /// Another member.
    Other,
    /// The page (joined, left, keys rotated, problems).
    System,
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Unique within the page.
    pub id: u64,
    /// Who.
    pub kind: Kind,
    /// Author's name (empty for system lines).
    pub author: String,
    /// Text.
    pub text: String,
    /// `HH:MM`.
    pub time: String,
}

/// A row of the member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// Member id.
    pub id: u32,
    /// Name, once verified.
    pub name: Option<String>,
    /// Safety code, once verified.
    pub code: Option<String>,
    /// This tab.
    pub me: bool,
}

/// Every signal the room view reads.
#[derive(Clone, Copy)]
pub struct Ui {
    /// Phase.
    pub phase: RwSignal<Phase>,
    /// Relay connection.
    pub conn: RwSignal<Conn>,
    /// Conversation.
    pub lines: RwSignal<Vec<Line>>,
    /// Members, this tab first.
    pub members: RwSignal<Vec<MemberRow>>,
    /// Whether this tab is the creator.
    pub creator: RwSignal<bool>,
    /// Lifetime cap (Unix seconds).
    pub expires_at: RwSignal<u64>,
    /// Messages from others while the tab was hidden.
    pub unread: RwSignal<u32>,
    /// Invite link (quick rooms only).
    pub invite: RwSignal<Option<String>>,
    /// Name of a named room.
    pub room_name: RwSignal<Option<String>>,
    /// A passing problem (e.g. a message not sent).
    pub notice: RwSignal<Option<String>>,
}

impl Ui {
    fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Joining("Opening the room…".into())),
            conn: RwSignal::new(Conn::Connecting),
            lines: RwSignal::new(Vec::new()),
            members: RwSignal::new(Vec::new()),
            creator: RwSignal::new(false),
            expires_at: RwSignal::new(0),
            unread: RwSignal::new(0),
            invite: RwSignal::new(None),
            room_name: RwSignal::new(None),
            notice: RwSignal::new(None),
        }
    }

    fn system(&self, text: impl Into<String>) {
        self.push(Kind::System, String::new(), text.into());
    }

    fn push(&self, kind: Kind, author: String, text: String) {
        let line = Line {
            id: next_id(),
            kind,
            author,
            text,
            time: util::clock(),
        };
        self.lines.try_update(|lines| lines.push(line));
        if kind == Kind::Other && util::document().hidden() {
            self.unread.try_update(|n| *n += 1);
        }
    }
}

fn next_id() -> u64 {
    thread_local!(static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
    NEXT.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

struct Socket {
    ws: web_sys::WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

struct Ctl {
    room_id: String,
    keys: RoomKeys,
    entry: Entry,
    session: Option<Session<SystemRng>>,
    socket: Option<Socket>,
    /// Connection generation: callbacks of older sockets are ignored.
    generation: u32,
    attempts: u32,
    ui: Ui,
}

thread_local! {
    static CTL: RefCell<Option<Ctl>> = const { RefCell::new(None) };
}

fn with_ctl<T>(f: impl FnOnce(&mut Ctl) -> T) -> Option<T> {
    CTL.with(|c| c.borrow_mut().as_mut().map(f))
}

/// Starts the room page for `room_id` (from the path); takes the secret from
/// the fragment (then removes it from the address bar and history) or from
/// this tab's `sessionStorage`.
pub fn start(room_id: String) -> Ui {
    let ui = Ui::new();
    teardown();
    let location = util::window().location();
    let hash = location.hash().unwrap_or_default();
    if !hash.is_empty() {
        let secret = vroom_e2e::parse_room_parts(&room_id, &hash);
        // Whatever it was, the fragment leaves the address bar and history now.
        let _ = util::window()
            .history()
            .map(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("/r/{room_id}"))));
        match secret {
            Ok(secret) => {
                let fresh = Entry {
                    secret: secret.to_base64url().to_string(),
                    intent: Intent::Join,
                    lifetime: None,
                    name: super::names::random_name(),
                    token: None,
                    room_name: None,
                };
                // Keep what this tab knew (e.g. its creator token) if the link is the same room.
                let entry = store::load(&room_id)
                    .filter(|e| e.secret == fresh.secret)
                    .unwrap_or(fresh);
                store::save(&room_id, &entry);
            }
            Err(_) => {
                ui.phase.set(Phase::Failed(
                    "This invite link is damaged: its secret part does not match the room. \
                     Ask for the link again and paste all of it."
                        .into(),
                ));
                return ui;
            }
        }
    }
    let Some(entry) = store::load(&room_id) else {
        ui.phase.set(Phase::Failed(
            "This link has no room key. Invite links end with a # followed by the key; \
             ask for the whole link again."
                .into(),
        ));
        return ui;
    };
    let Ok(secret) = RoomSecret::from_base64url(&entry.secret) else {
        store::remove(&room_id);
        ui.phase
            .set(Phase::Failed("This tab's room key is damaged.".into()));
        return ui;
    };
    let keys = secret.derive_keys();
    if entry.room_name.is_none() {
        ui.invite.set(Some(
            vroom_e2e::invite_link(&util::origin(), &secret).to_string(),
        ));
    }
    drop(secret);
    ui.room_name.set(entry.room_name.clone());
    ui.creator.set(entry.token.is_some());
    CTL.with(|c| {
        *c.borrow_mut() = Some(Ctl {
            room_id,
            keys,
            entry,
            session: None,
            socket: None,
            generation: 0,
            attempts: 0,
            ui,
        })
    });
    wasm_bindgen_futures::spawn_local(connect());
    ui
}

/// Gets a ticket from the rooms API and opens the relay connection.
async fn connect() {
    let Some((room, join_key, entry, reconnecting)) = with_ctl(|c| {
        (
            *c.keys.room_id().as_bytes(),
            *c.keys.join_key(),
            c.entry.clone(),
            c.attempts > 0 || c.generation > 0,
        )
    }) else {
        return;
    };
    let ticket = match entry.intent {
        Intent::Create | Intent::CreateOrJoin => api::create(
            &room,
            &join_key,
            entry.lifetime,
            entry.intent == Intent::CreateOrJoin,
        )
        .await
        .map(|r| (r.ticket, r.relay, r.expires_at, r.creator_token)),
        Intent::Join => api::join(&room, &join_key, entry.token.as_deref())
            .await
            .map(|r| (r.ticket, r.relay, r.expires_at, None)),
    };
    match ticket {
        Ok((ticket, relay, expires_at, token)) => {
            with_ctl(|c| {
                c.entry.intent = Intent::Join;
                if let Some(token) = token {
                    c.entry.token = Some(token.to_base64());
                    c.ui.creator.set(true);
                }
                store::save(&c.room_id, &c.entry);
                c.ui.expires_at.set(expires_at);
                open(c, &relay, ticket);
            });
        }
        Err(ApiError::NotFound) if reconnecting => ended(),
        Err(e @ (ApiError::Network | ApiError::Server | ApiError::RateLimited(_)))
            if reconnecting =>
        {
            with_ctl(|c| c.ui.notice.set(Some(e.human())));
            retry_later();
        }
        Err(e) => fail(e.human()),
    }
}

/// Opens a WebSocket to the relay and sends the hello frame.
fn open(c: &mut Ctl, relay: &str, ticket: Ticket) {
    c.socket = None;
    c.generation += 1;
    let generation = c.generation;
    let ws = match web_sys::WebSocket::new(relay) {
        Ok(ws) => ws,
        Err(_) => {
            c.ui.notice
                .set(Some("Cannot open a connection to the relay.".into()));
            wasm_bindgen_futures::spawn_local(async { retry_later() });
            return;
        }
    };
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
    let hello = ClientFrame::Hello {
        room: RoomId::from_bytes(*c.keys.room_id().as_bytes()),
        ticket,
    }
    .encode();
    let ws2 = ws.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        let _ = ws2.send_with_u8_array(&hello);
    });
    let on_message = Closure::<dyn FnMut(_)>::new(move |event: web_sys::MessageEvent| {
        if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            on_frame(generation, &bytes);
        }
    });
    let on_close = Closure::<dyn FnMut(_)>::new(move |event: web_sys::CloseEvent| {
        on_closed(generation, event.code());
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    c.socket = Some(Socket {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
}

fn send(c: &Ctl, frame: &ClientFrame<'_>) -> bool {
    match &c.socket {
        Some(s) if s.ws.ready_state() == web_sys::WebSocket::OPEN => {
            s.ws.send_with_u8_array(&frame.encode()).is_ok()
        }
        _ => false,
    }
}

fn on_frame(generation: u32, bytes: &[u8]) {
    let Ok(frame) = RelayFrame::decode(bytes) else {
        return;
    };
    if matches!(frame, RelayFrame::Ended) {
        ended();
        return;
    }
    with_ctl(|c| {
        if c.generation != generation {
            return;
        }
        let out = match frame {
            RelayFrame::Welcome {
                member,
                creator,
                expires_at,
                ..
            } => {
                match Session::with_system_rng(&c.keys, MemberId(member), &c.entry.name) {
                    Ok(session) => c.session = Some(session),
                    Err(_) => {
                        c.ui.phase.set(Phase::Failed(
                            "Your display name cannot be used; go back and choose another.".into(),
                        ));
                        c.socket = None;
                        return;
                    }
                }
                let first = c.attempts == 0 && !matches!(c.ui.phase.get_untracked(), Phase::Live);
                c.attempts = 0;
                c.ui.creator.set(creator);
                c.ui.expires_at.set(expires_at);
                c.ui.conn.set(Conn::Online);
                c.ui.notice.set(None);
                c.ui.phase.set(Phase::Live);
                if first {
                    c.ui.system(format!(
                        "You joined as {}. Messages are end-to-end encrypted.",
                        c.entry.name
                    ));
                } else {
                    c.ui.system("Reconnected.");
                }
                refresh_members(c);
                return;
            }
            RelayFrame::Joined { member } => c
                .session
                .as_mut()
                .map(|s| s.on_member_joined(MemberId(member))),
            RelayFrame::Left { member } => c
                .session
                .as_mut()
                .map(|s| s.on_member_left(MemberId(member))),
            RelayFrame::Broadcast { from, payload } | RelayFrame::Direct { from, payload } => c
                .session
                .as_mut()
                .map(|s| s.on_payload(MemberId(from), payload)),
            RelayFrame::Error { code, .. } => {
                if code == close::RATE_LIMITED {
                    c.ui.system("You are sending too fast; a message was dropped.");
                }
                None
            }
            RelayFrame::Pong { .. } | RelayFrame::Ended => None,
        };
        if let Some(out) = out {
            apply(c, out);
        }
    });
}

/// Sends what the session produced and shows its events.
fn apply(c: &mut Ctl, out: Output) {
    for item in out.outgoing {
        let sent = match &item {
            Outgoing::Broadcast(payload) => send(c, &ClientFrame::Broadcast { payload }),
            Outgoing::Direct { to, payload } => send(c, &ClientFrame::Direct { to: to.0, payload }),
        };
        if !sent {
            c.ui.notice.set(Some(
                "Connection lost: not everything could be sent.".into(),
            ));
        }
    }
    for event in out.events {
        match event {
            Event::MemberVerified { name, .. } => {
                c.ui.system(format!("{} joined.", name.as_str()));
            }
            Event::MemberLeft { name, .. } => {
                if let Some(name) = name {
                    c.ui.system(format!("{} left.", name.as_str()));
                }
            }
            Event::KeysRotated { .. } => {
                c.ui.system("Keys rotated: whoever left cannot read what is said from now on.")
            }
            Event::Message { from, text } => {
                let author = c
                    .session
                    .as_ref()
                    .and_then(|s| s.members().into_iter().find(|m| m.id == from))
                    .and_then(|m| m.name)
                    .map_or_else(|| format!("Member {}", from.0), |n| n.as_str().to_owned());
                c.ui.push(Kind::Other, author, text);
            }
            Event::MemberRejected { .. } => {
                c.ui.system("Someone without the room key tried to join and was refused.")
            }
            Event::MemberRekeyed { .. } | Event::PayloadRejected { .. } => {}
        }
    }
    refresh_members(c);
}

fn refresh_members(c: &Ctl) {
    let Some(session) = &c.session else {
        c.ui.members.set(Vec::new());
        return;
    };
    let mut rows = vec![MemberRow {
        id: session.my_id().0,
        name: Some(session.my_name().as_str().to_owned()),
        code: Some(session.my_safety_code().as_str().to_owned()),
        me: true,
    }];
    rows.extend(session.members().into_iter().map(|m| MemberRow {
        id: m.id.0,
        name: m.name.map(|n| n.as_str().to_owned()),
        code: m.safety_code.map(|s| s.as_str().to_owned()),
        me: false,
    }));
    c.ui.members.set(rows);
}

fn on_closed(generation: u32, code: u16) {
    let current = with_ctl(|c| c.generation == generation).unwrap_or(false);
    if !current {
        return;
    }
    match code {
        close::ROOM_ENDED => ended(),
        close::ROOM_FULL => fail(ApiError::Full.human()),
        close::BAD_ORIGIN => {
            fail("The relay does not accept connections from this page's address.".into())
        }
        close::NORMAL => {}
        _ => {
            with_ctl(|c| {
                c.socket = None;
                c.session = None;
                c.ui.members.set(Vec::new());
                if c.ui.conn.get_untracked() == Conn::Online {
                    c.ui.system("Connection lost. Reconnecting…");
                }
                c.ui.conn.set(Conn::Reconnecting);
            });
            retry_later();
        }
    }
}

/// Reconnects after a back-off (1 s, 2 s, 4 s … 15 s).
fn retry_later() {
    let Some(delay) = with_ctl(|c| {
        c.attempts += 1;
        c.ui.conn.set(Conn::Reconnecting);
        1000 * 2i32.pow(c.attempts.min(4) - 1).min(15)
    }) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        util::sleep(delay).await;
        connect().await;
    });
}

fn fail(message: String) {
    if let Some(ctl) = CTL.with(|c| c.borrow_mut().take()) {
        ctl.ui.phase.set(Phase::Failed(message));
    }
}

/// The room is over: show it and drop every key of it.
pub fn ended() {
    if let Some(ctl) = CTL.with(|c| c.borrow_mut().take()) {
        store::remove(&ctl.room_id);
        let ui = ctl.ui;
        drop(ctl);
        ui.lines.try_set(Vec::new());
        ui.members.try_set(Vec::new());
        ui.invite.try_set(None);
        ui.phase.try_set(Phase::Ended);
    }
}

/// Encrypts and sends a message; `false` (with a notice) when it could not.
pub fn send_text(text: &str) -> bool {
    with_ctl(|c| {
        let online = c
            .socket
            .as_ref()
            .is_some_and(|s| s.ws.ready_state() == web_sys::WebSocket::OPEN);
        let Some(session) = c.session.as_mut().filter(|_| online) else {
            c.ui.notice.set(Some(
                "Not connected right now: your message was not sent.".into(),
            ));
            return false;
        };
        match session.send_text(text) {
            Ok(out) => {
                let name = session.my_name().as_str().to_owned();
                c.ui.push(Kind::Own, name, text.to_owned());
                c.ui.notice.set(None);
                apply(c, out);
                true
            }
            Err(_) => {
                c.ui.notice.set(Some("This message is too long.".into()));
                false
            }
        }
    })
    .unwrap_or(false)
}

/// Ends the room for everyone (creator only).
pub async fn end_room() {
    let Some((room, token)) = with_ctl(|c| (*c.keys.room_id().as_bytes(), c.entry.token.clone()))
    else {
        return;
    };
    let Some(token) = token else { return };
    match api::end(&room, &token).await {
        Ok(()) | Err(ApiError::NotFound) => ended(),
        Err(e) => {
            with_ctl(|c| c.ui.notice.set(Some(e.human())));
        }
    }
}

/// Leaves the room for good (sends the leave frame).
pub fn leave() {
    if let Some(ctl) = CTL.with(|c| c.borrow_mut().take()) {
        let _ = send(&ctl, &ClientFrame::Leave);
        store::remove(&ctl.room_id);
        let ui = ctl.ui;
        drop(ctl);
        ui.lines.try_set(Vec::new());
        ui.members.try_set(Vec::new());
        ui.invite.try_set(None);
        ui.phase.try_set(Phase::Left);
    }
}

/// The tab is going away (`pagehide`) or the page leaves the room view:
/// send the leave frame. For the creator the relay ends the room only if the
/// creator does not come back within its short leave grace, which a reload of
/// this tab does (it still holds the creator token in `sessionStorage`).
pub fn teardown() {
    if let Some(ctl) = CTL.with(|c| c.borrow_mut().take()) {
        let _ = send(&ctl, &ClientFrame::Leave);
        drop(ctl);
    }
}
