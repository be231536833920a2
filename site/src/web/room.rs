//! The room page's state machine: takes the secret out of the address bar,
//! asks before joining an invite, joins through the rooms API, talks to the
//! relay, drives `vroom_e2e::Session`, and keeps the tab's identity across
//! its reconnects.
//!
//! All state that holds keys lives in one thread-local controller; the view
//! only sees signals of plain, typed values ([`Phase`], [`Line`],
//! [`MemberRow`], [`Notice`]) and chooses every word itself (`words.rs`).
//! Ending, leaving or an ended room drop the controller (the session and
//! room keys zeroize on drop) and clear the tab's `sessionStorage`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::mem::Discriminant;

use leptos::prelude::*;
use vroom_e2e::{
    DisplayName, Event, Identity, LinkError, MemberId, NameError, Outgoing, Output, RejectReason,
    RoomKeys, RoomSecret, SafetyCode, Session, SystemRng, TabMemory,
};
use vroom_shared::relay::{ClientFrame, RelayFrame, close};
use vroom_shared::{RoomId, Ticket};
use vroom_site::mention::mentions;
use vroom_site::tally::Tally;
use vroom_site::typing::{SHOW_FOR_MS, Throttle, Typists};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

use super::api::{self, ApiError};
use super::notify::{self, Permission};
use super::store::{self, Entry, Intent, Prefs, RELOAD_WINDOW_MS};
use super::util;

/// The path of the room page once the secret is out of the address bar. It
/// carries no room id, so neither the tab's history nor a page request names
/// the room.
pub const ROOM_PATH: &str = "/r";

/// How long a member the relay reported may take to verify before it is
/// dropped (a member id the relay made up, or someone who takes our chain
/// and never shows itself).
const VERIFY_TIMEOUT_MS: i32 = 15_000;
/// Each kind of refusal gets at most one line per minute.
const REFUSAL_WINDOW_MS: f64 = 60_000.0;

/// Where the page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// An invite link was opened: waiting for the person to choose a name
    /// and press Join. Nothing has been sent to the API or the relay.
    Invite {
        /// A random display name to offer.
        suggested_name: String,
    },
    /// Getting a ticket and connecting.
    Joining,
    /// In the room.
    Live,
    /// The room ended: nothing of it remains.
    Ended,
    /// The room's creator removed this tab from the room.
    Removed,
    /// This tab left the room.
    Left,
    /// The tab was closed and reopened later than a reload: it forgot the
    /// room and does not rejoin.
    Reopened,
    /// Cannot enter the room.
    Failed(Failure),
}

/// Why the page cannot enter a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The invite link was made by an older version of Vroom.
    OldLink,
    /// The invite link's secret does not match its room id.
    DamagedLink,
    /// No secret: neither in the link nor in this tab.
    NoKey,
    /// The secret this tab stored is damaged.
    DamagedKey,
    /// The display name cannot be used.
    BadName(NameError),
    /// The rooms API refused or failed.
    Api(ApiError),
    /// The relay refuses connections from this page's origin.
    RelayOrigin,
    /// The creator locked the room (the relay refused the ticket).
    Locked,
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

/// How a member is shown: its name and its discriminator (colour and first
/// safety-code group), derived from its verified keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Face {
    /// Member id.
    pub member: u32,
    /// Display name.
    pub name: String,
    /// Discriminator colour, `0..vroom_e2e::member::COLOURS`.
    pub colour: u8,
    /// First group of the safety code.
    pub group: String,
    /// Names that read alike share this key (to mark duplicates).
    pub look_alike: String,
}

impl Face {
    fn new(member: MemberId, name: &DisplayName, code: &SafetyCode) -> Self {
        Self {
            member: member.0,
            name: name.as_str().to_owned(),
            colour: code.colour(),
            group: code.first_group().to_owned(),
            look_alike: name.look_alike_key(),
        }
    }
}

/// A refused announcement or payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A member's announcement (it is not added).
    Member(RejectReason),
    /// A payload from a member.
    Payload(RejectReason),
}

