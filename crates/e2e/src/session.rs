//! The group state machine of one member in one room.
//!
//! The relay reports members joining and leaving (by member id) and delivers
//! payloads tagged with the sender's member id; [`Session`] turns each of
//! these into [`Event`]s for the page and [`Outgoing`] payloads for the relay.
//!
//! Rules (see `docs/PROTOCOL.md`, "Group protocol"):
//! - on *member N joined*: send our announcement directly to N;
//! - on a valid announcement from N: send our current chain position to N;
//! - on a chain distribution from N: N is verified (first time) or rekeyed;
//!   a first grant whose tab id we saw before tells whether that tab came
//!   back with the same keys or with other keys (a warning);
//! - on *member N left*, or when the page gives up on a member that never
//!   verified: forget N; if N held our current chain, start a new chain and
//!   send it to every remaining announced member;
//! - payloads that cannot be handled yet (sender not joined or not announced,
//!   or a message under a chain not received yet) wait in a bounded queue;
//! - files (§7.2, §7.3): an offer is a message; the page accepts or declines
//!   it, then feeds the relay's chunk frames to [`Session::on_chunk`]. When a
//!   member we offered a file to leaves, our chain rotates and the transfer
//!   stops ([`Event::FileSendAborted`]), as no message after a leave is
//!   readable by the member who left.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand_core::CryptoRng;

use crate::chain::{MessageKey, RecvChain, SendChain};
use crate::distribution::{ChainGrant, open_distribution, seal_distribution};
use crate::error::{DecodeError, Error, RejectReason};
use crate::file::{FileError, FileId, FileMeta, FileOffer, IncomingFile, OutgoingFile};
use crate::member::{
    DisplayName, Identity, MemberKeys, PeerKeys, SafetyCode, TabId, open_announcement,
};
use crate::message::{
    Content, MAX_TEXT_LEN, decrypt_message, seal_content, seal_message, seal_typing, unpad,
    verify_message,
};
use crate::schedule::{RoomId, RoomKeys};
use crate::wire::{self, MemberId, Payload};

/// Most payloads waiting for their sender's join, announcement or chain.
pub const MAX_PENDING: usize = 128;
/// Most tabs remembered (present or departed) to recognise their return.
pub const MAX_KNOWN_TABS: usize = 256;
/// Most offers waiting for the page to accept or decline them (the oldest
/// is forgotten beyond).
pub const MAX_OFFERS: usize = 32;
/// Most files received at once.
pub const MAX_DOWNLOADS: usize = 8;
/// Most files sent at once.
pub const MAX_UPLOADS: usize = 4;

/// A payload for the relay to carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// To every other member of the room.
    Broadcast(Vec<u8>),
    /// To one member.
    Direct {
        /// The recipient's member id.
        to: MemberId,
        /// The payload.
        payload: Vec<u8>,
    },
}

