//! Group scenarios: every property of DESIGN §8 as an executable test,
//! run natively and in the browser.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use chacha20::ChaCha20Rng;
use common::{Relay, contains, feed, identity, reconstruct, seed};
use rand_core::SeedableRng;
use vroom_e2e::member::{Identity, MemberKeys, TabId};
use vroom_e2e::message::seal_message;
use vroom_e2e::session::MAX_PENDING;
use vroom_e2e::{Event, MemberId, RejectReason, RoomSecret, Session};

fn secret() -> RoomSecret {
    RoomSecret::from_bytes([0x5a; 32])
}

fn three() -> Relay {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.join(3, "Carol");
    r
}

fn rejections(events: &[Event]) -> Vec<RejectReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PayloadRejected { reason, .. } | Event::MemberRejected { reason, .. } => {
                Some(*reason)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn members_verify_each_other_and_talk() {
    let mut r = three();
    for id in [1u32, 2, 3] {
        let verified: Vec<(u32, String, String)> = r
            .take_events(id)
            .into_iter()
            .filter_map(|e| match e {
                Event::MemberVerified {
                    member,
                    name,
                    safety_code,
                } => Some((
                    member.0,
                    name.as_str().to_owned(),
                    safety_code.as_str().to_owned(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(verified.len(), 2, "member {id}: {verified:?}");
        for (m, name, code) in verified {
            let s = &r.sessions[&m];
            assert_eq!(name, s.my_name().as_str());
            assert_eq!(
                code,
                s.my_safety_code().as_str(),
                "both sides compute the same safety code"
            );
        }
        let infos = r.sessions[&id].members();
        assert_eq!(infos.len(), 2);
        assert!(
            infos
                .iter()
                .all(|i| i.name.is_some() && i.safety_code.is_some())
        );
    }
    r.send(1, "hello from alice");
    r.send(2, "hi alice");
    assert_eq!(
        r.messages(3),
        vec![(1, "hello from alice".into()), (2, "hi alice".into())]
    );
    assert_eq!(r.messages(2), vec![(1, "hello from alice".into())]);
    assert_eq!(r.messages(1), vec![(2, "hi alice".into())]);
    assert_eq!(r.sessions[&1].pending_len(), 0);
}

#[test]
fn recorded_transcript_plus_link_decrypts_nothing() {
    let mut r = three();
    let texts = ["the secret plan", "meet at noon", "bring snacks"];
    r.send(1, texts[0]);
    r.send(2, texts[1]);
    drop(r.leave(3));
    r.send(1, texts[2]);
    let transcript = r.transcript.clone();
    assert!(transcript.len() > 10);
    let keys = secret().derive_keys();
    let secrets: Vec<Vec<u8>> = vec![
        secret().as_bytes().to_vec(),
        keys.psk().to_vec(),
        keys.join_key().to_vec(),
        keys.announce_key().to_vec(),
        reconstruct(1).1.as_bytes().to_vec(),
        reconstruct(2).1.as_bytes().to_vec(),
    ];
    for c in &transcript {
        for t in texts.iter().chain(["Alice", "Bob", "Carol"].iter()) {
            assert!(
                !contains(&c.bytes, t.as_bytes()),
                "plaintext {t:?} on the wire"
            );
        }
        for s in &secrets {
            assert!(!contains(&c.bytes, s), "secret bytes on the wire");
        }
    }
    // Someone finds the link after the room: they have S, every recorded
    // payload, and may pose as any member id. Nothing decrypts.
    for as_id in [1u32, 2, 3, 99] {
        let mut late = Session::new(
            &keys,
            MemberId(as_id),
            "Eve",
            ChaCha20Rng::from_seed([0xee; 32]),
        )
        .unwrap();
        for id in [1u32, 2, 3] {
            late.on_member_joined(MemberId(id));
        }
        let mut events = Vec::new();
        for c in &transcript {
            events.extend(feed(&mut late, c.from.0, &c.bytes));
        }
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Message { .. } | Event::MemberVerified { .. })),
            "late reader as {as_id} got {events:?}"
        );
        assert!(rejections(&events).contains(&RejectReason::OpenFailed) || as_id == 99);
    }
}

#[test]
fn former_member_cannot_read_later_messages() {
    let mut r = three();
    r.send(1, "before carol leaves");
    assert_eq!(r.messages(3), vec![(1, "before carol leaves".into())]);
    let mut carol = r.leave(3);
    // Both remaining members rotate and send the new chain only to each other.
    for id in [1u32, 2] {
        let ev = r.take_events(id);
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::MemberLeft {
                member: MemberId(3),
                ..
            }
        )));
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::KeysRotated { chain_id: 1 }))
        );
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::MemberRekeyed { chain_id: 1, .. }))
        );
    }
    let start = r.transcript.len();
    r.send(1, "after carol left");
    r.send(2, "carol cannot see this");
    assert_eq!(r.messages(2), vec![(1, "after carol left".into())]);
    // Carol kept all her state and sees every payload sent after she left,
    // including the rotation distributions addressed to others.
    let later: Vec<_> = r.transcript[start - 2..].to_vec();
    let mut events = Vec::new();
    for c in &later {
        events.extend(feed(&mut carol, c.from.0, &c.bytes));
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Message { .. })),
        "{events:?}"
    );
    assert!(rejections(&events).contains(&RejectReason::NotForMe));
}

