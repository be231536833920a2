//! The relay's frame limit is the protocol's: `vroom_shared::relay` (which
//! the relay depends on) and `vroom-e2e` (which makes the payloads) agree on
//! the largest payload, without either crate depending on the other. The
//! relay's hostile-client suite is `edge-ws-bridge/tests/abuse.rs`.

use vroom_e2e::wire::{
    ANNOUNCEMENT_LEN, BUCKETS, CHUNK_HEADER_LEN, DISTRIBUTION_LEN, MAX_CHUNK_LEN, MAX_MESSAGE_LEN,
};
use vroom_shared::relay::{
    CHUNK_PAYLOAD_LENS, ClientFrame, MAX_CHUNK_PAYLOAD, MAX_CLIENT_FRAME, MAX_PAYLOAD,
};

#[test]
fn the_relay_frame_limit_is_the_largest_e2e_frame() {
    // Checked when this file compiles: the largest payload is a message of
    // the largest bucket; announcements and distributions are smaller.
    const {
        assert!(MAX_PAYLOAD == MAX_MESSAGE_LEN);
        assert!(ANNOUNCEMENT_LEN < MAX_PAYLOAD && DISTRIBUTION_LEN < MAX_PAYLOAD);
        // File chunks: the relay's chunk lengths are the E2E chunk sizes,
        // and the largest chunk frame fits the same limit.
        assert!(MAX_CHUNK_PAYLOAD == MAX_CHUNK_LEN);
        let mut i = 0;
        while i < BUCKETS.len() {
            assert!(CHUNK_PAYLOAD_LENS[i] == CHUNK_HEADER_LEN + BUCKETS[i] + 16);
            i += 1;
        }
        assert!(MAX_CHUNK_PAYLOAD < MAX_CLIENT_FRAME);
    }
    let payload = vec![0u8; MAX_PAYLOAD];
    let direct = ClientFrame::Direct {
        to: u32::MAX,
        payload: &payload,
    };
    let broadcast = ClientFrame::Broadcast { payload: &payload };
    assert_eq!(direct.encode().len(), MAX_CLIENT_FRAME);
    assert!(broadcast.encode().len() < MAX_CLIENT_FRAME);
    let chunk = vec![0u8; MAX_CHUNK_PAYLOAD];
    assert!(ClientFrame::Chunk { payload: &chunk }.encode().len() < MAX_CLIENT_FRAME);
}