/// Something the page should show or know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A member's announcement verified and its first chain arrived: it can
    /// be shown with its name and safety code, and its messages decrypt.
    /// Its tab is new to us.
    MemberVerified {
        /// The member.
        member: MemberId,
        /// Its display name.
        name: DisplayName,
        /// Its safety code.
        safety_code: SafetyCode,
    },
    /// A member verified as [`Event::MemberVerified`], from a tab we knew
    /// under an earlier member id, with the same keys: the tab reconnected,
    /// its safety code is unchanged. If the earlier member id was still
    /// present it is forgotten (it is the same tab's stale connection).
    /// `previous == member` when the member stayed and *we* reconnected
    /// ([`Session::recall`]).
    MemberReturned {
        /// The new member id.
        member: MemberId,
        /// The tab's earlier member id.
        previous: MemberId,
        /// Its display name.
        name: DisplayName,
        /// Its safety code (the same as before).
        safety_code: SafetyCode,
    },
    /// A member verified from a tab we knew under an earlier member id (or
    /// from our own tab id) with *other* keys: its safety code changed, so
    /// the people in the room should compare codes again. Both members stay.
    MemberKeyChanged {
        /// The new member id.
        member: MemberId,
        /// The earlier member id of that tab (our own id if it claims our tab).
        previous: MemberId,
        /// The name the tab had.
        previous_name: DisplayName,
        /// The name it has now.
        name: DisplayName,
        /// The code the tab had.
        previous_code: SafetyCode,
        /// Its new safety code.
        safety_code: SafetyCode,
    },
    /// A member's announcement was refused (e.g. no valid MAC: someone
    /// without the room secret, such as the server, tried to add a member).
    MemberRejected {
        /// The member id the relay reported.
        member: MemberId,
        /// Why.
        reason: RejectReason,
    },
    /// A member left (as reported by the relay).
    MemberLeft {
        /// The member.
        member: MemberId,
        /// Its display name, if it was verified.
        name: Option<DisplayName>,
    },
    /// The page gave up on a member that never verified
    /// ([`Session::expire_unverified`]): it is forgotten like a member that
    /// left, and its later payloads are refused.
    MemberExpired {
        /// The member.
        member: MemberId,
    },
    /// A message from a verified member.
    Message {
        /// The sender.
        from: MemberId,
        /// The text.
        text: String,
    },
    /// A verified member is typing ([`Session::send_typing`]): show it for a
    /// few seconds, or until a [`Event::Message`] from it arrives.
    Typing {
        /// The member.
        from: MemberId,
    },
    /// We started a new sending chain (after a member who held our chain left).
    KeysRotated {
        /// The new chain id.
        chain_id: u32,
    },
    /// A verified member sent us a new chain.
    MemberRekeyed {
        /// The member.
        member: MemberId,
        /// Its new chain id.
        chain_id: u32,
    },
    /// A verified member offers a file. Call [`Session::accept_file`] (or
    /// [`Session::decline_file`]) before the next chunk is fed: chunks of an
    /// offer not accepted are ignored.
    FileOffered {
        /// The sender.
        from: MemberId,
        /// The file's id.
        file_id: FileId,
        /// Its name as the sender declared it (show bidi-isolated; sanitise
        /// before using it as a download name).
        name: String,
        /// Its MIME type as the sender declared it (never trusted for rendering).
        mime: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The next chunk of an accepted file, authentic and in order. The data
    /// must not be shown or saved before [`Event::FileReceived`]: only that
    /// proves the whole file is the one offered.
    FileChunk {
        /// The sender.
        from: MemberId,
        /// The file.
        file_id: FileId,
        /// The chunk's index (0, 1, …).
        index: u32,
        /// Its bytes.
        data: Vec<u8>,
    },
    /// The file's last chunk arrived and the SHA-256 of all of its chunks is
    /// the offer's: the chunks, in order, are the file.
    FileReceived {
        /// The sender.
        from: MemberId,
        /// The file.
        file_id: FileId,
    },
    /// An offered or accepted file stopped (tampered, out of order,
    /// truncated, cancelled, sender gone…): drop what arrived of it.
    FileFailed {
        /// The sender.
        from: MemberId,
        /// The file.
        file_id: FileId,
        /// Why.
        error: FileError,
    },
    /// A member we offered a file to left, so our chain rotated and this
    /// transfer stopped (the receivers were told it was cancelled). Offer
    /// it again to continue under a key the departed member never had.
    FileSendAborted {
        /// The file.
        file_id: FileId,
    },
    /// A payload was refused or dropped.
    PayloadRejected {
        /// The member id the relay reported as sender.
        from: MemberId,
        /// Why.
        reason: RejectReason,
    },
}

/// What one call produced: events for the page, payloads for the relay (in order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Events, in order.
    pub events: Vec<Event>,
    /// Payloads to send, in order.
    pub outgoing: Vec<Outgoing>,
}

/// What the page may show about another member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// The member id.
    pub id: MemberId,
    /// The display name, once verified.
    pub name: Option<DisplayName>,
    /// The safety code, once its announcement verified.
    pub safety_code: Option<SafetyCode>,
}

#[derive(Debug, Default)]
struct Peer {
    keys: Option<PeerKeys>,
    safety_code: Option<SafetyCode>,
    name: Option<DisplayName>,
    current: Option<RecvChain>,
    previous: Option<RecvChain>,
    holds_my_chain: bool,
}

/// What we remember of a tab after its first grant, to recognise it under a
/// later member id.
#[derive(Debug, Clone)]
struct KnownTab {
    member: MemberId,
    keys: PeerKeys,
    name: DisplayName,
    safety_code: SafetyCode,
}

enum Outcome {
    Deferred,
    Handled { progressed: bool },
}

/// The tabs a session knew, carried into the session of the same tab's next
/// connection ([`Session::tab_memory`], [`Session::recall`]), so a member
/// whose keys changed while we were away is still announced, and members
/// who stayed are recognised.
#[derive(Debug, Clone, Default)]
pub struct TabMemory {
    tabs: BTreeMap<TabId, KnownTab>,
    order: VecDeque<TabId>,
}

/// The production RNG: the operating system's / browser's CSPRNG via `getrandom`.
pub type SystemRng = rand_core::UnwrapErr<getrandom::SysRng>;

