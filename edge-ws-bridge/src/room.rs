//! One task per room per node: the room's local members, fan-out to them
//! (chat frames and file chunks in their own lanes, [`crate::flow`]),
//! publishing to the room's channel (within the room's publish budget), the
//! Redis upkeep that keeps presence, the idle deadline and the creator's
//! grace period (DESIGN §3), and the creator's controls (lock state,
//! expulsions) it reads there. A room task starts only for a ticket already
//! redeemed ([`take_ticket`]).

use crate::Node;
use crate::budget::TokenBucket;
use crate::flow::RoomFiles;
use crate::metrics;
use crate::queue;
use crate::socket::SocketHandle;
use bytes::Bytes;
use redis::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};
use vroom_shared::redis::scripts::{RedeemOutcome, RemoveAction};
use vroom_shared::redis::{ENDED, channel, presence_key, room_key, ticket_key, tickets_key};
use vroom_shared::relay::{Envelope, RelayFrame, close, frame_type};
use vroom_shared::{RoomId, Ticket};

/// What a redeemed ticket granted (its stored value), for `REDEEM_TICKET`.
pub(crate) type Grant = Vec<u8>;

/// Redeems a hello's ticket: one `GETDEL` on the command connection, before
/// any room task, subscription or room script. `Ok(None)`: no such ticket
/// (forged, used, expired, or of another room); `Err`: Redis failed.
pub(crate) async fn take_ticket(
    node: &Node,
    room: &RoomId,
    ticket: &Ticket,
) -> Result<Option<Grant>, ()> {
    let mut conn = node.bus.conn.clone();
    redis::cmd("GETDEL")
        .arg(ticket_key(room, ticket))
        .query_async(&mut conn)
        .await
        .map_err(|err| {
            tracing::warn!(error = %err_text(&err), "GETDEL of a ticket failed");
        })
}

/// How a join ended, for the socket.
#[derive(Debug)]
pub(crate) enum JoinReply {
    Joined {
        member: u32,
        /// The room's chunk budget on this node.
        files: Arc<RoomFiles>,
    },
    Invalid,
    Full,
    /// The room is locked and the ticket is not the creator's.
    Locked,
    Unavailable,
    /// The room task was closing: ask the node for a fresh one.
    Retry,
}

/// How a member's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Departure {
    Leave,
    Drop,
    Shutdown,
}

