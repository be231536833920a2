//! Native benchmarks: `cargo bench -p vroom-e2e --bench e2e`.

// Native only (criterion does not build for wasm32; see tests/browser_bench.rs).
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/workloads.rs"]
mod workloads;

fn messages(c: &mut Criterion) {
    let text = workloads::text_256();
    let (mut a, _) = workloads::pair();
    c.bench_function("message 256 B: encrypt + sign (send_text)", |bench| {
        bench.iter(|| black_box(workloads::send(&mut a, &text)))
    });
    let (mut a, mut b) = workloads::pair();
    c.bench_function("message 256 B: verify + decrypt (on_payload)", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let batch = left.min(1000);
                let frames: Vec<Vec<u8>> =
                    (0..batch).map(|_| workloads::send(&mut a, &text)).collect();
                let start = Instant::now();
                for f in &frames {
                    black_box(workloads::receive(&mut b, f));
                }
                total += start.elapsed();
                left -= batch;
            }
            total
        })
    });
}

fn rotation(c: &mut Criterion) {
    let mut room = workloads::room32();
    c.bench_function(
        "chain distribution to 31 members (31 HPKE seals)",
        |bench| bench.iter(|| black_box(workloads::distribute_31(&mut room))),
    );
    c.bench_function("opening 31 chain distributions", |bench| {
        bench.iter(|| black_box(workloads::open_31(&room)))
    });
    c.bench_function(
        "full rotation in a 32-member room, per member (31 seals + 31 opens)",
        |bench| bench.iter(|| black_box(workloads::rotation_32(&mut room))),
    );
}

fn argon2(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("named room secret (m=64 MiB, t=12, p=1)", |bench| {
        bench.iter(|| black_box(workloads::argon2id()))
    });
    group.finish();
}

criterion_group!(benches, messages, rotation, argon2);
criterion_main!(benches);