/// One member's end-to-end state in one room. Secrets are zeroized on drop.
pub struct Session<R: CryptoRng> {
    rng: R,
    room: RoomKeys,
    my_id: MemberId,
    identity: Identity,
    name: DisplayName,
    announcement: Vec<u8>,
    send: Option<SendChain>,
    peers: BTreeMap<MemberId, Peer>,
    departed: BTreeSet<MemberId>,
    pending: VecDeque<(MemberId, Vec<u8>)>,
    /// Tabs seen (our own included).
    known: TabMemory,
    /// Files we are sending.
    uploads: BTreeMap<FileId, OutgoingFile>,
    /// Offers received and not yet accepted or declined, oldest first.
    offers: VecDeque<(MemberId, FileOffer)>,
    /// Files we are receiving.
    downloads: BTreeMap<(MemberId, FileId), IncomingFile>,
}

impl<R: CryptoRng> core::fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("room_id", &self.room.room_id())
            .field("my_id", &self.my_id)
            .field("members", &self.peers.keys().collect::<Vec<_>>())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Session<SystemRng> {
    /// Starts a session with the system CSPRNG (`crypto.getRandomValues` in a browser).
    pub fn with_system_rng(
        room: &RoomKeys,
        my_id: MemberId,
        display_name: &str,
    ) -> Result<Self, Error> {
        Self::new(
            room,
            my_id,
            display_name,
            rand_core::UnwrapErr(getrandom::SysRng),
        )
    }
}

impl<R: CryptoRng> Session<R> {
    /// Starts a session for member `my_id` (assigned by the relay) with a
    /// fresh identity ([`Identity::generate`]) and a first sending chain.
    ///
    /// Then call [`Session::on_member_joined`] for every member already in
    /// the room and for every later join.
    pub fn new(
        room: &RoomKeys,
        my_id: MemberId,
        display_name: &str,
        mut rng: R,
    ) -> Result<Self, Error> {
        let identity = Identity::generate(&mut rng);
        Self::with_identity(room, my_id, identity, display_name, rng)
    }

    /// Starts a session for member `my_id` with the tab's identity (kept
    /// across its reconnects, so its safety code stays the same) and a first
    /// sending chain (id 0, fresh key).
    pub fn with_identity(
        room: &RoomKeys,
        my_id: MemberId,
        identity: Identity,
        display_name: &str,
        mut rng: R,
    ) -> Result<Self, Error> {
        let name = DisplayName::new(display_name)?;
        let send = SendChain::new(0, &mut rng);
        let announcement = identity.keys().announcement(room, my_id);
        let mut session = Self {
            rng,
            room: room.clone(),
            my_id,
            identity,
            name,
            announcement,
            send: Some(send),
            peers: BTreeMap::new(),
            departed: BTreeSet::new(),
            pending: VecDeque::new(),
            known: TabMemory::default(),
            uploads: BTreeMap::new(),
            offers: VecDeque::new(),
            downloads: BTreeMap::new(),
        };
        let me = KnownTab {
            member: my_id,
            keys: session.identity.keys().public(),
            name: session.name.clone(),
            safety_code: session.my_safety_code(),
        };
        session.remember_tab(session.identity.tab(), me);
        Ok(session)
    }

    /// Our member id.
    pub fn my_id(&self) -> MemberId {
        self.my_id
    }

    /// The room id.
    pub fn room_id(&self) -> RoomId {
        self.room.room_id()
    }

    /// Our display name.
    pub fn my_name(&self) -> &DisplayName {
        &self.name
    }

    /// Our safety code (what others see next to our name).
    pub fn my_safety_code(&self) -> SafetyCode {
        self.identity.keys().safety_code(&self.room.room_id())
    }

    /// What this session knows about tabs, for the session of our next connection.
    pub fn tab_memory(&self) -> TabMemory {
        self.known.clone()
    }

    /// Takes in what the session of our previous connection knew about
    /// tabs (call right after starting, before any member joins). Our own
    /// entry stays the current one.
    pub fn recall(&mut self, memory: TabMemory) {
        for tab in memory.order {
            if let Some(record) = memory.tabs.get(&tab)
                && !self.known.tabs.contains_key(&tab)
            {
                self.remember_tab(tab, record.clone());
            }
        }
    }

    /// Our current sending chain id, or `None` if no chain id is left.
    pub fn chain_id(&self) -> Option<u32> {
        self.send.as_ref().map(SendChain::id)
    }

    /// Number of payloads waiting (for a join, an announcement or a chain).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The other members present, in member-id order.
    pub fn members(&self) -> Vec<MemberInfo> {
        self.peers
            .iter()
            .map(|(id, p)| MemberInfo {
                id: *id,
                name: p.name.clone(),
                safety_code: p.safety_code.clone(),
            })
            .collect()
    }