impl Departure {
    fn arg(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::Drop => "drop",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Messages to a room task.
pub(crate) enum RoomCmd {
    /// A member with a redeemed ticket.
    Join {
        ticket: Ticket,
        grant: Grant,
        socket: SocketHandle,
        reply: oneshot::Sender<JoinReply>,
    },
    /// A frame from a local member: `bytes` is the [`Envelope`] to publish,
    /// `bytes[header..]` the [`RelayFrame`] local members get; `chunk` for
    /// the chunk lane.
    Frame {
        from: u32,
        to: Option<u32>,
        bytes: Bytes,
        header: usize,
        chunk: bool,
    },
    Depart {
        member: u32,
        how: Departure,
    },
    /// A message on the room's channel.
    Bus(Bytes),
    RedisDown,
    RedisUp,
    Shutdown,
    Maintained {
        result: Result<Vec<Value>, String>,
        /// Whether the call carried activity (kept for the next call if it failed).
        activity: bool,
    },
    Removed {
        result: Result<Vec<Value>, String>,
        how: Departure,
    },
    EndDone(Result<Vec<Value>, String>),
}

struct Local {
    socket: SocketHandle,
    creator: bool,
}

pub(crate) struct Room {
    node: Arc<Node>,
    serial: u64,
    id: RoomId,
    rx: queue::Receiver<RoomCmd>,
    tx: queue::Sender<RoomCmd>,
    channel: Bytes,
    creator_hash: Option<String>,
    local: HashMap<u32, Local>,
    known: HashSet<u32>,
    /// The lock state last told to local members.
    locked: bool,
    activity: bool,
    deadline: Option<Instant>,
    grace_watch: bool,
    maintain_in_flight: bool,
    maintain_again: bool,
    removals_in_flight: usize,
    ending: bool,
    shutting_down: bool,
    redis_down_since: Option<Instant>,
    done: bool,
    /// Bytes per second the room may publish for other nodes (chat frames).
    publish_budget: TokenBucket,
    /// The room's chunk budget and file-byte count on this node.
    files: Arc<RoomFiles>,
}

/// Starts the task of `room` on this node.
pub(crate) fn spawn(node: Arc<Node>, id: RoomId) -> queue::Sender<RoomCmd> {
    let (tx, rx) = queue::unbounded();
    let serial = node.next_serial.fetch_add(1, Relaxed);
    metrics::inc(&node.metrics.room_tasks);
    let publish_budget = TokenBucket::new(
        node.config.room_publish_bytes_per_sec as f64,
        node.config.room_publish_burst_bytes as f64,
    );
    let mut room = Room {
        publish_budget,
        files: RoomFiles::new(&node.config.flow),
        serial,
        channel: Bytes::from(channel(&id)),
        id,
        node,
        rx,
        tx: tx.clone(),
        creator_hash: None,
        local: HashMap::new(),
        known: HashSet::new(),
        locked: false,
        activity: false,
        deadline: None,
        grace_watch: false,
        maintain_in_flight: false,
        maintain_again: false,
        removals_in_flight: 0,
        ending: false,
        shutting_down: false,
        redis_down_since: None,
        done: false,
    };
    // `run` borrows the room: an async fn would keep a moved-in `self`
    // twice in every room's task.
    tokio::spawn(async move { room.run().await });
    tx
}

fn ints(values: &[Value]) -> Vec<i64> {
    values
        .iter()
        .map(|v| match v {
            Value::Int(i) => *i,
            _ => i64::MIN,
        })
        .collect()
}

fn err_text(err: &redis::RedisError) -> String {
    // The kind and code only: a server error's detail may echo arguments.
    format!("{:?}", err.kind())
}

impl Room {
    async fn run(&mut self) {
        metrics::add(&self.node.metrics.rooms, 1);
        let subscribed = self
            .node
            .bus
            .subscribe(&self.channel, self.serial, self.tx.clone())
            .await;
        if !subscribed {
            tracing::warn!(room = self.serial, "subscription failed; refusing joins");
            self.redis_down_since = Some(Instant::now());
        }
        let interval = Duration::from_millis(self.node.config.presence_interval_ms);
        let mut tick = tokio::time::interval_at(Instant::now() + interval, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer for the deadline, reset when it moves: a fresh
        // `sleep_until` per command would register and cancel a timer for
        // every frame the room relays.
        let due = tokio::time::sleep_until(Instant::now());
        tokio::pin!(due);
        let mut armed = None;
        loop {
            if armed != self.deadline {
                armed = self.deadline;
                if let Some(deadline) = armed {
                    due.as_mut().reset(deadline);
                }
            }
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    Some(RoomCmd::Join { ticket, grant, socket, reply }) => {
                        // Boxed: the Redis call's state lives only while it runs.
                        let result = Box::pin(self.admit(&ticket, grant, socket, subscribed)).await;
                        let _ = reply.send(result);
                    }
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                _ = tick.tick() => self.on_tick(),
                () = &mut due, if armed.is_some() => {
                    // Due: Redis says whether the room still lives.
                    self.deadline = None;
                    self.maintain();
                }
            }
            if self.done || self.idle() {
                // Leave only when nothing is queued: a join may be on its way.
                let mut rooms = self.node.rooms.lock().unwrap_or_else(|e| e.into_inner());
                if !self.rx.is_empty() {
                    continue;
                }
                if rooms
                    .get(&self.id)
                    .is_some_and(|tx| tx.same_channel(&self.tx))
                {
                    rooms.remove(&self.id);
                }
                self.rx.close();
                break;
            }
        }
        // Anything that slipped in after closing.
        while let Ok(cmd) = self.rx.try_recv() {
            if let RoomCmd::Join { reply, .. } = cmd {
                let _ = reply.send(JoinReply::Retry);
            }
        }
        self.close_all(close::ROOM_ENDED, false);
        if subscribed {
            self.node.bus.unsubscribe(&self.channel, self.serial);
        }
        metrics::add(&self.node.metrics.rooms, -1);
        tracing::debug!(room = self.serial, "room state dropped");
    }

    /// Nothing left to do here.
    fn idle(&self) -> bool {
        self.local.is_empty()
            && !self.grace_watch
            && self.removals_in_flight == 0
            && !self.ending
            && !self.maintain_in_flight
    }

    /// A join, unless the room is closing or cut off from Redis.
    async fn admit(
        &mut self,
        ticket: &Ticket,
        grant: Grant,
        socket: SocketHandle,
        subscribed: bool,
    ) -> JoinReply {
        if self.ending || self.shutting_down || self.done {
            JoinReply::Retry
        } else if !subscribed || self.redis_down_since.is_some() {
            JoinReply::Unavailable
        } else {
            self.join(ticket, grant, socket).await
        }
    }

    /// Every command but a join (which [`Room::admit`] takes).
    fn handle(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Join { reply, .. } => {
                let _ = reply.send(JoinReply::Retry);
            }
            RoomCmd::Frame {
                from,
                to,
                bytes,
                header,
                chunk: false,
            } => self.frame(from, to, bytes, header),
            RoomCmd::Frame {
                from,
                bytes,
                header,
                chunk: true,
                ..
            } => self.chunk(from, bytes, header),
            RoomCmd::Depart { member, how } => self.depart(member, how),
            RoomCmd::Bus(bytes) => self.bus(bytes),
            RoomCmd::RedisDown => {
                self.redis_down_since.get_or_insert_with(Instant::now);
            }
            RoomCmd::RedisUp => {
                if self.redis_down_since.take().is_some() {
                    // Did the room survive? Is our presence still there?
                    self.maintain();
                }
            }
            RoomCmd::Shutdown => self.shutdown(),
            RoomCmd::Maintained { result, activity } => self.maintained(result, activity),
            RoomCmd::Removed { result, how } => self.removed(result, how),
            RoomCmd::EndDone(result) => match result {
                Ok(_) => {
                    tracing::info!(room = self.serial, "room ended");
                    self.ended();
                }
                Err(err) => {
                    tracing::warn!(room = self.serial, error = %err, "END_ROOM failed; retrying");
                    self.ending = false;
                }
            },
        }
    }

    /// Admits the holder of a redeemed ticket (`REDEEM_TICKET`). The ticket
    /// key is only named (taken out of the tickets set): it is gone already.
    async fn join(&mut self, ticket: &Ticket, grant: Grant, socket: SocketHandle) -> JoinReply {
        let keys = [
            room_key(&self.id),
            presence_key(&self.id),
            tickets_key(&self.id),
            ticket_key(&self.id, ticket),
        ];
        let mut conn = self.node.bus.conn.clone();
        let reply: Result<Vec<Value>, _> = self
            .node
            .scripts
            .redeem
            .key(&keys[..])
            .arg(grant)
            .invoke_async(&mut conn)
            .await;
        let values = match reply {
            Ok(v) => v,
            Err(err) => {
                tracing::warn!(room = self.serial, error = %err_text(&err), "REDEEM_TICKET failed");
                return JoinReply::Unavailable;
            }
        };
        let code = match values.first() {
            Some(Value::Int(c)) => RedeemOutcome::from_code(*c),
            _ => None,
        };
        match code {
            Some(RedeemOutcome::Joined) if values.len() >= 8 => {}
            Some(RedeemOutcome::Full) => return JoinReply::Full,
            Some(RedeemOutcome::Locked) => return JoinReply::Locked,
            Some(RedeemOutcome::Invalid) => return JoinReply::Invalid,
            _ => {
                tracing::error!(room = self.serial, "unexpected REDEEM_TICKET reply");
                return JoinReply::Unavailable;
            }
        }
        let head = ints(&values[..7]);
        let (member, creator) = (head[1] as u32, head[2] == 1);
        let (expires_at, idle_secs, remaining) = (head[3].max(0) as u64, head[4] as u32, head[5]);
        let locked = head[6] == 1;
        if let Value::BulkString(hash) = &values[7] {
            let hash = String::from_utf8_lossy(hash).into_owned();
            if self.creator_hash.as_ref().is_some_and(|old| *old != hash) {
                // The room we held ended unnoticed and was created again:
                // its members here belong to the old one.
                tracing::info!(
                    room = self.serial,
                    "room was created again: closing the old one"
                );
                self.close_all(close::ROOM_ENDED, true);
                self.known.clear();
                self.grace_watch = false;
                self.files.reset();
            }
            self.creator_hash = Some(hash);
        }
        self.deadline = Some(Instant::now() + Duration::from_millis(remaining.max(0) as u64));
        let present: Vec<u32> = ints(&values[8..])
            .into_iter()
            .filter_map(|m| u32::try_from(m).ok())
            .collect();

        // The newcomer: who it is, then everyone already here.
        let welcome = RelayFrame::Welcome {
            member,
            creator,
            expires_at,
            idle_secs,
        }
        .encode();
        self.push(&socket, Bytes::from(welcome));
        if locked {
            self.push(
                &socket,
                Bytes::from(RelayFrame::RoomState { locked }.encode()),
            );
        }
        self.set_locked(locked);
        for m in &present {
            self.known.insert(*m);
            self.push(
                &socket,
                Bytes::from(RelayFrame::Joined { member: *m }.encode()),
            );
        }
        // Everyone else: a newcomer.
        self.known.insert(member);
        let bytes = self.envelope(0, &RelayFrame::Joined { member });
        let header = Envelope::header_len(self.node.node_id.len());
        self.deliver_all(&bytes.slice(header..), None);
        self.node.bus.publish(&self.channel, bytes);
        self.local.insert(member, Local { socket, creator });
        self.grace_watch = false;
        metrics::add(&self.node.metrics.members, 1);
        tracing::info!(room = self.serial, member, creator, "member joined");
        JoinReply::Joined {
            member,
            files: self.files.clone(),
        }
    }

    /// An envelope from this node around `frame`.
    fn envelope(&self, to: u32, frame: &RelayFrame<'_>) -> Bytes {
        let mut out = Vec::with_capacity(Envelope::header_len(self.node.node_id.len()) + 16);
        Envelope::encode_header(&self.node.node_id, to, &mut out);
        frame.encode_into(&mut out);
        Bytes::from(out)
    }

    /// Queues `bytes` for one socket; false if it was cut off (slow reader).
    fn push(&self, socket: &SocketHandle, bytes: Bytes) -> bool {
        socket.push(bytes, self.node.config.send_queue_bytes, &self.node.metrics)
    }

    /// Queues `bytes` for every local member but `except`; members cut off
    /// as slow readers leave the room.
    fn deliver_all(&mut self, bytes: &Bytes, except: Option<u32>) {
        let mut slow = Vec::new();
        for (id, m) in &self.local {
            if Some(*id) != except && !self.push(&m.socket, bytes.clone()) {
                slow.push(*id);
            }
        }
        for id in slow {
            self.depart(id, Departure::Drop);
        }
    }

    fn frame(&mut self, from: u32, to: Option<u32>, bytes: Bytes, header: usize) {
        if !self.local.contains_key(&from) {
            return;
        }
        self.activity = true;
        match to {
            None => {
                self.deliver_all(&bytes.slice(header..), Some(from));
                self.publish_frame(bytes);
            }
            Some(to) if to == from => {}
            Some(to) => match self.local.get(&to) {
                Some(m) => {
                    if !self.push(&m.socket, bytes.slice(header..)) {
                        self.depart(to, Departure::Drop);
                    }
                }
                None => self.publish_frame(bytes),
            },
        }
    }

    /// A file chunk from a local member: to every other local member's chunk
    /// queue, and to the room's channel unless the node's publish queue is
    /// half full (chat frames keep the other half).
    fn chunk(&mut self, from: u32, bytes: Bytes, header: usize) {
        if !self.local.contains_key(&from) {
            return;
        }
        self.activity = true;
        self.deliver_chunks(&bytes.slice(header..), from);
        if self.node.bus.publish_backlog() <= self.node.config.publish_queue_bytes / 2 {
            self.node.bus.publish(&self.channel, bytes);
        } else {
            metrics::inc(&self.node.metrics.drop_chunk_backlog);
        }
    }

    /// Queues a chunk frame for every local member but its sender; a member
    /// whose chunk queue is full misses it ([`SocketHandle::push_chunk`]),
    /// one whose chat queue overflowed leaves the room.
    fn deliver_chunks(&mut self, bytes: &Bytes, except: u32) {
        let config = &self.node.config;
        let mut slow = Vec::new();
        for (id, m) in &self.local {
            if *id != except
                && !m.socket.push_chunk(
                    bytes.clone(),
                    config.flow.chunk_queue_bytes,
                    config.send_queue_bytes,
                    &self.node.metrics,
                )
            {
                slow.push(*id);
            }
        }
        for id in slow {
            self.depart(id, Departure::Drop);
        }
    }

    /// Publishes a member's frame for other nodes within the room's budget:
    /// over it the frame is dropped (counted), so one busy room cannot fill
    /// the node's shared publish queue. Joined, Left and ended notices are
    /// never budgeted.
    fn publish_frame(&mut self, bytes: Bytes) {
        if self.publish_budget.try_take(bytes.len() as f64) {
            self.node.bus.publish(&self.channel, bytes);
        } else {
            metrics::inc(&self.node.metrics.drop_room_budget);
        }
    }

    /// A local member is gone: tell the room at once, and Redis next.
    fn depart(&mut self, member: u32, how: Departure) {
        let Some(m) = self.local.remove(&member) else {
            return;
        };
        metrics::add(&self.node.metrics.members, -1);
        tracing::info!(room = self.serial, member, how = how.arg(), "member left");
        self.announce_left(member);
        self.removals_in_flight += 1;
        let mut conn = self.node.bus.conn.clone();
        let script = self.node.scripts.remove.clone();
        let keys = [room_key(&self.id), presence_key(&self.id)];
        let tx = self.tx.clone();
        let creator = if m.creator { "1" } else { "0" };
        let grace_ms = self.node.config.creator_grace_ms;
        let leave_grace_ms = self.node.config.creator_leave_grace_ms;
        tokio::spawn(async move {
            let result = script
                .key(&keys[..])
                .arg(member)
                .arg(how.arg())
                .arg(creator)
                .arg(grace_ms)
                .arg(leave_grace_ms)
                .invoke_async::<Vec<Value>>(&mut conn)
                .await
                .map_err(|e| err_text(&e));
            let _ = tx.send(RoomCmd::Removed { result, how });
        });
    }

    /// Tells local members and other nodes that `member` left.
    fn announce_left(&mut self, member: u32) {
        self.known.remove(&member);
        let bytes = self.envelope(0, &RelayFrame::Left { member });
        let header = Envelope::header_len(self.node.node_id.len());
        self.deliver_all(&bytes.slice(header..), None);
        self.node.bus.publish(&self.channel, bytes);
    }

    fn removed(&mut self, result: Result<Vec<Value>, String>, how: Departure) {
        self.removals_in_flight -= 1;
        let values = match result {
            Ok(v) => ints(&v),
            Err(err) => {
                tracing::warn!(room = self.serial, error = %err, "REMOVE_MEMBER failed");
                return;
            }
        };
        let action = values.first().and_then(|c| RemoveAction::from_code(*c));
        if how == Departure::Shutdown {
            return;
        }
        match action {
            Some(RemoveAction::EndCreatorLeft) => {
                tracing::info!(room = self.serial, "creator left: ending the room");
                self.end_room();
            }
            Some(RemoveAction::EndEmpty) => {
                tracing::info!(room = self.serial, "everyone left: ending the room");
                self.end_room();
            }
            Some(RemoveAction::CreatorGrace) => {
                tracing::info!(room = self.serial, "creator gone: grace period started");
                self.grace_watch = true;
                // A MAINTAIN_ROOM in flight saw the creator still present:
                // its answer must not end the watch, the next one decides.
                if self.maintain_in_flight {
                    self.maintain_again = true;
                }
            }
            Some(RemoveAction::RoomGone) => {
                if !self.ending {
                    self.ended();
                }
            }
            Some(RemoveAction::None) | None => {}
        }
    }

    fn bus(&mut self, bytes: Bytes) {
        if bytes.as_ref() == ENDED {
            tracing::info!(room = self.serial, "room ended (published)");
            self.ended();
            return;
        }
        let Ok(env) = Envelope::decode(&bytes) else {
            return;
        };
        if env.origin == self.node.node_id.as_ref() {
            return;
        }
        let to = env.to;
        let header = Envelope::header_len(env.origin.len());
        let frame = bytes.slice(header..);
        let (Some(&ty), Some(id)) = (
            frame.first(),
            frame
                .get(1..5)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        ) else {
            return;
        };
        match ty {
            frame_type::JOINED if self.known.insert(id) => self.deliver_all(&frame, None),
            frame_type::LEFT => {
                if self.local.contains_key(&id) {
                    // Another node declared our member gone (its presence
                    // went stale here): it must rejoin as a new member.
                    if let Some(m) = self.local.remove(&id) {
                        metrics::add(&self.node.metrics.members, -1);
                        m.socket.close(close::PRESENCE_LOST);
                    }
                }
                if self.known.remove(&id) {
                    self.deliver_all(&frame, None);
                }
            }
            frame_type::FROM_BROADCAST => self.deliver_all(&frame, Some(id)),
            frame_type::FROM_CHUNK => self.deliver_chunks(&frame, id),
            frame_type::FROM_DIRECT => {
                if let Some(m) = self.local.get(&to)
                    && !self.push(&m.socket, frame)
                {
                    self.depart(to, Departure::Drop);
                }
            }
            _ => {}
        }
    }

    fn on_tick(&mut self) {
        if let Some(since) = self.redis_down_since {
            if since.elapsed() >= Duration::from_millis(self.node.config.redis_outage_ms) {
                tracing::warn!(
                    room = self.serial,
                    "Redis unreachable too long: closing sockets"
                );
                self.close_all(close::TRY_AGAIN_LATER, false);
                self.grace_watch = false;
                self.done = true;
            }
            return;
        }
        self.maintain();
    }

    /// Runs MAINTAIN_ROOM (one at a time).
    fn maintain(&mut self) {
        if self.ending || self.done || self.shutting_down {
            return;
        }
        if self.maintain_in_flight {
            self.maintain_again = true;
            return;
        }
        self.maintain_in_flight = true;
        let activity = std::mem::take(&mut self.activity);
        let script = self.node.scripts.maintain.clone();
        let keys = [
            room_key(&self.id),
            presence_key(&self.id),
            tickets_key(&self.id),
        ];
        let mut args = vec![
            if activity { "1" } else { "0" }.to_owned(),
            self.node.config.presence_stale_ms.to_string(),
            self.node.config.creator_grace_ms.to_string(),
            self.creator_hash.clone().unwrap_or_default(),
        ];
        args.extend(self.local.keys().map(u32::to_string));
        let mut conn = self.node.bus.conn.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut invocation = script.prepare_invoke();
            invocation.key(&keys[..]).arg(&args[..]);
            let result = invocation
                .invoke_async::<Vec<Value>>(&mut conn)
                .await
                .map_err(|e| err_text(&e));
            let _ = tx.send(RoomCmd::Maintained { result, activity });
        });
    }

    fn maintained(&mut self, result: Result<Vec<Value>, String>, activity: bool) {
        self.maintain_in_flight = false;
        let values = match result {
            Ok(v) => ints(&v),
            Err(err) => {
                self.activity |= activity;
                tracing::warn!(room = self.serial, error = %err, "MAINTAIN_ROOM failed");
                // Try again soon if a deadline check failed.
                if self.deadline.is_none() && !self.local.is_empty() {
                    self.deadline = Some(Instant::now() + Duration::from_millis(200));
                }
                return;
            }
        };
        tracing::debug!(room = self.serial, reply = ?values, "MAINTAIN_ROOM");
        if self.ending || self.done {
            return;
        }
        if values.first() != Some(&1) || values.len() < 6 {
            tracing::info!(room = self.serial, "room is gone (deadline or ended)");
            self.ended();
            return;
        }
        let remaining = values[1].max(0) as u64;
        self.deadline = Some(Instant::now() + Duration::from_millis(remaining));
        let action = values[2];
        self.set_locked(values[3] == 1);
        let n_missing = usize::try_from(values[4]).unwrap_or(0);
        let n_expelled = usize::try_from(values[5]).unwrap_or(0);
        let ids = |skip: usize, take: usize| -> Vec<u32> {
            values[6..]
                .iter()
                .skip(skip)
                .take(take)
                .filter_map(|m| u32::try_from(*m).ok())
                .collect()
        };
        let missing = ids(0, n_missing);
        let expelled = ids(n_missing, n_expelled);
        let removed = ids(n_missing + n_expelled, usize::MAX);
        for id in expelled {
            if let Some(m) = self.local.remove(&id) {
                tracing::info!(
                    room = self.serial,
                    member = id,
                    "member removed by the creator"
                );
                metrics::add(&self.node.metrics.members, -1);
                m.socket.close(close::REMOVED);
                self.announce_left(id);
            }
        }
        for id in missing {
            if let Some(m) = self.local.remove(&id) {
                tracing::info!(room = self.serial, member = id, "presence lost");
                metrics::add(&self.node.metrics.members, -1);
                m.socket.close(close::PRESENCE_LOST);
                if self.known.remove(&id) {
                    let frame = Bytes::from(RelayFrame::Left { member: id }.encode());
                    self.deliver_all(&frame, None);
                }
            }
        }
        for id in removed {
            tracing::info!(room = self.serial, member = id, "stale member removed");
            self.announce_left(id);
        }
        match action {
            1 => {
                tracing::info!(
                    room = self.serial,
                    "creator did not come back: ending the room"
                );
                self.end_room();
            }
            2 => {
                tracing::info!(room = self.serial, "nobody left: ending the room");
                self.end_room();
            }
            3 => self.grace_watch = true,
            // Unless a grace period started while this call ran (then the
            // next call, made below, decides).
            _ if self.maintain_again => {}
            _ => self.grace_watch = false,
        }
        if std::mem::take(&mut self.maintain_again) {
            self.maintain();
        }
    }

    /// Tells local members when the room's lock state changed.
    fn set_locked(&mut self, locked: bool) {
        if self.locked != locked {
            self.locked = locked;
            let frame = Bytes::from(RelayFrame::RoomState { locked }.encode());
            self.deliver_all(&frame, None);
        }
    }

    /// Runs the shared END_ROOM (for this incarnation of the room).
    fn end_room(&mut self) {
        if self.ending || self.done {
            return;
        }
        self.ending = true;
        metrics::inc(&self.node.metrics.end_room_runs);
        let script = self.node.scripts.end.clone();
        let keys = [
            room_key(&self.id),
            presence_key(&self.id),
            tickets_key(&self.id),
        ];
        let args: [Vec<u8>; 3] = [
            self.creator_hash.clone().unwrap_or_default().into_bytes(),
            self.node.config.publish_command().as_bytes().to_vec(),
            self.channel.to_vec(),
        ];
        let mut conn = self.node.bus.conn.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut invocation = script.prepare_invoke();
            invocation.key(&keys[..]).arg(&args[..]);
            let result = invocation
                .invoke_async::<Vec<Value>>(&mut conn)
                .await
                .map_err(|e| err_text(&e));
            let _ = tx.send(RoomCmd::EndDone(result));
        });
    }

    /// The room is over: close every local socket with "room ended" and
    /// drop all state.
    fn ended(&mut self) {
        if self.done {
            return;
        }
        if !self.local.is_empty() {
            metrics::inc(&self.node.metrics.rooms_ended);
        }
        self.close_all(close::ROOM_ENDED, true);
        self.known.clear();
        self.grace_watch = false;
        self.ending = false;
        self.done = true;
    }

    fn close_all(&mut self, code: u16, ended_frame: bool) {
        let ended = Bytes::from(RelayFrame::Ended.encode());
        for (_, m) in self.local.drain() {
            metrics::add(&self.node.metrics.members, -1);
            if ended_frame {
                m.socket.push(ended.clone(), usize::MAX, &self.node.metrics);
            }
            m.socket.close(code);
        }
    }

    /// Graceful node shutdown: close sockets with 1012 and take the members
    /// out of presence (the creator starts its grace period); the room
    /// itself lives on.
    fn shutdown(&mut self) {
        self.shutting_down = true;
        let members: Vec<u32> = self.local.keys().copied().collect();
        for member in members {
            if let Some(m) = self.local.get(&member) {
                m.socket.close(close::RESTART);
            }
            self.depart(member, Departure::Shutdown);
        }
        self.grace_watch = false;
    }
}

impl SocketHandle {
    /// Queues a frame unless the socket is closing; cuts the socket off as
    /// a slow reader when its queue would exceed `limit` bytes.
    pub(crate) fn push(&self, bytes: Bytes, limit: usize, metrics: &metrics::Metrics) -> bool {
        if self.shared.close.load(Relaxed) != 0 {
            return false;
        }
        let len = bytes.len();
        let queued = self.shared.queued.fetch_add(len, Relaxed) + len;
        if queued > limit {
            self.shared.queued.fetch_sub(len, Relaxed);
            metrics::inc(&metrics.drop_slow);
            self.close(close::SLOW_READER);
            return false;
        }
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(bytes);
        self.shared.wake.notify_one();
        true
    }

    /// Asks the socket to close with `code` after what is queued (at once
    /// for a slow reader).
    pub(crate) fn close(&self, code: u16) {
        if self
            .shared
            .close
            .compare_exchange(0, code, Relaxed, Relaxed)
            .is_ok()
        {
            self.shared.wake.notify_one();
        }
    }
}