#[test]
fn member_cannot_forge_another_members_message() {
    let mut r = three();
    r.send(1, "genuine");
    r.messages(3);
    // Bob (member 2) holds Alice's chain key and his own signing key; he
    // encrypts correctly under Alice's chain but cannot sign as Alice.
    let (bob_keys, _) = reconstruct(2);
    let (_, alice_ck) = reconstruct(1);
    let (_, ck1) = alice_ck.step();
    let (mk1, _) = ck1.step();
    let room_id = r.room.room_id();
    let forged = seal_message(
        &room_id,
        MemberId(1),
        &bob_keys,
        0,
        1,
        &mk1,
        "alice owes bob",
    )
    .unwrap();
    let carol = r.sessions.get_mut(&3).unwrap();
    // Delivered (with the server's help) as coming from Alice: bad signature.
    assert_eq!(
        rejections(&feed(carol, 1, &forged)),
        vec![RejectReason::BadSignature]
    );
    // Delivered honestly as from Bob: the frame names Alice.
    assert_eq!(
        rejections(&feed(carol, 2, &forged)),
        vec![RejectReason::SenderMismatch]
    );
    // Signed by a key that is nobody's: still rejected.
    let stranger = MemberKeys::from_seeds(&[9; 32], &[9; 32]);
    let forged = seal_message(&room_id, MemberId(1), &stranger, 0, 1, &mk1, "x").unwrap();
    assert_eq!(
        rejections(&feed(carol, 1, &forged)),
        vec![RejectReason::BadSignature]
    );
    // Alice's real next message still decrypts (no state was consumed).
    r.send(1, "still fine");
    assert_eq!(r.messages(3), vec![(1, "still fine".into())]);
    // Signed with Alice's own keys, the reconstructed chain opens (so the
    // forgeries above failed for the signature, not for a wrong key).
    let (alice_keys, _) = reconstruct(1);
    let (_, ck3) = ck1.step().1.step();
    let (mk3, _) = ck3.step();
    let genuine = seal_message(&room_id, MemberId(1), &alice_keys, 0, 3, &mk3, "ok").unwrap();
    let carol = r.sessions.get_mut(&3).unwrap();
    assert_eq!(
        feed(carol, 1, &genuine),
        vec![Event::Message {
            from: MemberId(1),
            text: "ok".into()
        }]
    );
}

#[test]
fn server_cannot_inject_a_member() {
    let mut r = three();
    let keys = r.room.clone();
    let eve = MemberKeys::from_seeds(&[0xe1; 32], &[0xe2; 32]);
    // The server knows the room id and sees the join key, but not the PSK.
    let other = RoomSecret::from_bytes(*keys.join_key()).derive_keys();
    let fake = eve.announcement(&other, MemberId(66));
    let alice = r.sessions.get_mut(&1).unwrap();
    let out = alice.on_member_joined(MemberId(66));
    assert_eq!(
        out.outgoing.len(),
        1,
        "only our announcement goes to the newcomer"
    );
    let out = alice.on_payload(MemberId(66), &fake);
    assert_eq!(
        out.events,
        vec![Event::MemberRejected {
            member: MemberId(66),
            reason: RejectReason::BadMac
        }]
    );
    assert!(
        out.outgoing.is_empty(),
        "no chain is sent to an unverified member"
    );
    // A real announcement of member 2 replayed under another member id is refused too.
    let real = r
        .transcript
        .iter()
        .find(|c| c.from == MemberId(2) && c.bytes[1] == 1)
        .unwrap()
        .bytes
        .clone();
    let alice = r.sessions.get_mut(&1).unwrap();
    let out = alice.on_payload(MemberId(66), &real);
    assert!(matches!(
        out.events.as_slice(),
        [Event::MemberRejected {
            reason: RejectReason::SenderMismatch,
            ..
        }]
    ));
    assert!(out.outgoing.is_empty());
    assert!(
        alice
            .members()
            .iter()
            .any(|m| m.id == MemberId(66) && m.safety_code.is_none())
    );
}