    /// The relay reports that member `id` is in the room (joined now or
    /// already there when we connected). Sends it our announcement.
    pub fn on_member_joined(&mut self, id: MemberId) -> Output {
        let mut out = Output::default();
        if id == self.my_id || self.peers.contains_key(&id) {
            return out;
        }
        if self.departed.contains(&id) {
            out.events.push(Event::MemberRejected {
                member: id,
                reason: RejectReason::MemberIdReused,
            });
            return out;
        }
        self.peers.insert(id, Peer::default());
        out.outgoing.push(Outgoing::Direct {
            to: id,
            payload: self.announcement.clone(),
        });
        self.drain_pending(&mut out);
        out
    }

    /// The relay reports that member `id` left. Forgets it and, if it held
    /// our current chain, starts a new chain for the remaining members.
    pub fn on_member_left(&mut self, id: MemberId) -> Output {
        let mut out = Output::default();
        if id == self.my_id {
            return out;
        }
        if let Some(peer) = self.forget(id, &mut out) {
            out.events.push(Event::MemberLeft {
                member: id,
                name: peer.name.clone(),
            });
            if peer.holds_my_chain {
                self.rotate(&mut out);
            }
            self.abort_uploads_to(id, &mut out);
        }
        out
    }

    /// Gives up on member `id` if it is present but has not verified (no
    /// chain distribution accepted), e.g. some time after the relay reported
    /// it: a member id the relay made up, or a member that takes our chain
    /// and never shows itself. It is forgotten like a member that left (our
    /// chain rotates if it held it) and [`Event::MemberExpired`] is raised.
    /// Does nothing for a verified or unknown member.
    pub fn expire_unverified(&mut self, id: MemberId) -> Output {
        let mut out = Output::default();
        if self.peers.get(&id).is_none_or(|p| p.name.is_some()) {
            return out;
        }
        if let Some(peer) = self.forget(id, &mut out) {
            out.events.push(Event::MemberExpired { member: id });
            if peer.holds_my_chain {
                self.rotate(&mut out);
            }
            self.abort_uploads_to(id, &mut out);
        }
        out
    }

    /// Marks `id` departed, refuses its waiting payloads and removes it.
    fn forget(&mut self, id: MemberId, out: &mut Output) -> Option<Peer> {
        self.departed.insert(id);
        let mut kept = VecDeque::with_capacity(self.pending.len());
        for (from, bytes) in self.pending.drain(..) {
            if from == id {
                out.events.push(Event::PayloadRejected {
                    from,
                    reason: RejectReason::SenderLeft,
                });
            } else {
                kept.push_back((from, bytes));
            }
        }
        self.pending = kept;
        self.drop_files_from(id, out);
        self.peers.remove(&id)
    }

    /// Forgets the offers and downloads of member `id`, which left.
    fn drop_files_from(&mut self, id: MemberId, out: &mut Output) {
        let mut gone: Vec<FileId> = Vec::new();
        self.offers.retain(|(from, offer)| {
            let keep = *from != id;
            if !keep {
                gone.push(offer.file_id);
            }
            keep
        });
        let downloads: Vec<(MemberId, FileId)> = self
            .downloads
            .range((id, FileId([0; 16]))..=(id, FileId([0xFF; 16])))
            .map(|(k, _)| *k)
            .collect();
        for key in downloads {
            self.downloads.remove(&key);
            gone.push(key.1);
        }
        for file_id in gone {
            out.events.push(Event::FileFailed {
                from: id,
                file_id,
                error: FileError::SenderLeft,
            });
        }
    }

    /// Stops our transfers offered to `id` (which left; our chain rotated):
    /// the rest of them would be readable with a key it holds. The others
    /// are told the file was cancelled, under the new chain.
    fn abort_uploads_to(&mut self, id: MemberId, out: &mut Output) {
        let aborted: Vec<FileId> = self
            .uploads
            .values()
            .filter(|u| u.offered_to(id))
            .map(OutgoingFile::file_id)
            .collect();
        for file_id in aborted {
            self.uploads.remove(&file_id);
            out.events.push(Event::FileSendAborted { file_id });
            if let Ok(more) = self.send_content(&Content::FileCancel(file_id)) {
                out.events.extend(more.events);
                out.outgoing.extend(more.outgoing);
            }
        }
    }

    /// Remembers a tab's verified record, forgetting the oldest beyond
    /// [`MAX_KNOWN_TABS`].
    fn remember_tab(&mut self, tab: TabId, record: KnownTab) {
        let known = &mut self.known;
        if known.tabs.insert(tab, record).is_none() {
            known.order.push_back(tab);
            if known.order.len() > MAX_KNOWN_TABS
                && let Some(oldest) = known.order.pop_front()
            {
                known.tabs.remove(&oldest);
            }
        }
    }

