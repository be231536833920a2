//! File scenarios (`docs/PROTOCOL.md` §7.2, §7.3) through sessions: offer,
//! accept, chunks, verification; newcomers, leaves, cancellation, tampering
//! and the two relay lanes. Run natively and in the browser.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use common::{Relay, contains};
use vroom_e2e::file::CHUNK_SIZE;
use vroom_e2e::{
    DecodeError, Error, Event, FileError, FileHasher, FileId, FileMeta, MemberId, RejectReason,
    RoomSecret,
};

const NAME: &str = "quarterly secret plan.pdf";

fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn sha(data: &[u8]) -> [u8; 32] {
    let mut h = FileHasher::new();
    h.update(data);
    h.finish()
}

fn three() -> Relay {
    let mut r = Relay::new(&RoomSecret::from_bytes([0x33; 32]));
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.join(3, "Carol");
    for id in [1, 2, 3] {
        r.take_events(id);
    }
    r
}

/// Member 1 offers `data`; returns the file id.
fn offer(r: &mut Relay, data: &[u8]) -> FileId {
    let meta = FileMeta {
        name: NAME,
        mime: "application/pdf",
        size: data.len() as u64,
        sha256: sha(data),
    };
    let (out, id) = r.sessions.get_mut(&1).unwrap().offer_file(&meta).unwrap();
    r.route(1, out);
    r.deliver_all();
    id
}

/// The offers each member saw, accepted with `limit`.
fn accept_all(r: &mut Relay, ids: &[u32], limit: u64) {
    for id in ids {
        let events = r.take_events(*id);
        let offered: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::FileOffered {
                    from,
                    file_id,
                    name,
                    size,
                    ..
                } => Some((*from, *file_id, name.clone(), *size)),
                _ => None,
            })
            .collect();
        assert_eq!(offered.len(), 1, "{events:?}");
        let (from, file_id, name, _) = offered[0].clone();
        assert_eq!(name, NAME);
        r.sessions
            .get_mut(id)
            .unwrap()
            .accept_file(from, &file_id, limit)
            .unwrap();
    }
}

/// Member 1 seals every chunk of `data`.
fn seal_all(r: &mut Relay, file_id: &FileId, data: &[u8]) -> Vec<Vec<u8>> {
    let alice = r.sessions.get_mut(&1).unwrap();
    let mut rest = data;
    let mut chunks = Vec::new();
    while let Some(n) = alice.file_next_len(file_id) {
        let (head, tail) = rest.split_at(n);
        chunks.push(alice.file_chunk(file_id, head).unwrap());
        rest = tail;
    }
    assert!(rest.is_empty());
    chunks
}

/// Feeds chunks from member 1 to `to`; returns the file's bytes if it was
/// received, or the error it failed with.
fn feed_chunks(r: &mut Relay, to: u32, chunks: &[Vec<u8>]) -> Result<Vec<u8>, Vec<Event>> {
    let s = r.sessions.get_mut(&to).unwrap();
    let mut got = Vec::new();
    let mut events = Vec::new();
    for c in chunks {
        events.extend(s.on_chunk(MemberId(1), c).events);
    }
    for e in &events {
        match e {
            Event::FileChunk { data, .. } => got.extend_from_slice(data),
            Event::FileReceived { .. } => return Ok(got),
            _ => {}
        }
    }
    Err(events)
}

#[test]
fn a_file_reaches_every_member_verified_and_the_server_sees_no_plaintext() {
    let mut r = three();
    let data = file(3 * CHUNK_SIZE as usize + 1234);
    let id = offer(&mut r, &data);
    accept_all(&mut r, &[2, 3], 1 << 20);
    let chunks = seal_all(&mut r, &id, &data);
    assert_eq!(chunks.len(), 4);
    for to in [2, 3] {
        assert_eq!(feed_chunks(&mut r, to, &chunks).unwrap(), data);
    }
    // What the relay carried: the offer (a message) and the chunks.
    let mut seen: Vec<u8> = r.transcript.iter().flat_map(|c| c.bytes.clone()).collect();
    seen.extend(chunks.concat());
    assert!(!contains(&seen, NAME.as_bytes()));
    assert!(!contains(&seen, b"application/pdf"));
    assert!(!contains(&seen, &data[1000..1032]));
    assert!(!contains(&seen, &sha(&data)));
    // Every chunk but the last is one size; the last is a bucket.
    assert!(chunks[..3].iter().all(|c| c.len() == chunks[0].len()));
    assert_eq!(chunks[3].len(), 31 + 4096 + 16);
}

