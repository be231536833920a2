//! Browser benchmark (ignored by default): prints timings from headless Chromium.
//!
//! ```text
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
//!   cargo test --release -p vroom-e2e --target wasm32-unknown-unknown --test browser_bench -- --include-ignored --nocapture
//! ```
#![cfg(target_arch = "wasm32")]

use std::hint::black_box;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

#[allow(dead_code)]
#[path = "../benches/support/workloads.rs"]
mod workloads;

wasm_bindgen_test_configure!(run_in_browser);

/// `performance.now()` in milliseconds (falls back to `Date.now()`).
fn now_ms() -> f64 {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into())
        .ok()
        .and_then(|perf| {
            let now: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into())
                .ok()?
                .dyn_into()
                .ok()?;
            now.call0(&perf).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}

fn report(label: &str, runs: u32, mut f: impl FnMut()) {
    f();
    let start = now_ms();
    for _ in 0..runs {
        f();
    }
    let per = (now_ms() - start) / f64::from(runs);
    if per < 1.0 {
        console_log!("{label}: {:.1} µs per op ({runs} runs)", per * 1000.0);
    } else {
        console_log!("{label}: {:.1} ms per op ({runs} runs)", per);
    }
}

#[wasm_bindgen_test]
#[ignore = "benchmark: run with --include-ignored --nocapture"]
fn browser_bench() {
    let text = workloads::text_256();
    let (mut a, _) = workloads::pair();
    report("message 256 B: encrypt + sign", 2000, || {
        black_box(workloads::send(&mut a, &text));
    });
    let (mut a, mut b) = workloads::pair();
    let frames: Vec<Vec<u8>> = (0..2001).map(|_| workloads::send(&mut a, &text)).collect();
    let mut frames = frames.iter();
    report("message 256 B: verify + decrypt", 2000, || {
        if let Some(f) = frames.next() {
            black_box(workloads::receive(&mut b, f));
        }
    });
    let mut room = workloads::room32();
    report("chain distribution to 31 members", 20, || {
        black_box(workloads::distribute_31(&mut room));
    });
    report("opening 31 chain distributions", 20, || {
        black_box(workloads::open_31(&room));
    });
    report("full rotation in a 32-member room, per member", 20, || {
        black_box(workloads::rotation_32(&mut room));
    });
    let first = now_ms();
    black_box(workloads::argon2id());
    console_log!(
        "argon2id m=64 MiB t=12 p=1, first call: {:.0} ms",
        now_ms() - first
    );
    report("argon2id m=64 MiB t=12 p=1", 3, || {
        black_box(workloads::argon2id());
    });
}