    /// Handles a payload the relay delivered from member `from`.
    pub fn on_payload(&mut self, from: MemberId, bytes: &[u8]) -> Output {
        let mut out = Output::default();
        if from == self.my_id {
            out.events.push(Event::PayloadRejected {
                from,
                reason: RejectReason::FromSelf,
            });
            return out;
        }
        if self.departed.contains(&from) {
            out.events.push(Event::PayloadRejected {
                from,
                reason: RejectReason::SenderLeft,
            });
            return out;
        }
        match self.process(from, bytes, &mut out) {
            Outcome::Deferred => self.enqueue(from, bytes.to_vec(), &mut out),
            Outcome::Handled { progressed: true } => self.drain_pending(&mut out),
            Outcome::Handled { progressed: false } => {}
        }
        out
    }

    /// Encrypts and signs a text message for every member holding our chain.
    ///
    /// Fails only for text over [`MAX_TEXT_LEN`] bytes, or if no chain id is left.
    pub fn send_text(&mut self, text: &str) -> Result<Output, Error> {
        if text.len() > MAX_TEXT_LEN {
            return Err(Error::MessageTooLong { max: MAX_TEXT_LEN });
        }
        self.send_frame(|room_id, me, keys, chain_id, index, key| {
            seal_message(room_id, me, keys, chain_id, index, key, text)
        })
    }

    /// Encrypts and signs a typing signal for every member holding our
    /// chain: a message frame of the size of a short text, so the relay
    /// cannot tell the two apart. The page decides when (throttled, and
    /// only if the person agreed to show it).
    ///
    /// Fails only if no chain id is left.
    pub fn send_typing(&mut self) -> Result<Output, Error> {
        self.send_frame(seal_typing)
    }

    /// Offers a file to every member holding our chain: a message carrying
    /// its metadata, SHA-256 and a fresh random key (§7.2). Then send its
    /// chunks with [`Session::file_chunk`], in order.
    ///
    /// Fails for a name or type the protocol refuses, a file over
    /// [`crate::file::MAX_FILE_SIZE`], more than [`MAX_UPLOADS`] files at
    /// once, or no chain id left.
    pub fn offer_file(&mut self, meta: &FileMeta<'_>) -> Result<(Output, FileId), Error> {
        if self.uploads.len() >= MAX_UPLOADS {
            return Err(Error::TooManyFiles { max: MAX_UPLOADS });
        }
        let offer = FileOffer::new(meta, &mut self.rng)?;
        let file_id = offer.file_id;
        let out = self.send_content(&Content::FileOffer(Box::new(offer.clone())))?;
        // Who can read the offer: everyone we sent our current chain to.
        let recipients = self
            .peers
            .iter()
            .filter(|(_, p)| p.holds_my_chain)
            .map(|(id, _)| *id)
            .collect();
        self.uploads
            .insert(file_id, OutgoingFile::new(&offer, recipients));
        Ok((out, file_id))
    }

    /// Bytes the next chunk of an offered file must hold: the offer's chunk
    /// size ([`crate::file::CHUNK_SIZE`]), the rest for the last one;
    /// `None` for a file not being sent.
    pub fn file_next_len(&self, file_id: &FileId) -> Option<usize> {
        self.uploads.get(file_id).map(OutgoingFile::next_len)
    }

    /// Seals the next chunk of a file we offered; `data` must be
    /// [`Session::file_next_len`] bytes. Returns the payload of a relay
    /// chunk frame (`ClientFrame::Chunk`). After the last chunk the file is
    /// forgotten.
    ///
    /// Fails with [`Error::UnknownFile`] for a file not being sent (never
    /// offered, done, cancelled or aborted: see [`Event::FileSendAborted`]).
    pub fn file_chunk(&mut self, file_id: &FileId, data: &[u8]) -> Result<Vec<u8>, Error> {
        let room_id = self.room.room_id();
        let upload = self.uploads.get_mut(file_id).ok_or(Error::UnknownFile)?;
        let chunk = upload.next_chunk(&room_id, self.my_id, data)?;
        if upload.is_done() {
            self.uploads.remove(file_id);
        }
        Ok(chunk)
    }

    /// Stops sending a file and tells the receivers (a message).
    pub fn cancel_file(&mut self, file_id: &FileId) -> Result<Output, Error> {
        self.uploads.remove(file_id).ok_or(Error::UnknownFile)?;
        self.send_content(&Content::FileCancel(*file_id))
    }

    /// Accepts an offer ([`Event::FileOffered`]) of at most `limit` bytes:
    /// its chunks are taken from now on. Refused if larger
    /// ([`FileError::TooLarge`]), unknown, or with [`MAX_DOWNLOADS`] files
    /// already coming in.
    pub fn accept_file(
        &mut self,
        from: MemberId,
        file_id: &FileId,
        limit: u64,
    ) -> Result<(), FileError> {
        let at = self
            .offers
            .iter()
            .position(|(f, o)| *f == from && o.file_id == *file_id)
            .ok_or(FileError::UnknownFile)?;
        if self.downloads.len() >= MAX_DOWNLOADS {
            return Err(FileError::TooMany);
        }
        let offer = self.offers.remove(at).ok_or(FileError::UnknownFile)?.1;
        let incoming = IncomingFile::accept(from, &offer, limit)?;
        self.downloads.insert((from, *file_id), incoming);
        Ok(())
    }