#[test]
fn tampered_truncated_replayed_and_reordered_frames() {
    let mut r = three();
    r.auto = false;
    r.send(1, "one");
    let frame = r
        .queue
        .iter()
        .find(|c| c.to == MemberId(2))
        .unwrap()
        .bytes
        .clone();
    r.queue.clear();
    let bob = r.sessions.get_mut(&2).unwrap();
    // Tampered: every byte flipped in turn is rejected, and none moves the chain.
    for i in 0..frame.len() {
        let mut t = frame.clone();
        t[i] ^= 0x01;
        let ev = feed(bob, 1, &t);
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Message { .. })),
            "byte {i} tampered: {ev:?}"
        );
    }
    // Truncated: every prefix is malformed.
    for len in 0..frame.len() {
        let ev = feed(bob, 1, &frame[..len]);
        assert!(
            matches!(rejections(&ev).as_slice(), [RejectReason::Malformed(_)]),
            "len {len}"
        );
    }
    // Appended bytes are malformed too.
    let mut long = frame.clone();
    long.push(0);
    assert!(matches!(
        rejections(&feed(bob, 1, &long)).as_slice(),
        [RejectReason::Malformed(_)]
    ));
    // The original still decrypts; its replay does not.
    assert!(matches!(
        feed(bob, 1, &frame).as_slice(),
        [Event::Message { .. }]
    ));
    assert_eq!(
        rejections(&feed(bob, 1, &frame)),
        vec![RejectReason::Replay]
    );

    // Reordered: five messages delivered in reverse all decrypt once, in arrival order.
    for i in 0..5 {
        r.send(1, &format!("m{i}"));
    }
    let mut to_bob: Vec<_> = r
        .queue
        .iter()
        .filter(|c| c.to == MemberId(2))
        .cloned()
        .collect();
    r.queue.clear();
    to_bob.reverse();
    for c in to_bob.clone() {
        r.deliver(c);
    }
    let got: Vec<String> = r.messages(2).into_iter().map(|(_, t)| t).collect();
    assert_eq!(got, vec!["m4", "m3", "m2", "m1", "m0"]);
    for c in to_bob {
        r.deliver(c);
    }
    let ev = r.take_events(2);
    assert_eq!(rejections(&ev), vec![RejectReason::Replay; 5]);

    // A replayed chain distribution is stale.
    let dist = r
        .transcript
        .iter()
        .find(|c| c.from == MemberId(1) && c.to == MemberId(2) && c.bytes[1] == 2)
        .unwrap()
        .clone();
    r.deliver(dist);
    assert_eq!(
        rejections(&r.take_events(2)),
        vec![RejectReason::StaleChain]
    );
}

#[test]
fn index_gap_beyond_the_skip_limit_is_rejected() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.auto = false;
    for i in 0..=1001 {
        r.send(1, &format!("{i}"));
    }
    let last = r.queue.pop_back().unwrap();
    r.queue.clear();
    r.deliver(last);
    assert_eq!(
        rejections(&r.take_events(2)),
        vec![RejectReason::TooFarAhead]
    );
}

#[test]
fn newcomer_gets_only_current_positions() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.auto = false;
    r.send(1, "old news");
    let old = r.queue.pop_front().unwrap();
    r.deliver(old.clone());
    r.auto = true;
    r.join(4, "Dave");
    assert!(
        r.take_events(4)
            .iter()
            .filter(|e| matches!(e, Event::MemberVerified { .. }))
            .count()
            == 2
    );
    let dave = r.sessions.get_mut(&4).unwrap();
    assert_eq!(
        rejections(&feed(dave, 1, &old.bytes)),
        vec![RejectReason::BeforeChainStart]
    );
    r.send(1, "welcome dave");
    assert_eq!(r.messages(4), vec![(1, "welcome dave".into())]);
}

