//! Feeds arbitrary bytes to the relay frame decoders of `vroom-shared`
//! (client frames, relay frames, channel envelopes): they must never panic,
//! and whatever they accept must encode back to the same bytes (one
//! encoding per frame).
//! Run: `cd edge-ws-bridge/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run relay_frames`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vroom_shared::relay::{ClientFrame, Envelope, RelayFrame};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = ClientFrame::decode(data) {
        assert_eq!(frame.encode(), data);
    }
    if let Ok(frame) = RelayFrame::decode(data) {
        assert_eq!(frame.encode(), data);
    }
    if let Ok(env) = Envelope::decode(data) {
        assert_eq!(env.encode(), data);
        if let Ok(frame) = RelayFrame::decode(env.frame) {
            assert_eq!(frame.encode(), env.frame);
        }
    }
});