    /// Declines an offer, or stops receiving a file: its chunks are ignored.
    pub fn decline_file(&mut self, from: MemberId, file_id: &FileId) {
        self.offers
            .retain(|(f, o)| !(*f == from && o.file_id == *file_id));
        self.downloads.remove(&(from, *file_id));
    }

    /// Handles a payload the relay delivered in a chunk frame from member
    /// `from`. Chunks of files not accepted (declined, failed, offered
    /// before we joined) are ignored without an event.
    pub fn on_chunk(&mut self, from: MemberId, bytes: &[u8]) -> Output {
        let mut out = Output::default();
        let reason = if from == self.my_id {
            Some(RejectReason::FromSelf)
        } else if self.departed.contains(&from) {
            Some(RejectReason::SenderLeft)
        } else {
            None
        };
        if let Some(reason) = reason {
            out.events.push(Event::PayloadRejected { from, reason });
            return out;
        }
        let frame = match wire::decode(bytes) {
            Ok(Payload::Chunk(frame)) => frame,
            Ok(_) => {
                reject(&mut out, from, DecodeError::Lane.into());
                return out;
            }
            Err(e) => {
                reject(&mut out, from, e.into());
                return out;
            }
        };
        if frame.sender != from {
            reject(&mut out, from, RejectReason::SenderMismatch);
            return out;
        }
        let key = (from, FileId(*frame.file_id));
        let Some(incoming) = self.downloads.get_mut(&key) else {
            return out;
        };
        let file_id = key.1;
        match incoming.feed(&self.room.room_id(), &frame) {
            Ok(fed) => {
                out.events.push(Event::FileChunk {
                    from,
                    file_id,
                    index: frame.index,
                    data: fed.data.to_vec(),
                });
                if fed.complete {
                    self.downloads.remove(&key);
                    out.events.push(Event::FileReceived { from, file_id });
                }
            }
            Err(error) => {
                self.downloads.remove(&key);
                out.events.push(Event::FileFailed {
                    from,
                    file_id,
                    error,
                });
            }
        }
        out
    }

    /// Broadcasts one message carrying `content`.
    fn send_content(&mut self, content: &Content) -> Result<Output, Error> {
        self.send_frame(|room_id, me, keys, chain_id, index, key| {
            seal_content(room_id, me, keys, chain_id, index, key, content)
        })
    }

    /// Advances our chain by one message key and broadcasts what `seal` makes with it.
    fn send_frame(
        &mut self,
        seal: impl FnOnce(
            &RoomId,
            MemberId,
            &MemberKeys,
            u32,
            u32,
            &MessageKey,
        ) -> Result<Vec<u8>, Error>,
    ) -> Result<Output, Error> {
        let mut out = Output::default();
        if self.send.as_ref().is_some_and(SendChain::is_exhausted) {
            self.rotate(&mut out);
        }
        let send = self.send.as_mut().ok_or(Error::ChainIdsExhausted)?;
        let chain_id = send.id();
        let (index, key) = send.advance().ok_or(Error::ChainIdsExhausted)?;
        let frame = seal(
            &self.room.room_id(),
            self.my_id,
            self.identity.keys(),
            chain_id,
            index,
            &key,
        )?;
        out.outgoing.push(Outgoing::Broadcast(frame));
        Ok(out)
    }