/// A line the page writes into the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemLine {
    /// This tab joined under `name`.
    YouJoined {
        /// Our display name.
        name: String,
    },
    /// The relay connection came back; the safety code is unchanged.
    Reconnected,
    /// The relay connection dropped.
    ConnectionLost,
    /// A member joined and verified.
    Joined(Face),
    /// A member's tab came back with the same keys.
    Returned(Face),
    /// A tab we knew came back with other keys.
    KeyChanged {
        /// How it shows now.
        now: Face,
        /// How it showed before.
        before: Face,
        /// It claims to be this very tab.
        claims_me: bool,
    },
    /// A member left.
    Left(Face),
    /// A member the relay reported never verified and was dropped.
    Expired {
        /// Its member id.
        member: u32,
    },
    /// Our sending keys rotated after a member left.
    KeysRotated,
    /// Something was refused; `more` similar ones were not shown before.
    Refused {
        /// What and why.
        what: Refusal,
        /// Occurrences since the last line of this kind.
        more: u32,
    },
    /// The relay dropped a frame: we are sending too fast.
    SendingTooFast,
    /// The creator locked (`true`) or unlocked the room.
    LockChanged(bool),
}

/// Who wrote a line, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// This tab.
    Own {
        /// Our face.
        face: Face,
        /// The text.
        text: String,
    },
    /// Another member.
    Other {
        /// The author.
        face: Face,
        /// The text.
        text: String,
        /// The text names this tab's display name.
        mention: bool,
    },
    /// The page.
    System(SystemLine),
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Unique within the page.
    pub id: u64,
    /// What.
    pub kind: LineKind,
    /// `HH:MM`.
    pub time: String,
}

/// A row of the member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// Member id.
    pub id: u32,
    /// Name and discriminator, once verified.
    pub face: Option<Face>,
    /// Full safety code, once verified.
    pub code: Option<String>,
    /// This tab.
    pub me: bool,
}

/// A passing problem shown under the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Not connected: the message was not sent.
    NotSent,
    /// The message is over the size limit.
    TooLong,
    /// The connection dropped while sending.
    SendIncomplete,
    /// The relay could not be reached.
    RelayUnreachable,
    /// The rooms API failed while reconnecting or ending.
    Api(ApiError),
    /// The browser refused notifications (or has none).
    NotificationsRefused,
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
    /// Invite link (quick rooms only), shown on demand.
    pub invite: RwSignal<Option<String>>,
    /// Name of a named room.
    pub room_name: RwSignal<Option<String>>,
    /// A passing problem.
    pub notice: RwSignal<Option<Notice>>,
    /// Verified members typing now, in member-id order.
    pub typing: RwSignal<Vec<Face>>,
    /// The person's switches.
    pub prefs: RwSignal<Prefs>,
    /// The creator locked the room (as the relay reports).
    pub locked: RwSignal<bool>,
}

impl Ui {
    fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Joining),
            conn: RwSignal::new(Conn::Connecting),
            lines: RwSignal::new(Vec::new()),
            members: RwSignal::new(Vec::new()),
            creator: RwSignal::new(false),
            expires_at: RwSignal::new(0),
            unread: RwSignal::new(0),
            invite: RwSignal::new(None),
            room_name: RwSignal::new(None),
            notice: RwSignal::new(None),
            typing: RwSignal::new(Vec::new()),
            prefs: RwSignal::new(Prefs::default()),
            locked: RwSignal::new(false),
        }
    }

    fn system(&self, line: SystemLine) {
        self.push(LineKind::System(line));
    }

    fn push(&self, kind: LineKind) {
        let other = matches!(kind, LineKind::Other { .. });
        let line = Line {
            id: next_id(),
            kind,
            time: util::clock(),
        };
        self.lines.try_update(|lines| lines.push(line));
        if other && util::document().hidden() {
            self.unread.try_update(|n| *n += 1);
        }
    }

    /// Forgets everything shown of the room.
    fn wipe(&self) {
        self.lines.try_set(Vec::new());
        self.members.try_set(Vec::new());
        self.invite.try_set(None);
        self.notice.try_set(None);
        self.typing.try_set(Vec::new());
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

type RefusalKind = (bool, Discriminant<RejectReason>);

struct Ctl {
    keys: RoomKeys,
    entry: Entry,
    /// The tab's identity in this room, the same for every connection.
    identity: Option<Identity>,
    session: Option<Session<SystemRng>>,
    /// What the session of the previous connection knew about tabs.
    tab_memory: Option<TabMemory>,
    socket: Option<Socket>,
    /// Connection generation: callbacks and timers of older sockets are ignored.
    generation: u32,
    attempts: u32,
    /// Member ids this page had: the relay may still report an old one.
    own_ids: Vec<u32>,
    /// Faces of verified members, also after they left.
    faces: BTreeMap<u32, Face>,
    refusals: Tally<RefusalKind>,
    /// When our next typing signal may go.
    throttle: Throttle,
    /// Who is typing.
    typists: Typists,
    ui: Ui,
}

thread_local! {
    static CTL: RefCell<Option<Ctl>> = const { RefCell::new(None) };
    static OPENED_LINK: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

fn with_ctl<T>(f: impl FnOnce(&mut Ctl) -> T) -> Option<T> {
    CTL.with(|c| c.borrow_mut().as_mut().map(f))
}

fn take_ctl() -> Option<Ctl> {
    CTL.with(|c| c.borrow_mut().take())
}

/// Takes the secret out of the address bar before anything renders: an
/// invite link `/r/<id>#<S>` becomes [`ROOM_PATH`] (`history.replaceState`),
/// and its two parts wait for the room page. Called first thing in `main`.
pub fn take_link_from_address_bar() {
    let location = util::window().location();
    let path = location.pathname().unwrap_or_default();
    let hash = location.hash().unwrap_or_default();
    let Some(id) = path.strip_prefix("/r/").filter(|id| !id.is_empty()) else {
        return;
    };
    let id = id.trim_end_matches('/').to_owned();
    if let Ok(history) = util::window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(ROOM_PATH));
    }
    if !hash.is_empty() {
        OPENED_LINK.with(|l| *l.borrow_mut() = Some((id, hash)));
    }
}

