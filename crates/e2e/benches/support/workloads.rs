//! Workloads shared by the native benchmark (`benches/e2e.rs`) and the
//! browser benchmark (`tests/browser_bench.rs`); not a bench target itself..

use chacha20::ChaCha20Rng;
use rand_core::SeedableRng;
use vroom_e2e::chain::ChainKey;
use vroom_e2e::distribution::{ChainGrant, open_distribution, seal_distribution};
use vroom_e2e::member::{MemberKeys, PeerKeys, TabId};
use vroom_e2e::{DisplayName, MemberId, Outgoing, RoomKeys, RoomSecret, Session};

/// A 254-byte text: exactly fills the 256-byte padding bucket.
pub fn text_256() -> String {
    "x".repeat(254)
}

/// A session with a seeded RNG.
pub type BenchSession = Session<ChaCha20Rng>;

fn direct_to(out: vroom_e2e::Output, to: MemberId) -> Vec<Vec<u8>> {
    out.outgoing
        .into_iter()
        .filter_map(|o| match o {
            Outgoing::Direct { to: t, payload } if t == to => Some(payload),
            Outgoing::Broadcast(p) => Some(p),
            Outgoing::Direct { .. } => None,
        })
        .collect()
}

/// Two sessions (members 1 and 2) that have exchanged announcements and chains.
pub fn pair() -> (BenchSession, BenchSession) {
    let room = RoomSecret::from_bytes([1; 32]).derive_keys();
    let mut a = Session::new(&room, MemberId(1), "A", ChaCha20Rng::from_seed([1; 32])).expect("a");
    let mut b = Session::new(&room, MemberId(2), "B", ChaCha20Rng::from_seed([2; 32])).expect("b");
    let mut to_b = direct_to(a.on_member_joined(MemberId(2)), MemberId(2));
    let mut to_a = direct_to(b.on_member_joined(MemberId(1)), MemberId(1));
    while !to_a.is_empty() || !to_b.is_empty() {
        let mut next_a = Vec::new();
        let mut next_b = Vec::new();
        for p in to_b.drain(..) {
            next_a.extend(direct_to(b.on_payload(MemberId(1), &p), MemberId(1)));
        }
        for p in to_a.drain(..) {
            next_b.extend(direct_to(a.on_payload(MemberId(2), &p), MemberId(2)));
        }
        to_a = next_a;
        to_b = next_b;
    }
    (a, b)
}

/// Encrypts and signs one message; returns the frame.
pub fn send(a: &mut BenchSession, text: &str) -> Vec<u8> {
    match a.send_text(text).expect("send").outgoing.pop() {
        Some(Outgoing::Broadcast(frame)) => frame,
        other => panic!("unexpected {other:?}"),
    }
}

/// Verifies and decrypts one message; returns its text length.
pub fn receive(b: &mut BenchSession, frame: &[u8]) -> usize {
    match b.on_payload(MemberId(1), frame).events.pop() {
        Some(vroom_e2e::Event::Message { text, .. }) => text.len(),
        other => panic!("unexpected {other:?}"),
    }
}

/// A 32-member room at the level of one member (index 0): everyone's keys,
/// and the 31 chain distributions the others send to member 0 on a rotation.
pub struct Room32 {
    room: RoomKeys,
    members: Vec<MemberKeys>,
    publics: Vec<PeerKeys>,
    incoming: Vec<Vec<u8>>,
    rng: ChaCha20Rng,
}

fn grant(seed: u8) -> ChainGrant {
    ChainGrant {
        chain_id: 1,
        index: 0,
        chain_key: ChainKey::from_bytes([seed; 32]),
        tab: TabId([seed; 16]),
        name: DisplayName::new("Member").expect("name"),
    }
}

/// Builds the 32-member fixture.
pub fn room32() -> Room32 {
    let room = RoomSecret::from_bytes([2; 32]).derive_keys();
    let members: Vec<MemberKeys> = (0..32u8)
        .map(|i| MemberKeys::from_seeds(&[i; 32], &[i; 32]))
        .collect();
    let publics: Vec<PeerKeys> = members.iter().map(MemberKeys::public).collect();
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let incoming = (1..32u32)
        .map(|i| {
            seal_distribution(
                &room,
                MemberId(i),
                &members[i as usize],
                MemberId(0),
                &publics[0],
                &grant(i as u8),
                &mut rng,
            )
            .expect("seal")
        })
        .collect();
    Room32 {
        room,
        members,
        publics,
        incoming,
        rng,
    }
}

/// Member 0 seals a new chain to the 31 others (a chain distribution to 31 members).
pub fn distribute_31(r: &mut Room32) -> usize {
    let g = ChainGrant {
        chain_key: ChainKey::generate(&mut r.rng),
        ..grant(0)
    };
    (1..32u32)
        .map(|i| {
            seal_distribution(
                &r.room,
                MemberId(0),
                &r.members[0],
                MemberId(i),
                &r.publics[i as usize],
                &g,
                &mut r.rng,
            )
            .expect("seal")
            .len()
        })
        .sum()
}

/// Member 0 opens the 31 new chains of the others.
pub fn open_31(r: &Room32) -> usize {
    r.incoming
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            let from = i as u32 + 1;
            open_distribution(
                &r.room,
                MemberId(0),
                &r.members[0],
                MemberId(from),
                &r.publics[from as usize],
                frame,
            )
            .expect("open")
            .index as usize
        })
        .sum()
}

/// One member's share of a full rotation in a 32-member room: seal its new
/// chain to 31 members and open the 31 chains the others send.
pub fn rotation_32(r: &mut Room32) -> usize {
    distribute_31(r) + open_31(r)
}

/// Argon2id with the protocol's parameters.
pub fn argon2id() -> u8 {
    RoomSecret::from_name_and_passphrase("Team standup", "correct horse battery staple")
        .expect("argon2id")
        .as_bytes()[0]
}