#[test]
fn early_messages_wait_for_their_chain() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.auto = false;
    r.join(2, "Bob");
    // Deliver only announcements, so Bob's chain distribution to Alice is still in flight.
    let pending: Vec<_> = r.queue.drain(..).collect();
    let (dists, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|c| c.bytes[1] == 2);
    for c in rest {
        r.deliver(c);
    }
    let held: Vec<_> = r.queue.drain(..).collect();
    r.send(2, "early bird");
    let early = r.queue.drain(..).collect::<Vec<_>>();
    for c in early {
        r.deliver(c);
    }
    assert_eq!(r.sessions[&1].pending_len(), 1);
    assert!(r.messages(1).is_empty());
    for c in dists.into_iter().chain(held) {
        r.deliver(c);
    }
    r.deliver_all();
    assert_eq!(r.messages(1), vec![(2, "early bird".into())]);
    assert_eq!(r.sessions[&1].pending_len(), 0);
}

#[test]
fn waiting_queue_is_bounded_and_cleared_on_leave() {
    let keys = secret().derive_keys();
    let mut a = Session::new(&keys, MemberId(1), "A", ChaCha20Rng::from_seed(seed(1))).unwrap();
    let (bob, ck) = reconstruct(2);
    let (mk, _) = ck.step();
    let frame = seal_message(&keys.room_id(), MemberId(2), &bob, 0, 0, &mk, "hi").unwrap();
    // Bob has not joined yet (from the relay's view): his payloads wait.
    for _ in 0..MAX_PENDING {
        assert!(feed(&mut a, 2, &frame).is_empty());
    }
    assert_eq!(
        rejections(&feed(&mut a, 2, &frame)),
        vec![RejectReason::QueueOverflow]
    );
    assert_eq!(a.pending_len(), MAX_PENDING);
    a.on_member_joined(MemberId(2));
    assert_eq!(a.pending_len(), MAX_PENDING, "still no announcement");
    let out = a.on_member_left(MemberId(2));
    assert_eq!(out.events.len(), MAX_PENDING + 1);
    assert_eq!(a.pending_len(), 0);
    assert_eq!(
        rejections(&feed(&mut a, 2, &frame)),
        vec![RejectReason::SenderLeft]
    );
    assert!(matches!(
        a.on_member_joined(MemberId(2)).events.as_slice(),
        [Event::MemberRejected {
            reason: RejectReason::MemberIdReused,
            ..
        }]
    ));
}

#[test]
fn no_rotation_when_the_leaver_never_held_our_chain() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    let alice = r.sessions.get_mut(&1).unwrap();
    alice.on_member_joined(MemberId(7));
    let out = alice.on_member_left(MemberId(7));
    assert_eq!(out.events.len(), 1);
    assert!(out.outgoing.is_empty());
    assert_eq!(alice.chain_id(), Some(0));
}