#[test]
fn a_newcomer_does_not_receive_an_earlier_offer() {
    let mut r = three();
    let data = file(5000);
    let id = offer(&mut r, &data);
    accept_all(&mut r, &[2, 3], 1 << 20);
    r.join(4, "Dave");
    let events = r.take_events(4);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::FileOffered { .. })),
        "{events:?}"
    );
    let chunks = seal_all(&mut r, &id, &data);
    // Its chunks are ignored: no event at all.
    let dave = r.sessions.get_mut(&4).unwrap();
    for c in &chunks {
        assert_eq!(dave.on_chunk(MemberId(1), c).events, vec![]);
    }
    assert_eq!(
        dave.accept_file(MemberId(1), &id, u64::MAX),
        Err(FileError::UnknownFile)
    );
}

#[test]
fn a_leave_stops_the_transfer_and_the_rest_is_cancelled() {
    let mut r = three();
    let data = file(3 * CHUNK_SIZE as usize);
    let id = offer(&mut r, &data);
    accept_all(&mut r, &[2, 3], 1 << 20);
    let first = {
        let alice = r.sessions.get_mut(&1).unwrap();
        alice.file_chunk(&id, &data[..CHUNK_SIZE as usize]).unwrap()
    };
    r.leave(3);
    let alice_events = r.take_events(1);
    assert!(alice_events.contains(&Event::FileSendAborted { file_id: id }));
    assert_eq!(
        r.sessions
            .get_mut(&1)
            .unwrap()
            .file_chunk(&id, &data[CHUNK_SIZE as usize..2 * CHUNK_SIZE as usize]),
        Err(Error::UnknownFile)
    );
    // Bob was told, under Alice's new chain.
    let bob = r.take_events(2);
    assert!(
        bob.contains(&Event::FileFailed {
            from: MemberId(1),
            file_id: id,
            error: FileError::Cancelled,
        }),
        "{bob:?}"
    );
    // Its chunks are ignored from then on.
    let s = r.sessions.get_mut(&2).unwrap();
    assert_eq!(s.on_chunk(MemberId(1), &first).events, vec![]);
}

#[test]
fn a_departed_sender_fails_its_files_and_cancel_and_decline_work() {
    let mut r = three();
    let data = file(2000);
    let id = offer(&mut r, &data);
    accept_all(&mut r, &[2, 3], 1 << 20);
    // Carol declines after all; Alice cancels for Bob.
    r.sessions
        .get_mut(&3)
        .unwrap()
        .decline_file(MemberId(1), &id);
    let out = r.sessions.get_mut(&1).unwrap().cancel_file(&id).unwrap();
    r.route(1, out);
    r.deliver_all();
    assert!(r.take_events(2).contains(&Event::FileFailed {
        from: MemberId(1),
        file_id: id,
        error: FileError::Cancelled
    }));
    assert!(
        !r.take_events(3)
            .iter()
            .any(|e| matches!(e, Event::FileFailed { .. }))
    );
    // A second file; its sender leaves mid-way.
    let id = offer(&mut r, &data);
    accept_all(&mut r, &[2, 3], 1 << 20);
    r.leave(1);
    for to in [2, 3] {
        assert!(r.take_events(to).contains(&Event::FileFailed {
            from: MemberId(1),
            file_id: id,
            error: FileError::SenderLeft
        }));
    }
}

