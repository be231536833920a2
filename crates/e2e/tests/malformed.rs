//! 1,000 seeded random malformed inputs to every decoder: each returns an
//! error (or a harmless rejection) and never panics. Native and browser.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use chacha20::ChaCha20Rng;
use common::{Relay, reconstruct};
use rand_core::{Rng, SeedableRng};
use vroom_e2e::distribution::open_distribution;
use vroom_e2e::member::open_announcement;
use vroom_e2e::message::unpad;
use vroom_e2e::wire::{
    self, ANNOUNCEMENT_LEN, AnnouncementFrame, DISTRIBUTION_LEN, DistributionFrame, MessageFrame,
};
use vroom_e2e::{Event, MemberId, RoomId, RoomSecret, parse_invite_link, parse_room_parts};

const N: usize = 1000;

/// Valid payloads of every type, from a real three-member exchange.
fn samples() -> (Relay, Vec<Vec<u8>>) {
    let mut r = Relay::new(&RoomSecret::from_bytes([3; 32]));
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.send(1, "a sample message");
    r.send(1, &"long ".repeat(300));
    let frames = r.transcript.iter().map(|c| c.bytes.clone()).collect();
    (r, frames)
}

/// Random bytes, random lengths; a third start with a valid version and type
/// byte and have a plausible length, a third are mutations of valid payloads.
fn inputs(seed: u8, valid: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut out = Vec::with_capacity(N);
    for i in 0..N {
        let pick = rng.next_u32() as usize;
        let v = match i % 3 {
            0 => {
                let mut v = vec![0u8; pick % 600];
                rng.fill_bytes(&mut v);
                v
            }
            1 => {
                let lens = [
                    ANNOUNCEMENT_LEN,
                    DISTRIBUTION_LEN,
                    18 + 272 + 64,
                    18 + 1040 + 64,
                    3,
                    18,
                ];
                let mut v = vec![0u8; lens[pick % lens.len()]];
                rng.fill_bytes(&mut v);
                if let Some(first) = v.first_mut() {
                    *first = 1;
                }
                if let Some(second) = v.get_mut(1) {
                    *second = (pick % 4) as u8;
                }
                if v.len() >= 18 && pick.is_multiple_of(2) {
                    let ct = [272u32, 1040][(pick >> 1) % 2];
                    v[14..18].copy_from_slice(&ct.to_be_bytes());
                }
                v
            }
            _ => {
                let mut v = valid[pick % valid.len()].clone();
                match rng.next_u32() % 4 {
                    0 => v.truncate(rng.next_u32() as usize % (v.len() + 1)),
                    1 => v.extend_from_slice(&rng.next_u64().to_be_bytes()),
                    _ => {
                        for _ in 0..1 + rng.next_u32() % 4 {
                            let at = rng.next_u32() as usize % v.len();
                            v[at] ^= 1 << (rng.next_u32() % 8);
                        }
                    }
                }
                v
            }
        };
        out.push(v);
    }
    out
}

fn random_text(rng: &mut ChaCha20Rng) -> String {
    let alphabet: Vec<char> = "abcAZ09-_+/=#?:/.r% \u{e9}\u{1f44b}\u{0}".chars().collect();
    let len = rng.next_u32() as usize % 100;
    (0..len)
        .map(|_| alphabet[rng.next_u32() as usize % alphabet.len()])
        .collect()
}

#[test]
fn wire_decoders_reject_garbage() {
    let (_, valid) = samples();
    let mut accepted = 0;
    for input in inputs(1, &valid) {
        let any = wire::decode(&input);
        let a = AnnouncementFrame::decode(&input);
        let d = DistributionFrame::decode(&input);
        let m = MessageFrame::decode(&input);
        // The typed decoders agree with the dispatching one.
        assert_eq!(any.is_ok(), a.is_ok() || d.is_ok() || m.is_ok());
        accepted += usize::from(any.is_ok());
    }
    // Structure-only decoding accepts the well-shaped inputs; crypto checks come next.
    assert!(accepted > 0 && accepted < N, "{accepted}");
}

#[test]
fn announcement_and_distribution_openers_reject_garbage() {
    let (r, valid) = samples();
    let (bob, _) = reconstruct(2);
    let (alice, _) = reconstruct(1);
    for input in inputs(2, &valid) {
        if valid.contains(&input) {
            continue;
        }
        let _ = open_announcement(&r.room, MemberId(1), &input).expect_err("garbage announcement");
        let _ = open_distribution(
            &r.room,
            MemberId(2),
            &bob,
            MemberId(1),
            &alice.public(),
            &input,
        )
        .expect_err("garbage distribution");
    }
}

#[test]
fn unpad_rejects_garbage() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    for i in 0..N {
        let len = [256usize, 1024, 4096, 16384, 255, 0, 7][i % 7];
        let mut v = vec![0u8; len];
        rng.fill_bytes(&mut v);
        assert!(unpad(&v).is_err());
        // A typing tag in front of garbage, or in a larger bucket, is refused too.
        if let Some(tag) = v.get_mut(..2) {
            tag.copy_from_slice(&vroom_e2e::message::TYPING_TAG.to_be_bytes());
            assert!(unpad(&v).is_err());
        }
    }
}

#[test]
fn link_parsers_reject_garbage() {
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let good_id = RoomSecret::from_bytes([3; 32])
        .derive_keys()
        .room_id()
        .to_base64url();
    for i in 0..N {
        let junk = random_text(&mut rng);
        let link = match i % 4 {
            0 => junk.clone(),
            1 => format!("https://host/r/{junk}"),
            2 => format!("https://host/r/{good_id}#{junk}"),
            _ => format!("http://{junk}/r/{junk}#{junk}"),
        };
        assert!(parse_invite_link(&link).is_err(), "{link:?}");
        assert!(parse_room_parts(&good_id, &junk).is_err(), "{junk:?}");
        assert!(RoomSecret::from_base64url(&junk).is_err() || junk.len() == 43);
        assert!(RoomId::from_base64url(&junk).is_err() || junk.len() == 22);
    }
}

#[test]
fn session_survives_garbage_from_every_member() {
    let (mut r, valid) = samples();
    let before = r.sessions[&2].members();
    for (i, input) in inputs(6, &valid).into_iter().enumerate() {
        let from = [1u32, 2, 3, 77][i % 4];
        let s = r.sessions.get_mut(&2).expect("bob");
        let out = s.on_payload(MemberId(from), &input);
        assert!(
            !out.events
                .iter()
                .any(|e| matches!(e, Event::MemberVerified { .. })),
            "garbage verified a member: {out:?}"
        );
        assert!(
            out.outgoing.is_empty() || from == 77,
            "garbage caused a reply: {out:?}"
        );
    }
    // Bob still works.
    assert_eq!(r.sessions[&2].members(), before);
    r.send(1, "still talking");
    assert_eq!(
        r.messages(2).last().map(|(_, t)| t.as_str()),
        Some("still talking")
    );
}