#[test]
fn sessions_are_deterministic_given_seeds() {
    let run = || {
        let mut r = three();
        r.send(1, "x");
        r.leave(2);
        r.send(3, "y");
        r.transcript
            .into_iter()
            .map(|c| c.bytes)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn debug_output_holds_no_secret() {
    let r = three();
    let s = &r.sessions[&1];
    let printed = format!("{s:?} {:?}", r.room);
    let keys = secret().derive_keys();
    assert!(!printed.contains(secret().to_base64url().as_str()));
    assert!(!printed.contains(keys.join_key_base64url().as_str()));
    assert!(!printed.contains(&format!("{:?}", keys.psk())));
    assert!(!printed.contains(&format!("{:?}", reconstruct(1).1.as_bytes())));
}

#[test]
fn oversized_text_is_refused_without_using_an_index() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    let alice = r.sessions.get_mut(&1).unwrap();
    let err = alice.send_text(&"x".repeat(vroom_e2e::message::MAX_TEXT_LEN + 1));
    assert!(matches!(err, Err(vroom_e2e::Error::MessageTooLong { .. })));
    r.send(1, &"y".repeat(vroom_e2e::message::MAX_TEXT_LEN));
    assert_eq!(r.messages(2).len(), 1);
}

#[test]
fn re_announcing_other_keys_and_payloads_from_self_are_refused() {
    let mut r = three();
    // A second session claiming member id 2 (same room, other keys).
    let keys = r.room.clone();
    let mut impostor = Session::new(
        &keys,
        MemberId(2),
        "Bob",
        ChaCha20Rng::from_seed([0x99; 32]),
    )
    .unwrap();
    let out = impostor.on_member_joined(MemberId(1));
    let announcement = match out.outgoing.as_slice() {
        [vroom_e2e::Outgoing::Direct { payload, .. }] => payload.clone(),
        other => panic!("{other:?}"),
    };
    let alice = r.sessions.get_mut(&1).unwrap();
    assert_eq!(
        rejections(&feed(alice, 2, &announcement)),
        vec![RejectReason::KeyChange]
    );
    // The genuine announcement repeated is silently ignored.
    let genuine = r
        .transcript
        .iter()
        .find(|c| c.from == MemberId(2) && c.to == MemberId(1) && c.bytes[1] == 1)
        .unwrap()
        .bytes
        .clone();
    let alice = r.sessions.get_mut(&1).unwrap();
    let out = alice.on_payload(MemberId(2), &genuine);
    assert!(out.events.is_empty() && out.outgoing.is_empty(), "{out:?}");
    assert_eq!(
        rejections(&feed(alice, 1, &genuine)),
        vec![RejectReason::FromSelf]
    );
}

#[test]
fn system_rng_sessions_talk() {
    // getrandom: the OS natively, crypto.getRandomValues in the browser.
    let s1 = RoomSecret::generate(&mut vroom_e2e::SystemRng::default());
    let s2 = RoomSecret::generate(&mut vroom_e2e::SystemRng::default());
    assert_ne!(s1.as_bytes(), s2.as_bytes());
    let keys = s1.derive_keys();
    let mut a = Session::with_system_rng(&keys, MemberId(1), "A").unwrap();
    let mut b = Session::with_system_rng(&keys, MemberId(2), "B").unwrap();
    assert_ne!(a.my_safety_code(), b.my_safety_code());
    let mut to_b: Vec<Vec<u8>> = Vec::new();
    let mut to_a: Vec<Vec<u8>> = Vec::new();
    let direct = |out: vroom_e2e::Output| {
        out.outgoing.into_iter().map(|o| match o {
            vroom_e2e::Outgoing::Direct { payload, .. }
            | vroom_e2e::Outgoing::Broadcast(payload) => payload,
        })
    };
    to_b.extend(direct(a.on_member_joined(MemberId(2))));
    to_a.extend(direct(b.on_member_joined(MemberId(1))));
    while !to_a.is_empty() || !to_b.is_empty() {
        let for_b = std::mem::take(&mut to_b);
        let for_a = std::mem::take(&mut to_a);
        for p in for_b {
            to_a.extend(direct(b.on_payload(MemberId(1), &p)));
        }
        for p in for_a {
            to_b.extend(direct(a.on_payload(MemberId(2), &p)));
        }
    }
    let frame = direct(a.send_text("random enough").unwrap())
        .next()
        .unwrap();
    assert_eq!(
        b.on_payload(MemberId(1), &frame).events,
        vec![Event::Message {
            from: MemberId(1),
            text: "random enough".into()
        }]
    );
}

/// The verification events a member saw, without messages and rotations.
fn arrivals(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::MemberVerified { .. }
                    | Event::MemberReturned { .. }
                    | Event::MemberKeyChanged { .. }
                    | Event::MemberLeft { .. }
                    | Event::MemberExpired { .. }
            )
        })
        .cloned()
        .collect()
}

#[test]
fn a_tab_that_reconnects_keeps_its_code_and_is_recognised() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    let code = r.sessions[&2].my_safety_code();
    r.take_events(1);
    // Bob's connection drops; his tab comes back as member 5 with its identity.
    drop(r.leave(2));
    r.join_as(5, "Bob", identity(2));
    assert_eq!(r.sessions[&5].my_safety_code(), code);
    let events = r.take_events(1);
    assert!(events.contains(&Event::KeysRotated { chain_id: 1 }));
    assert_eq!(
        arrivals(&events),
        vec![
            Event::MemberLeft {
                member: MemberId(2),
                name: Some(vroom_e2e::DisplayName::new("Bob").unwrap())
            },
            Event::MemberReturned {
                member: MemberId(5),
                previous: MemberId(2),
                name: vroom_e2e::DisplayName::new("Bob").unwrap(),
                safety_code: code,
            }
        ]
    );
    r.send(5, "back");
    assert_eq!(r.messages(1), vec![(5, "back".into())]);
}