    /// Starts a new sending chain and seals it to every announced member.
    fn rotate(&mut self, out: &mut Output) {
        let next_id = self.send.as_ref().and_then(|s| s.id().checked_add(1));
        let Some(next_id) = next_id else {
            // No chain id left: stop sending rather than reuse a chain a former member holds.
            self.send = None;
            return;
        };
        self.send = Some(SendChain::new(next_id, &mut self.rng));
        let ids: Vec<MemberId> = self.peers.keys().copied().collect();
        for id in ids {
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.holds_my_chain = false;
            }
            self.send_chain_to(id, out);
        }
        out.events.push(Event::KeysRotated { chain_id: next_id });
    }

    /// Seals our current chain position to an announced member.
    fn send_chain_to(&mut self, id: MemberId, out: &mut Output) {
        let Some(send) = self.send.as_ref() else {
            return;
        };
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(keys) = peer.keys.as_ref() else {
            return;
        };
        let grant = ChainGrant {
            chain_id: send.id(),
            index: send.index(),
            chain_key: send.key().clone(),
            tab: self.identity.tab(),
            name: self.name.clone(),
        };
        match seal_distribution(
            &self.room,
            self.my_id,
            self.identity.keys(),
            id,
            keys,
            &grant,
            &mut self.rng,
        ) {
            Ok(payload) => {
                peer.holds_my_chain = true;
                out.outgoing.push(Outgoing::Direct { to: id, payload });
            }
            Err(_) => out.events.push(Event::MemberRejected {
                member: id,
                reason: RejectReason::InvalidKey,
            }),
        }
    }

    fn enqueue(&mut self, from: MemberId, bytes: Vec<u8>, out: &mut Output) {
        if self.pending.len() >= MAX_PENDING
            && let Some((dropped, _)) = self.pending.pop_front()
        {
            out.events.push(Event::PayloadRejected {
                from: dropped,
                reason: RejectReason::QueueOverflow,
            });
        }
        self.pending.push_back((from, bytes));
    }

    /// Retries waiting payloads until a pass makes no progress.
    fn drain_pending(&mut self, out: &mut Output) {
        loop {
            let mut progressed = false;
            let queue = core::mem::take(&mut self.pending);
            for (from, bytes) in queue {
                match self.process(from, &bytes, out) {
                    Outcome::Deferred => self.pending.push_back((from, bytes)),
                    Outcome::Handled { progressed: p } => progressed |= p,
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn process(&mut self, from: MemberId, bytes: &[u8], out: &mut Output) -> Outcome {
        let payload = match wire::decode(bytes) {
            Ok(p) => p,
            Err(e) => return reject(out, from, e.into()),
        };
        if !self.peers.contains_key(&from) {
            return Outcome::Deferred;
        }
        match payload {
            Payload::Announcement(_) => self.on_announcement(from, bytes, out),
            Payload::Distribution(_) => self.on_distribution(from, bytes, out),
            Payload::Message(frame) => self.on_message(from, &frame, out),
            Payload::Chunk(_) => reject(out, from, DecodeError::Lane.into()),
        }
    }

    fn on_announcement(&mut self, from: MemberId, bytes: &[u8], out: &mut Output) -> Outcome {
        let room_id = self.room.room_id();
        let result = open_announcement(&self.room, from, bytes);
        let Some(peer) = self.peers.get_mut(&from) else {
            return Outcome::Deferred;
        };
        let keys = match result {
            Ok(keys) => keys,
            Err(reason) => {
                out.events.push(Event::MemberRejected {
                    member: from,
                    reason,
                });
                return Outcome::Handled { progressed: false };
            }
        };
        match &peer.keys {
            Some(existing) if *existing == keys => Outcome::Handled { progressed: false },
            Some(_) => {
                out.events.push(Event::MemberRejected {
                    member: from,
                    reason: RejectReason::KeyChange,
                });
                Outcome::Handled { progressed: false }
            }
            None => {
                peer.safety_code = Some(keys.safety_code(&room_id));
                peer.keys = Some(keys);
                self.send_chain_to(from, out);
                Outcome::Handled { progressed: true }
            }
        }
    }

    fn on_distribution(&mut self, from: MemberId, bytes: &[u8], out: &mut Output) -> Outcome {
        let Some(peer) = self.peers.get_mut(&from) else {
            return Outcome::Deferred;
        };
        let Some(keys) = peer.keys.as_ref() else {
            return Outcome::Deferred;
        };
        let me = self.identity.keys();
        let grant = match open_distribution(&self.room, self.my_id, me, from, keys, bytes) {
            Ok(g) => g,
            Err(reason) => return reject(out, from, reason),
        };
        if peer.name.as_ref().is_some_and(|n| *n != grant.name) {
            return reject(out, from, RejectReason::NameChanged);
        }
        if peer
            .current
            .as_ref()
            .is_some_and(|c| grant.chain_id <= c.id())
        {
            return reject(out, from, RejectReason::StaleChain);
        }
        let chain_id = grant.chain_id;
        peer.previous = peer.current.take();
        peer.current = Some(RecvChain::new(
            grant.chain_id,
            grant.index,
            grant.chain_key.clone(),
        ));
        if peer.name.is_some() {
            out.events.push(Event::MemberRekeyed {
                member: from,
                chain_id,
            });
            return Outcome::Handled { progressed: true };
        }
        peer.name = Some(grant.name.clone());
        let keys = keys.clone();
        let safety_code = peer
            .safety_code
            .clone()
            .unwrap_or_else(|| keys.safety_code(&self.room.room_id()));
        let record = KnownTab {
            member: from,
            keys,
            name: grant.name.clone(),
            safety_code: safety_code.clone(),
        };
        let event = self.first_grant_event(from, grant.tab, &record, out);
        out.events.push(event);
        self.remember_tab(grant.tab, record);
        Outcome::Handled { progressed: true }
    }

    /// The event of a member's first accepted grant: new tab, the same tab
    /// back with the same keys (its stale member id is forgotten), or the
    /// same tab with other keys.
    fn first_grant_event(
        &mut self,
        member: MemberId,
        tab: TabId,
        now: &KnownTab,
        out: &mut Output,
    ) -> Event {
        let name = now.name.clone();
        let safety_code = now.safety_code.clone();
        let Some(before) = self.known.tabs.get(&tab) else {
            return Event::MemberVerified {
                member,
                name,
                safety_code,
            };
        };
        let previous = before.member;
        if before.keys == now.keys && previous != self.my_id {
            // The same tab's earlier connection, if still reported present,
            // is stale. (`previous == member` after [`Session::recall`]: the
            // member stayed while we reconnected.)
            if previous != member && self.peers.contains_key(&previous) {
                self.forget(previous, out);
            }
            return Event::MemberReturned {
                member,
                previous,
                name,
                safety_code,
            };
        }
        Event::MemberKeyChanged {
            member,
            previous,
            previous_name: before.name.clone(),
            name,
            previous_code: before.safety_code.clone(),
            safety_code,
        }
    }

    fn on_message(
        &mut self,
        from: MemberId,
        frame: &wire::MessageFrame<'_>,
        out: &mut Output,
    ) -> Outcome {
        if frame.sender != from {
            return reject(out, from, RejectReason::SenderMismatch);
        }
        let room_id = self.room.room_id();
        let Some(peer) = self.peers.get_mut(&from) else {
            return Outcome::Deferred;
        };
        let Some(keys) = peer.keys.as_ref() else {
            return Outcome::Deferred;
        };
        if let Err(reason) = verify_message(&room_id, frame, keys) {
            return reject(out, from, reason);
        }
        let newer_than_current = peer
            .current
            .as_ref()
            .is_none_or(|c| frame.chain_id > c.id());
        let chain = [peer.current.as_mut(), peer.previous.as_mut()]
            .into_iter()
            .flatten()
            .find(|c| c.id() == frame.chain_id);
        let Some(chain) = chain else {
            return if newer_than_current {
                Outcome::Deferred
            } else {
                reject(out, from, RejectReason::UnknownChain)
            };
        };
        let padded = match chain.open(frame.index, |key| decrypt_message(&room_id, frame, key)) {
            Ok(p) => p,
            Err(reason) => return reject(out, from, reason),
        };
        match unpad(&padded) {
            Ok(Content::Text(text)) => out.events.push(Event::Message { from, text }),
            Ok(Content::Typing) => out.events.push(Event::Typing { from }),
            Ok(Content::FileOffer(offer)) => self.on_offer(from, *offer, out),
            Ok(Content::FileCancel(file_id)) => self.on_cancel(from, file_id, out),
            Err(reason) => return reject(out, from, reason),
        }
        Outcome::Handled { progressed: false }
    }

    /// Keeps an offer for the page to accept (the oldest beyond
    /// [`MAX_OFFERS`] is forgotten) and tells it.
    fn on_offer(&mut self, from: MemberId, offer: FileOffer, out: &mut Output) {
        let file_id = offer.file_id;
        if self.downloads.contains_key(&(from, file_id))
            || self
                .offers
                .iter()
                .any(|(f, o)| *f == from && o.file_id == file_id)
        {
            // A second offer under the same id: keep the first.
            return;
        }
        if self.offers.len() >= MAX_OFFERS
            && let Some((old_from, old)) = self.offers.pop_front()
        {
            out.events.push(Event::FileFailed {
                from: old_from,
                file_id: old.file_id,
                error: FileError::TooMany,
            });
        }
        out.events.push(Event::FileOffered {
            from,
            file_id,
            name: offer.name.clone(),
            mime: offer.mime.clone(),
            size: offer.size,
        });
        self.offers.push_back((from, offer));
    }

    /// The sender cancelled a file it offered.
    fn on_cancel(&mut self, from: MemberId, file_id: FileId, out: &mut Output) {
        let offered = self
            .offers
            .iter()
            .position(|(f, o)| *f == from && o.file_id == file_id);
        let known = match offered {
            Some(at) => self.offers.remove(at).is_some(),
            None => self.downloads.remove(&(from, file_id)).is_some(),
        };
        if known {
            out.events.push(Event::FileFailed {
                from,
                file_id,
                error: FileError::Cancelled,
            });
        }
    }
}

fn reject(out: &mut Output, from: MemberId, reason: RejectReason) -> Outcome {
    out.events.push(Event::PayloadRejected { from, reason });
    Outcome::Handled { progressed: false }
}
