//! A simulated relay for session scenarios: assigns member ids, reports
//! joins and leaves, carries broadcast and direct payloads in order, and
//! records every payload it carries (what the server sees).

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use chacha20::ChaCha20Rng;
use rand_core::SeedableRng;
use vroom_e2e::chain::ChainKey;
use vroom_e2e::member::{Identity, MemberKeys};
use vroom_e2e::{Event, MemberId, Outgoing, Output, RoomKeys, RoomSecret, Session};

pub type TestSession = Session<ChaCha20Rng>;

/// The RNG seed of member `id` in these tests.
pub fn seed(id: u32) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..4].copy_from_slice(&id.to_be_bytes());
    s[31] = 0x5e;
    s
}

/// Rebuilds the keys and first chain key a session of member `id` drew from
/// its seeded RNG (Session::new draws its identity — 32 bytes HPKE ikm, 32
/// bytes Ed25519 seed, 16 bytes tab id — then 32 bytes chain key).
pub fn reconstruct(id: u32) -> (MemberKeys, ChainKey) {
    let mut rng = ChaCha20Rng::from_seed(seed(id));
    let identity = Identity::generate(&mut rng);
    let ck = ChainKey::generate(&mut rng);
    (identity.keys().clone(), ck)
}

#[derive(Debug, Clone)]
pub struct Carried {
    pub from: MemberId,
    pub to: MemberId,
    pub bytes: Vec<u8>,
}

pub struct Relay {
    pub room: RoomKeys,
    pub sessions: BTreeMap<u32, TestSession>,
    pub queue: VecDeque<Carried>,
    pub transcript: Vec<Carried>,
    pub events: BTreeMap<u32, Vec<Event>>,
    /// When false, payloads stay in `queue` until `deliver_all`.
    pub auto: bool,
}

impl Relay {
    pub fn new(secret: &RoomSecret) -> Self {
        Self {
            room: secret.derive_keys(),
            sessions: BTreeMap::new(),
            queue: VecDeque::new(),
            transcript: Vec::new(),
            events: BTreeMap::new(),
            auto: true,
        }
    }

    pub fn join(&mut self, id: u32, name: &str) {
        let s = Session::new(
            &self.room,
            MemberId(id),
            name,
            ChaCha20Rng::from_seed(seed(id)),
        )
        .unwrap();
        self.admit(id, s);
    }

    /// Member `id` joins with a given identity (a tab that reconnects keeps its own).
    pub fn join_as(&mut self, id: u32, name: &str, identity: Identity) {
        let s = Session::with_identity(
            &self.room,
            MemberId(id),
            identity,
            name,
            ChaCha20Rng::from_seed(seed(id)),
        )
        .unwrap();
        self.admit(id, s);
    }

    /// Reports the new session to everyone present and everyone to it.
    fn admit(&mut self, id: u32, mut s: TestSession) {
        let existing: Vec<u32> = self.sessions.keys().copied().collect();
        let mut outputs = Vec::new();
        for e in &existing {
            outputs.push((id, s.on_member_joined(MemberId(*e))));
        }
        self.sessions.insert(id, s);
        for e in existing {
            let out = self
                .sessions
                .get_mut(&e)
                .unwrap()
                .on_member_joined(MemberId(id));
            outputs.push((e, out));
        }
        for (from, out) in outputs {
            self.route(from, out);
        }
        self.settle();
    }

    /// Removes member `id` (returning its session, as a former member keeps
    /// its state) and tells the others.
    pub fn leave(&mut self, id: u32) -> TestSession {
        let gone = self.sessions.remove(&id).unwrap();
        self.queue.retain(|c| c.to.0 != id);
        let others: Vec<u32> = self.sessions.keys().copied().collect();
        for o in others {
            let out = self
                .sessions
                .get_mut(&o)
                .unwrap()
                .on_member_left(MemberId(id));
            self.route(o, out);
        }
        self.settle();
        gone
    }

    pub fn send(&mut self, id: u32, text: &str) {
        let out = self.sessions.get_mut(&id).unwrap().send_text(text).unwrap();
        self.route(id, out);
        self.settle();
    }

    pub fn route(&mut self, from: u32, out: Output) {
        self.events.entry(from).or_default().extend(out.events);
        for o in out.outgoing {
            match o {
                Outgoing::Broadcast(bytes) => {
                    for to in self.sessions.keys().copied().filter(|t| *t != from) {
                        self.queue.push_back(Carried {
                            from: MemberId(from),
                            to: MemberId(to),
                            bytes: bytes.clone(),
                        });
                    }
                }
                Outgoing::Direct { to, payload } => {
                    if self.sessions.contains_key(&to.0) {
                        self.queue.push_back(Carried {
                            from: MemberId(from),
                            to,
                            bytes: payload,
                        });
                    }
                }
            }
        }
    }

    fn settle(&mut self) {
        if self.auto {
            self.deliver_all();
        }
    }

    pub fn deliver_all(&mut self) {
        while let Some(c) = self.queue.pop_front() {
            self.deliver(c);
        }
    }

    pub fn deliver(&mut self, c: Carried) {
        self.transcript.push(c.clone());
        if let Some(s) = self.sessions.get_mut(&c.to.0) {
            let out = s.on_payload(c.from, &c.bytes);
            self.route(c.to.0, out);
        }
    }

    pub fn take_events(&mut self, id: u32) -> Vec<Event> {
        self.events.remove(&id).unwrap_or_default()
    }

    pub fn messages(&mut self, id: u32) -> Vec<(u32, String)> {
        self.take_events(id)
            .into_iter()
            .filter_map(|e| match e {
                Event::Message { from, text } => Some((from.0, text)),
                _ => None,
            })
            .collect()
    }
}

/// The identity member `id` of [`Relay::join`] drew from its seeded RNG.
pub fn identity(id: u32) -> Identity {
    Identity::generate(&mut ChaCha20Rng::from_seed(seed(id)))
}

/// Runs one session's `on_payload` and returns its events.
pub fn feed(s: &mut TestSession, from: u32, bytes: &[u8]) -> Vec<Event> {
    s.on_payload(MemberId(from), bytes).events
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