#[test]
fn a_stale_connection_of_the_same_tab_is_forgotten_without_a_leave() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.take_events(1);
    // The relay has not noticed Bob's old connection drop when his tab returns.
    r.join_as(6, "Bob", identity(2));
    let events = r.take_events(1);
    assert!(matches!(
        arrivals(&events).as_slice(),
        [Event::MemberReturned {
            member: MemberId(6),
            previous: MemberId(2),
            ..
        }]
    ));
    let ids: Vec<u32> = r.sessions[&1].members().iter().map(|m| m.id.0).collect();
    assert_eq!(ids, vec![6], "the stale member 2 is gone from Alice's list");
    // The relay's late Left for member 2 says nothing more and rotates nothing.
    r.sessions.remove(&2);
    let out = r.sessions.get_mut(&1).unwrap().on_member_left(MemberId(2));
    assert_eq!(out, vroom_e2e::Output::default());
}

#[test]
fn a_tab_that_comes_back_with_other_keys_is_announced() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    let old_code = r.sessions[&2].my_safety_code();
    drop(r.leave(2));
    r.take_events(1);
    // Someone with the room secret and Bob's tab id, but not his keys.
    let tab = identity(2).tab();
    let other_keys = Identity::generate(&mut ChaCha20Rng::from_seed([0x77; 32]));
    r.join_as(7, "Bob", Identity::new(other_keys.keys().clone(), tab));
    let new_code = r.sessions[&7].my_safety_code();
    assert_ne!(new_code, old_code);
    let bob = vroom_e2e::DisplayName::new("Bob").unwrap();
    assert_eq!(
        arrivals(&r.take_events(1)),
        vec![Event::MemberKeyChanged {
            member: MemberId(7),
            previous: MemberId(2),
            previous_name: bob.clone(),
            name: bob,
            previous_code: old_code,
            safety_code: new_code,
        }]
    );
    // Claiming Alice's own tab is a key change too, reported against her own id.
    r.join_as(
        8,
        "Mallory",
        Identity::new(other_keys.keys().clone(), identity(1).tab()),
    );
    assert!(matches!(
        arrivals(&r.take_events(1)).as_slice(),
        [Event::MemberKeyChanged {
            member: MemberId(8),
            previous: MemberId(1),
            ..
        }]
    ));
}

#[test]
fn members_that_never_verify_expire_and_rotate_our_chain() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.take_events(1);
    let alice = r.sessions.get_mut(&1).unwrap();
    // A member id the relay made up: never announces.
    let out = alice.on_member_joined(MemberId(40));
    assert_eq!(out.outgoing.len(), 1, "our announcement goes to it");
    assert!(
        alice
            .members()
            .iter()
            .any(|m| m.id == MemberId(40) && m.name.is_none())
    );
    // A verified member does not expire.
    assert_eq!(
        alice.expire_unverified(MemberId(2)),
        vroom_e2e::Output::default()
    );
    let out = alice.expire_unverified(MemberId(40));
    assert_eq!(
        out.events,
        vec![Event::MemberExpired {
            member: MemberId(40)
        }]
    );
    assert!(
        out.outgoing.is_empty(),
        "it never held our chain: no rotation"
    );
    assert!(alice.members().iter().all(|m| m.id != MemberId(40)));

    // A member holding S that takes our chain but never sends its own:
    // after expiry our chain rotates away from it.
    let keys = r.room.clone();
    let mut lurker = Session::new(
        &keys,
        MemberId(41),
        "Lurker",
        ChaCha20Rng::from_seed([4; 32]),
    )
    .unwrap();
    let alice = r.sessions.get_mut(&1).unwrap();
    alice.on_member_joined(MemberId(41));
    let announcement = match lurker.on_member_joined(MemberId(1)).outgoing.as_slice() {
        [vroom_e2e::Outgoing::Direct { payload, .. }] => payload.clone(),
        other => panic!("{other:?}"),
    };
    let out = alice.on_payload(MemberId(41), &announcement);
    assert_eq!(out.outgoing.len(), 1, "Alice sent her chain to the lurker");
    let out = alice.expire_unverified(MemberId(41));
    assert_eq!(
        out.events,
        vec![
            Event::MemberExpired {
                member: MemberId(41)
            },
            Event::KeysRotated { chain_id: 1 }
        ]
    );
    assert!(
        out.outgoing
            .iter()
            .all(|o| matches!(o, vroom_e2e::Outgoing::Direct { to, .. } if *to == MemberId(2)))
    );
    // Its later payloads are refused.
    assert_eq!(
        rejections(&feed(alice, 41, &announcement)),
        vec![RejectReason::SenderLeft]
    );
}