#[test]
fn tampering_limits_and_lanes() {
    let mut r = three();
    let data = file(40_000);
    let id = offer(&mut r, &data);
    // Bob accepts; Carol's limit is too small.
    let carol_offer = r.take_events(3);
    assert!(
        carol_offer
            .iter()
            .any(|e| matches!(e, Event::FileOffered { size: 40_000, .. }))
    );
    assert_eq!(
        r.sessions
            .get_mut(&3)
            .unwrap()
            .accept_file(MemberId(1), &id, 39_999),
        Err(FileError::TooLarge { limit: 39_999 })
    );
    accept_all(&mut r, &[2], 1 << 20);
    let mut chunks = seal_all(&mut r, &id, &data);
    let bob = r.sessions.get_mut(&2).unwrap();
    // A chunk in a chat frame, and a message in a chunk frame.
    let lane = RejectReason::Malformed(DecodeError::Lane);
    assert_eq!(
        bob.on_payload(MemberId(1), &chunks[0]).events,
        vec![Event::PayloadRejected {
            from: MemberId(1),
            reason: lane
        }]
    );
    chunks[1][100] ^= 0x40;
    let err = feed_chunks(&mut r, 2, &chunks).unwrap_err();
    assert!(
        err.contains(&Event::FileFailed {
            from: MemberId(1),
            file_id: id,
            error: FileError::Tampered
        }),
        "{err:?}"
    );
    let out = r.sessions.get_mut(&1).unwrap().send_text("hi").unwrap();
    let vroom_e2e::Outgoing::Broadcast(message) = &out.outgoing[0] else {
        panic!("a broadcast");
    };
    assert_eq!(
        r.sessions
            .get_mut(&2)
            .unwrap()
            .on_chunk(MemberId(1), message)
            .events,
        vec![Event::PayloadRejected {
            from: MemberId(1),
            reason: lane
        }]
    );
}

#[test]
fn offers_and_downloads_are_bounded() {
    use vroom_e2e::session::{MAX_DOWNLOADS, MAX_OFFERS, MAX_UPLOADS};
    let mut r = three();
    let data = file(10);
    let meta = FileMeta {
        name: NAME,
        mime: "application/pdf",
        size: 10,
        sha256: sha(&data),
    };
    // A sender has at most MAX_UPLOADS files going out at once.
    let mut ids = Vec::new();
    for _ in 0..MAX_UPLOADS {
        let (out, id) = r.sessions.get_mut(&1).unwrap().offer_file(&meta).unwrap();
        r.route(1, out);
        ids.push(id);
    }
    assert_eq!(
        r.sessions
            .get_mut(&1)
            .unwrap()
            .offer_file(&meta)
            .map(|_| ()),
        Err(Error::TooManyFiles { max: MAX_UPLOADS })
    );
    r.deliver_all();
    // Finishing one frees a place.
    let chunk = r.sessions.get_mut(&1).unwrap().file_chunk(&ids[0], &data);
    assert!(chunk.is_ok());
    // Offers beyond MAX_OFFERS waiting for an answer: the oldest fail.
    // (Alice cancels each at once to free its place, without telling Bob:
    // the cancellation's message is not sent.)
    for _ in MAX_UPLOADS..MAX_OFFERS + 2 {
        let alice = r.sessions.get_mut(&1).unwrap();
        let (out, id) = alice.offer_file(&meta).unwrap();
        alice.cancel_file(&id).unwrap();
        r.route(1, out);
    }
    r.deliver_all();
    let bob = r.take_events(2);
    let too_many = bob
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::FileFailed {
                    error: FileError::TooMany,
                    ..
                }
            )
        })
        .count();
    assert_eq!(too_many, 2, "{bob:?}");
    // Bob accepts at most MAX_DOWNLOADS at once.
    let offered: Vec<FileId> = bob
        .iter()
        .filter_map(|e| match e {
            Event::FileOffered { file_id, .. } => Some(*file_id),
            _ => None,
        })
        .collect();
    let bob = r.sessions.get_mut(&2).unwrap();
    let mut accepted = 0;
    let mut refused = Vec::new();
    for id in &offered {
        match bob.accept_file(MemberId(1), id, 1 << 20) {
            Ok(()) => accepted += 1,
            Err(e) => refused.push(e),
        }
    }
    assert_eq!(accepted, MAX_DOWNLOADS);
    assert!(
        refused
            .iter()
            .all(|e| matches!(e, FileError::TooMany | FileError::UnknownFile)),
        "{refused:?}"
    );
}