/// Starts the room page: takes an opened invite link (from
/// [`take_link_from_address_bar`]) or this tab's stored entry, and either
/// asks before joining (an invite), joins, or says why it cannot.
pub fn start() -> Ui {
    let ui = Ui::new();
    drop(take_ctl());
    if let Some((id, hash)) = OPENED_LINK.with(|l| l.borrow_mut().take())
        && let Err(failure) = store_opened_link(&id, &hash)
    {
        store::clear();
        ui.phase.set(Phase::Failed(failure));
        return ui;
    }
    let Some(mut entry) = store::load() else {
        ui.phase.set(Phase::Failed(Failure::NoKey));
        return ui;
    };
    if entry
        .hidden_at
        .is_some_and(|at| js_sys::Date::now() - at > RELOAD_WINDOW_MS)
    {
        // "Reopen closed tab", a restored session: not a reload. Forget it.
        store::clear();
        ui.phase.set(Phase::Reopened);
        return ui;
    }
    entry.hidden_at = None;
    store::save(&entry);
    let Ok(secret) = RoomSecret::from_base64url(&entry.secret) else {
        store::clear();
        ui.phase.set(Phase::Failed(Failure::DamagedKey));
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
    ui.prefs.set(entry.prefs);
    let invited = entry.intent == Intent::Invited;
    if invited {
        ui.phase.set(Phase::Invite {
            suggested_name: entry.name.clone(),
        });
    }
    let identity = entry
        .identity
        .as_deref()
        .and_then(|text| Identity::from_base64url(text).ok());
    CTL.with(|c| {
        *c.borrow_mut() = Some(Ctl {
            keys,
            entry,
            identity,
            session: None,
            tab_memory: None,
            socket: None,
            generation: 0,
            attempts: 0,
            own_ids: Vec::new(),
            faces: BTreeMap::new(),
            refusals: Tally::new(REFUSAL_WINDOW_MS),
            throttle: Throttle::default(),
            typists: Typists::default(),
            ui,
        })
    });
    if !invited {
        wasm_bindgen_futures::spawn_local(connect());
    }
    ui
}

/// Checks an opened invite link and stores it as an invitation, unless this
/// tab is in that room already (e.g. its creator opened its own link).
fn store_opened_link(id: &str, hash: &str) -> Result<(), Failure> {
    let secret = vroom_e2e::parse_room_parts(id, hash).map_err(|e| match e {
        LinkError::OldVersion => Failure::OldLink,
        _ => Failure::DamagedLink,
    })?;
    let room_id = secret.derive_keys().room_id().to_base64url();
    let here = store::load().is_some_and(|e| e.room_id == room_id && e.intent != Intent::Invited);
    if !here {
        store::begin(&Entry::new(
            room_id,
            secret.to_base64url().to_string(),
            Intent::Invited,
            super::names::random_name(),
        ));
    }
    Ok(())
}

/// The person accepted the invitation under `name`: join now.
pub fn accept_invite(name: &str) -> Result<(), NameError> {
    let name = DisplayName::new(name)?;
    with_ctl(|c| {
        c.entry.intent = Intent::Join;
        c.entry.name = name.as_str().to_owned();
        store::save(&c.entry);
        c.ui.phase.set(Phase::Joining);
    });
    wasm_bindgen_futures::spawn_local(connect());
    Ok(())
}

/// The person declined the invitation: forget it.
pub fn decline_invite() {
    drop(take_ctl());
    store::clear();
}

/// The tab's identity, made on its first connection and stored for reloads.
fn identity(c: &mut Ctl) -> Identity {
    if let Some(identity) = &c.identity {
        return identity.clone();
    }
    let identity = Identity::generate(&mut SystemRng::default());
    c.entry.identity = Some(identity.to_base64url().to_string());
    store::save(&c.entry);
    c.identity = Some(identity.clone());
    identity
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
        Intent::Invited => return,
    };
    match ticket {
        Ok((ticket, relay, expires_at, token)) => {
            with_ctl(|c| {
                c.entry.intent = Intent::Join;
                if let Some(token) = token {
                    c.entry.token = Some(token.to_base64());
                    c.ui.creator.set(true);
                }
                store::save(&c.entry);
                c.ui.expires_at.set(expires_at);
                open(c, &relay, ticket);
            });
        }
        Err(ApiError::NotFound) if reconnecting => ended(),
        Err(e @ (ApiError::Network | ApiError::Server | ApiError::RateLimited(_)))
            if reconnecting =>
        {
            with_ctl(|c| c.ui.notice.set(Some(Notice::Api(e))));
            retry_later();
        }
        Err(e) => fail(Failure::Api(e)),
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
            c.ui.notice.set(Some(Notice::RelayUnreachable));
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
    let failed = with_ctl(|c| {
        if c.generation != generation {
            return None;
        }
        let out = match frame {
            RelayFrame::Welcome {
                member,
                creator,
                expires_at,
                ..
            } => return welcome(c, member, creator, expires_at).err(),
            RelayFrame::Joined { member } if c.own_ids.contains(&member) => None,
            RelayFrame::Joined { member } => {
                expire_later(generation, member);
                c.session
                    .as_mut()
                    .map(|s| s.on_member_joined(MemberId(member)))
            }
            RelayFrame::Left { member } => c
                .session
                .as_mut()
                .map(|s| s.on_member_left(MemberId(member))),
            RelayFrame::Broadcast { from, payload } | RelayFrame::Direct { from, payload } => c
                .session
                .as_mut()
                .map(|s| s.on_payload(MemberId(from), payload)),
            RelayFrame::Chunk { from, payload } => c
                .session
                .as_mut()
                .map(|s| s.on_chunk(MemberId(from), payload)),
            RelayFrame::Error { code, .. } => {
                if code == close::RATE_LIMITED {
                    c.ui.system(SystemLine::SendingTooFast);
                }
                None
            }
            RelayFrame::RoomState { locked } => {
                if c.ui.locked.get_untracked() != locked {
                    c.ui.locked.set(locked);
                    c.ui.system(SystemLine::LockChanged(locked));
                }
                None
            }
            RelayFrame::Pong { .. } | RelayFrame::Ended => None,
        };
        if let Some(out) = out {
            apply(c, out);
        }
        None
    })
    .flatten();
    if let Some(failure) = failed {
        fail(failure);
    }
}

/// The relay assigned us a member id: start a session with the tab's identity.
fn welcome(c: &mut Ctl, member: u32, creator: bool, expires_at: u64) -> Result<(), Failure> {
    let identity = identity(c);
    let mut session = Session::with_identity(
        &c.keys,
        MemberId(member),
        identity,
        &c.entry.name,
        SystemRng::default(),
    )
    .map_err(|e| match e {
        vroom_e2e::Error::DisplayName(reason) => Failure::BadName(reason),
        _ => Failure::DamagedKey,
    })?;
    if let Some(memory) = c.tab_memory.take() {
        session.recall(memory);
    }
    let me = own_face(&session);
    c.session = Some(session);
    c.own_ids.push(member);
    let first = c.own_ids.len() == 1;
    c.attempts = 0;
    c.ui.creator.set(creator);
    c.ui.expires_at.set(expires_at);
    c.ui.conn.set(Conn::Online);
    c.ui.notice.set(None);
    c.ui.phase.set(Phase::Live);
    c.ui.system(if first {
        SystemLine::YouJoined { name: me.name }
    } else {
        SystemLine::Reconnected
    });
    refresh_members(c);
    Ok(())
}

/// Drops `member` if it has not verified after [`VERIFY_TIMEOUT_MS`].
fn expire_later(generation: u32, member: u32) {
    wasm_bindgen_futures::spawn_local(async move {
        util::sleep(VERIFY_TIMEOUT_MS).await;
        with_ctl(|c| {
            if c.generation != generation {
                return;
            }
            if let Some(out) = c
                .session
                .as_mut()
                .map(|s| s.expire_unverified(MemberId(member)))
            {
                apply(c, out);
            }
        });
    });
}

/// Whether a refusal is worth telling the people in the room. Payloads
/// from members who already left and messages sent before we joined are
/// expected on every join and leave.
fn worth_a_line(what: Refusal) -> bool {
    !matches!(
        what,
        Refusal::Payload(RejectReason::SenderLeft | RejectReason::BeforeChainStart)
    )
}

fn refused(c: &mut Ctl, what: Refusal) {
    if !worth_a_line(what) {
        return;
    }
    let kind = match what {
        Refusal::Member(reason) => (true, std::mem::discriminant(&reason)),
        Refusal::Payload(reason) => (false, std::mem::discriminant(&reason)),
    };
    if let Some(more) = c.refusals.record(kind, js_sys::Date::now()) {
        c.ui.system(SystemLine::Refused { what, more });
    }
}

/// The face of a verified member (ours included).
fn face_of(c: &Ctl, member: MemberId) -> Option<Face> {
    c.faces.get(&member.0).cloned()
}

/// Sends what the session produced and shows its events.
fn apply(c: &mut Ctl, out: Output) {
    for item in out.outgoing {
        let sent = match &item {
            Outgoing::Broadcast(payload) => send(c, &ClientFrame::Broadcast { payload }),
            Outgoing::Direct { to, payload } => send(c, &ClientFrame::Direct { to: to.0, payload }),
        };
        if !sent {
            c.ui.notice.set(Some(Notice::SendIncomplete));
        }
    }
    for event in out.events {
        match event {
            Event::MemberVerified {
                member,
                name,
                safety_code,
            } => {
                let face = Face::new(member, &name, &safety_code);
                c.faces.insert(member.0, face.clone());
                c.ui.system(SystemLine::Joined(face));
            }
            Event::MemberReturned {
                member,
                previous,
                name,
                safety_code,
            } => {
                let face = Face::new(member, &name, &safety_code);
                c.faces.insert(member.0, face.clone());
                // `previous == member`: it stayed while we reconnected.
                if previous != member {
                    c.ui.system(SystemLine::Returned(face));
                }
            }
            Event::MemberKeyChanged {
                member,
                previous,
                previous_name,
                name,
                previous_code,
                safety_code,
            } => {
                let now = Face::new(member, &name, &safety_code);
                let before = Face::new(previous, &previous_name, &previous_code);
                c.faces.insert(member.0, now.clone());
                let claims_me = c.own_ids.contains(&previous.0);
                c.ui.system(SystemLine::KeyChanged {
                    now,
                    before,
                    claims_me,
                });
            }
            Event::MemberLeft { member, .. } => {
                c.typists.clear(member.0);
                if let Some(face) = face_of(c, member) {
                    c.ui.system(SystemLine::Left(face));
                }
            }
            Event::MemberExpired { member } => {
                c.ui.system(SystemLine::Expired { member: member.0 })
            }
            Event::KeysRotated { .. } => c.ui.system(SystemLine::KeysRotated),
            Event::Typing { from } => {
                c.typists.signal(from.0, js_sys::Date::now());
                expire_typing_later();
            }
            Event::Message { from, text } => {
                c.typists.clear(from.0);
                let face = face_of(c, from).unwrap_or_else(|| Face {
                    member: from.0,
                    name: String::new(),
                    colour: 0,
                    group: String::new(),
                    look_alike: String::new(),
                });
                let mention = mentions(&text, &c.entry.name);
                if util::document().hidden() {
                    alert(&c.entry.prefs, &face, &text, mention);
                }
                c.ui.push(LineKind::Other {
                    face,
                    text,
                    mention,
                });
            }
            Event::MemberRejected { reason, .. } => refused(c, Refusal::Member(reason)),
            Event::PayloadRejected { reason, .. } => refused(c, Refusal::Payload(reason)),
            Event::MemberRekeyed { .. } => {}
            // Files are not offered on this page yet: decline every offer,
            // so no chunk is taken.
            Event::FileOffered { from, file_id, .. } => {
                if let Some(session) = c.session.as_mut() {
                    session.decline_file(from, &file_id);
                }
            }
            Event::FileChunk { .. }
            | Event::FileReceived { .. }
            | Event::FileFailed { .. }
            | Event::FileSendAborted { .. } => {}
        }
    }
    refresh_members(c);
    refresh_typing(c);
}

/// A message arrived while the tab is hidden: a notification and a sound,
/// as the person chose. The text and the author's name are shown only if
/// they asked for it.
fn alert(prefs: &Prefs, face: &Face, text: &str, mention: bool) {
    if prefs.notify {
        let (title, body) =
            super::words::notification(prefs.notify_text, &face.name, text, mention);
        notify::show(&title, &body);
    }
    if prefs.sound {
        notify::chime();
    }
}

/// Shows who is typing (verified members only).
fn refresh_typing(c: &Ctl) {
    let faces: Vec<Face> = c
        .typists
        .members()
        .into_iter()
        .filter_map(|m| face_of(c, MemberId(m)))
        .collect();
    if c.ui.typing.with_untracked(|now| *now != faces) {
        c.ui.typing.set(faces);
    }
}

/// Forgets typing signals whose time ran out, once they may have.
fn expire_typing_later() {
    wasm_bindgen_futures::spawn_local(async {
        util::sleep(SHOW_FOR_MS as i32 + 50).await;
        with_ctl(|c| {
            if c.typists.expire(js_sys::Date::now()) {
                refresh_typing(c);
            }
        });
    });
}

fn own_face(session: &Session<SystemRng>) -> Face {
    Face::new(
        session.my_id(),
        session.my_name(),
        &session.my_safety_code(),
    )
}

fn refresh_members(c: &Ctl) {
    let Some(session) = &c.session else {
        c.ui.members.set(Vec::new());
        return;
    };
    let mut rows = vec![MemberRow {
        id: session.my_id().0,
        face: Some(own_face(session)),
        code: Some(session.my_safety_code().as_str().to_owned()),
        me: true,
    }];
    rows.extend(session.members().into_iter().map(|m| {
        let face = match (&m.name, &m.safety_code) {
            (Some(name), Some(code)) => Some(Face::new(m.id, name, code)),
            _ => None,
        };
        MemberRow {
            id: m.id.0,
            face,
            code: m.name.and(m.safety_code).map(|s| s.as_str().to_owned()),
            me: false,
        }
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
        close::REMOVED => finish(Phase::Removed),
        close::ROOM_LOCKED => fail(Failure::Locked),
        close::ROOM_FULL => fail(Failure::Api(ApiError::Full)),
        close::BAD_ORIGIN => fail(Failure::RelayOrigin),
        close::NORMAL => {}
        _ => {
            with_ctl(|c| {
                c.socket = None;
                c.tab_memory = c.session.take().map(|s| s.tab_memory());
                c.ui.members.set(Vec::new());
                c.typists = Typists::default();
                c.ui.typing.set(Vec::new());
                if c.ui.conn.get_untracked() == Conn::Online {
                    c.ui.system(SystemLine::ConnectionLost);
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

fn fail(failure: Failure) {
    if let Some(ctl) = take_ctl() {
        store::clear();
        let ui = ctl.ui;
        drop(ctl);
        ui.wipe();
        ui.phase.set(Phase::Failed(failure));
    }
}

/// Drops every key of the room and what the page showed of it, clears the
/// tab's storage, and shows `phase`.
fn finish(phase: Phase) {
    if let Some(ctl) = take_ctl() {
        store::clear();
        let ui = ctl.ui;
        drop(ctl);
        ui.wipe();
        ui.phase.try_set(phase);
    }
}

/// The room is over: show it and drop every key of it.
pub fn ended() {
    finish(Phase::Ended);
}

/// Encrypts and sends a message; `false` (with a notice) when it could not.
pub fn send_text(text: &str) -> bool {
    with_ctl(|c| {
        let online = c
            .socket
            .as_ref()
            .is_some_and(|s| s.ws.ready_state() == web_sys::WebSocket::OPEN);
        let Some(session) = c.session.as_mut().filter(|_| online) else {
            c.ui.notice.set(Some(Notice::NotSent));
            return false;
        };
        match session.send_text(text) {
            Ok(out) => {
                let face = own_face(session);
                c.throttle.reset();
                c.ui.push(LineKind::Own {
                    face,
                    text: text.to_owned(),
                });
                c.ui.notice.set(None);
                apply(c, out);
                true
            }
            Err(_) => {
                c.ui.notice.set(Some(Notice::TooLong));
                false
            }
        }
    })
    .unwrap_or(false)
}

/// The person is writing: send a typing signal, unless they switched them
/// off, one went out less than [`vroom_site::typing::SEND_EVERY_MS`] ago, or
/// the page is offline (a lost signal is not worth a notice).
pub fn composing() {
    with_ctl(|c| {
        let online = c
            .socket
            .as_ref()
            .is_some_and(|s| s.ws.ready_state() == web_sys::WebSocket::OPEN);
        if !online || !c.entry.prefs.send_typing || !c.throttle.allow(js_sys::Date::now()) {
            return;
        }
        if let Some(Ok(out)) = c.session.as_mut().map(Session::send_typing) {
            apply(c, out);
        }
    });
}

/// Changes the person's switches (kept with the tab's entry).
pub fn set_prefs(prefs: Prefs) {
    with_ctl(|c| {
        c.entry.prefs = prefs;
        store::save(&c.entry);
        c.ui.prefs.set(prefs);
    });
}

/// The person switched notifications on (a click): ask the browser, and
/// switch them off again with a notice if it refuses.
pub async fn enable_notifications() {
    if notify::ask().await == Permission::Granted {
        return;
    }
    with_ctl(|c| {
        c.entry.prefs.notify = false;
        store::save(&c.entry);
        c.ui.prefs.set(c.entry.prefs);
        c.ui.notice.set(Some(Notice::NotificationsRefused));
    });
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
            with_ctl(|c| c.ui.notice.set(Some(Notice::Api(e))));
        }
    }
}

/// Locks or unlocks the room (creator only); members hear it from the relay.
pub async fn set_locked(locked: bool) {
    let Some((room, Some(token))) =
        with_ctl(|c| (*c.keys.room_id().as_bytes(), c.entry.token.clone()))
    else {
        return;
    };
    let result = api::lock(&room, &token, locked).await;
    with_ctl(|c| match result {
        Ok(now) => c.ui.locked.set(now),
        Err(e) => c.ui.notice.set(Some(Notice::Api(e))),
    });
}

/// Removes a member from the room (creator only): the room locks, the relay
/// closes its connection and tells everyone it left, and every member's
/// keys rotate.
pub async fn remove_member(member: u32) {
    let Some((room, Some(token))) =
        with_ctl(|c| (*c.keys.room_id().as_bytes(), c.entry.token.clone()))
    else {
        return;
    };
    let result = api::remove(&room, &token, member).await;
    with_ctl(|c| match result {
        Ok(now) => c.ui.locked.set(now),
        Err(e) => c.ui.notice.set(Some(Notice::Api(e))),
    });
}

/// Leaves the room for good (sends the leave frame).
pub fn leave() {
    with_ctl(|c| send(c, &ClientFrame::Leave));
    finish(Phase::Left);
}

/// The page is going away (`pagehide`: reload, closed tab, back/forward
/// cache) or the person navigated off the room page: send the leave frame,
/// drop every key, wipe the conversation from the page (so no cache keeps
/// it) and note the time, so that a load of this tab later than a reload
/// does not rejoin. For the creator the relay ends the room unless it comes
/// back within its leave grace, which a reload does.
pub fn page_hidden() {
    if let Some(ctl) = take_ctl() {
        let _ = send(&ctl, &ClientFrame::Leave);
        // Stamp what is stored (every change was saved when it happened).
        if let Some(mut entry) = store::load() {
            entry.hidden_at = Some(js_sys::Date::now());
            store::save(&entry);
        }
        let ui = ctl.ui;
        drop(ctl);
        ui.wipe();
        ui.phase.try_set(Phase::Joining);
    }
}