#[test]
fn identities_survive_storage_and_tab_ids_travel_only_encrypted() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    let tab: TabId = identity(2).tab();
    for c in &r.transcript {
        assert!(
            !contains(&c.bytes, &tab.0),
            "tab id on the wire in the clear"
        );
    }
    let stored = identity(2).to_base64url();
    let restored = Identity::from_base64url(&stored).unwrap();
    assert_eq!(restored.tab(), tab);
    assert_eq!(
        restored.keys().safety_code(&r.room.room_id()),
        r.sessions[&2].my_safety_code()
    );
}

#[test]
fn our_own_reconnect_recognises_who_stayed_and_who_changed_keys() {
    let mut r = Relay::new(&secret());
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.join(3, "Carol");
    let memory = r.sessions[&2].tab_memory();
    let alice_code = r.sessions[&1].my_safety_code();
    // Bob's connection drops; meanwhile Carol's tab gets other keys.
    drop(r.leave(2));
    drop(r.leave(3));
    let carol_tab = identity(3).tab();
    let other = Identity::generate(&mut ChaCha20Rng::from_seed([0x33; 32]));
    r.join_as(7, "Carol", Identity::new(other.keys().clone(), carol_tab));
    // Bob's tab comes back as member 8 and recalls what it knew.
    let mut bob = Session::with_identity(
        &r.room,
        MemberId(8),
        identity(2),
        "Bob",
        ChaCha20Rng::from_seed(seed(8)),
    )
    .unwrap();
    bob.recall(memory);
    r.sessions.insert(8, bob);
    let mut outputs = Vec::new();
    for other in [1u32, 7] {
        let out = r
            .sessions
            .get_mut(&8)
            .unwrap()
            .on_member_joined(MemberId(other));
        outputs.push((8, out));
        let out = r
            .sessions
            .get_mut(&other)
            .unwrap()
            .on_member_joined(MemberId(8));
        outputs.push((other, out));
    }
    for (from, out) in outputs {
        r.route(from, out);
    }
    r.deliver_all();
    let seen = arrivals(&r.take_events(8));
    assert!(
        seen.contains(&Event::MemberReturned {
            member: MemberId(1),
            previous: MemberId(1),
            name: vroom_e2e::DisplayName::new("Alice").unwrap(),
            safety_code: alice_code,
        }),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(
            e,
            Event::MemberKeyChanged {
                member: MemberId(7),
                previous: MemberId(3),
                ..
            }
        )),
        "{seen:?}"
    );
    assert_eq!(r.sessions[&8].members().len(), 2, "nobody was forgotten");
}

#[test]
fn typing_signals_arrive_encrypted_and_look_like_short_messages() {
    let mut r = three();
    for id in [1u32, 2, 3] {
        r.take_events(id);
    }
    let start = r.transcript.len();
    let out = r.sessions.get_mut(&1).unwrap().send_typing().unwrap();
    r.route(1, out);
    r.deliver_all();
    for id in [2u32, 3] {
        assert_eq!(r.take_events(id), vec![Event::Typing { from: MemberId(1) }]);
    }
    r.send(1, "hi");
    let carried: Vec<_> = r.transcript[start..].to_vec();
    // What the relay carried: a typing signal has the size of a short text,
    // and the same type byte; only the key holders tell them apart.
    assert!(
        carried
            .iter()
            .all(|c| c.bytes.len() == carried[0].bytes.len())
    );
    assert!(
        carried
            .iter()
            .all(|c| c.bytes[..2] == carried[0].bytes[..2])
    );
    assert_eq!(r.messages(2), vec![(1, "hi".into())]);
    // A former member cannot read typing signals sent after it left.
    let mut carol = r.leave(3);
    r.take_events(1);
    r.take_events(2);
    let start = r.transcript.len();
    let out = r.sessions.get_mut(&2).unwrap().send_typing().unwrap();
    r.route(2, out);
    r.deliver_all();
    assert_eq!(r.take_events(1), vec![Event::Typing { from: MemberId(2) }]);
    let after: Vec<_> = r.transcript[start..].to_vec();
    let mut events = Vec::new();
    for c in &after {
        events.extend(feed(&mut carol, c.from.0, &c.bytes));
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Typing { .. })),
        "{events:?}"
    );
}
