//! The site end to end in real browsers (see `vroom_system_tests::browser`):
//! the main flows in every engine, the server-side audits in Chromium.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vroom_system_tests::browser::{App, Browser, Ctx, Suite, dist, room_of, wait_no_keys};
use vroom_system_tests::{TempDir, random, redis_url, room_keys};

fn main() -> ExitCode {
    Suite::new()
        .once(
            "three_browsers_chat_rotate_and_end",
            three_browsers_chat_rotate_and_end,
        )
        .once("named_rooms", named_rooms)
        .once(
            "creator_reload_keeps_the_room_and_closing_ends_it",
            creator_reload_keeps_the_room_and_closing_ends_it,
        )
        .once(
            "no_plaintext_reaches_the_server_side",
            no_plaintext_reaches_the_server_side,
        )
        .once("tampered_wasm_is_refused", tampered_wasm_is_refused)
        .ignored("site_timings", site_timings)
        .run()
}

async fn three_browsers_chat_rotate_and_end(t: Ctx) {
    let app = t.app().await;
    let [a, b, c] = t.browsers().await;

    a.goto(&app.url("/")).await;
    a.wait("#quick-create").await;
    a.screenshot("landing-desktop", 1280, 900).await;
    a.screenshot("landing-phone", 360, 780).await;

    let link = a.create_quick_room(app, "Alice").await;
    let room = room_of(&link);
    assert!(!a.current_url().await.contains('#'));
    b.join_by_link(&link).await;
    // The secret left B's address bar.
    assert!(!b.current_url().await.contains('#'));
    a.wait_members(2).await;
    b.wait_members(2).await;
    // Each sees the other's own safety code.
    let (code_a, code_b) = (a.my_code().await, b.my_code().await);
    assert!(b.texts("#members li .code").await.contains(&code_a));
    assert!(a.texts("#members li .code").await.contains(&code_b));

    a.say("hello from Alice").await;
    b.wait_text(".line.other .text", "hello from Alice").await;
    b.say("hi Alice,\u{e008}\u{e007}\u{e008}second line").await;
    a.wait_text(".line.other .text", "second line").await;
    a.wait_text(".line.other .author", "").await;

    c.join_by_link(&link).await;
    for x in [&a, &b, &c] {
        x.wait_members(3).await;
    }
    c.say("Carol here").await;
    a.wait_text(".line.other .text", "Carol here").await;
    b.wait_text(".line.other .text", "Carol here").await;
    a.say("welcome Carol").await;
    c.wait_text(".line.other .text", "welcome Carol").await;
    a.screenshot("room-desktop", 1280, 900).await;
    a.screenshot("room-phone", 360, 780).await;

    // Carol leaves: the others rotate keys and keep talking.
    c.click("#leave-room").await;
    c.click("#confirm-yes").await;
    c.wait("#left").await;
    a.wait_text(".line.system", "Keys rotated").await;
    a.wait_members(2).await;
    b.say("still here after Carol left").await;
    a.wait_text(".line.other .text", "still here after Carol left")
        .await;

    // No CSP violation anywhere.
    for x in [&a, &b, &c] {
        let violations = x.csp_violations().await;
        assert!(violations.is_empty(), "CSP violations: {violations:?}");
    }

    // Alice ends the room: everyone sees it, nothing remains in Redis.
    a.end_room().await;
    for x in [&a, &b] {
        x.wait_text("#ended", "This room has ended.").await;
        x.wait_text("#ended", "Nothing of it remains on the server.")
            .await;
    }
    assert!(a.texts(".line").await.is_empty());
    a.screenshot("ended-desktop", 1280, 900).await;
    a.screenshot("ended-phone", 360, 780).await;
    wait_no_keys(&room).await;
    for x in [a, b, c] {
        x.close().await;
    }
}

async fn named_rooms(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let name = format!("book club {}", u32::from_le_bytes(random()));

    a.named_form(app, &name, true, "correct horse battery staple")
        .await;
    a.wait_text("#conn", "Connected").await;
    a.wait_text(".room-title", &name).await;
    assert!(a.exists("#end-room").await);

    // Another passphrase is another room: nothing live there.
    b.named_form(app, &name, false, "wrong horse battery staple")
        .await;
    b.wait_text("#failed", "No live room with these credentials")
        .await;

    b.named_form(app, &name, false, "correct horse battery staple")
        .await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;
    b.wait_members(2).await;
    b.say("named hello").await;
    a.wait_text(".line.other .text", "named hello").await;

    a.end_room().await;
    b.wait_text("#ended", "This room has ended.").await;

    // The same credentials create a fresh, empty room.
    b.named_form(app, &name, true, "correct horse battery staple")
        .await;
    b.wait_text("#conn", "Connected").await;
    b.wait("#end-room").await;
    assert!(b.texts(".line.other").await.is_empty());
    b.wait_members(1).await;
    b.end_room().await;
    b.wait("#ended").await;
    a.close().await;
    b.close().await;
}

async fn creator_reload_keeps_the_room_and_closing_ends_it(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let link = a.create_quick_room(app, "Alice").await;
    let room = room_of(&link);
    b.join_by_link(&link).await;
    a.wait_members(2).await;

    // A reload of the creator's tab does not end the room.
    a.client.refresh().await.expect("reload");
    a.wait_text("#conn", "Connected").await;
    a.wait("#end-room").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.wait_members(2).await;
    a.say("back after reload").await;
    b.wait_text(".line.other .text", "back after reload").await;
    assert!(!room_keys(&room).await.is_empty());

    // Closing the creator's tab ends it (after the relay's grace period).
    a.close().await;
    b.wait_text("#ended", "This room has ended.").await;
    wait_no_keys(&room).await;
    b.close().await;
}

async fn no_plaintext_reaches_the_server_side(t: Ctx) {
    // Everything Redis executes, from before the first request.
    let monitor = Arc::new(Mutex::new(Vec::<u8>::new()));
    let redis_addr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let mut mon = TcpStream::connect(&redis_addr).await.expect("redis");
    mon.write_all(b"MONITOR\r\n").await.unwrap();
    let sink = monitor.clone();
    let monitor_task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = mon.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    });

    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let secrets_typed = [
        "Zanzibar-Quokka-Name",
        "zebra crossing at midnight 4471",
        "the eagle lands at dawn 9f3k",
        "Marmalade Hedgehog",
    ];
    // A named room (name + passphrase) and a quick room.
    a.goto(&app.url("/")).await;
    a.type_into("#display-name", secrets_typed[3]).await;
    a.type_into("#named-name", secrets_typed[0]).await;
    a.type_into("#named-pass", secrets_typed[1]).await;
    a.click("#named-create").await;
    a.wait_text("#conn", "Connected").await;
    b.goto(&app.url("/")).await;
    b.type_into("#display-name", "Pistachio Walrus").await;
    b.type_into("#join-name", secrets_typed[0]).await;
    b.type_into("#join-pass", secrets_typed[1]).await;
    b.click("#join-named-go").await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;
    a.say(secrets_typed[2]).await;
    b.wait_text(".line.other .text", secrets_typed[2]).await;
    b.say("reply with plaintext ABCDEF123").await;
    a.wait_text(".line.other .text", "ABCDEF123").await;
    let secret_fragment = {
        // The room secret of a quick room, from its link.
        let [c] = t.browsers().await;
        let link = c.create_quick_room(app, "Quick Creator").await;
        c.say("quick room plaintext QRS789").await;
        c.end_room().await;
        c.close().await;
        link.rsplit('#').next().unwrap().to_owned()
    };
    a.end_room().await;
    b.wait("#ended").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    monitor_task.abort();

    let mut seen = monitor.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        seen.len() > 1000,
        "MONITOR saw too little: {} bytes",
        seen.len()
    );
    let relay = app.captured();
    assert!(
        relay.len() > 1000,
        "the front saw too little: {} bytes",
        relay.len()
    );
    seen.extend_from_slice(&relay);
    let haystack = String::from_utf8_lossy(&seen).to_lowercase();
    for needle in secrets_typed
        .iter()
        .copied()
        .chain([
            "Pistachio Walrus",
            "reply with plaintext",
            "ABCDEF123",
            "QRS789",
            "Quick Creator",
        ])
        .chain([secret_fragment.as_str()])
    {
        assert!(
            !haystack.contains(&needle.to_lowercase()),
            "{needle:?} reached the server side"
        );
    }
    a.close().await;
    b.close().await;
}

async fn tampered_wasm_is_refused(t: Ctx) {
    let copy = TempDir::new("vroom-tampered");
    let mut tampered = false;
    for entry in std::fs::read_dir(dist()).expect("site/dist") {
        let entry = entry.unwrap();
        let mut bytes = std::fs::read(entry.path()).unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        // The attacker serves a modified wasm; without Brotli variants the
        // static component sends exactly that file.
        if name.ends_with(".br") {
            continue;
        }
        if name.ends_with(".wasm") {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            tampered = true;
        }
        std::fs::write(copy.path().join(&name), bytes).unwrap();
    }
    assert!(tampered, "site/dist has no wasm");
    let app = App::start_serving(copy.path(), &[]).await;
    let [a] = t.browsers().await;
    a.goto(&app.url("/")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !a.exists("#quick-create").await,
        "the page ran a tampered wasm"
    );
    let log = serde_json::to_string(&a.chromium_log().await).expect("JSON");
    assert!(
        log.contains("integrity"),
        "no integrity failure logged: {log}"
    );
    a.close().await;
}

/// Milliseconds from navigation start until `ready` (a JS expression) holds,
/// measured in the page (`performance.now()`, checked every frame).
async fn ms_until(x: &Browser, ready: &str) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         (function check() {{ if ({ready}) done(performance.now()); else requestAnimationFrame(check); }})();"
    );
    x.client
        .execute_async(&script, vec![])
        .await
        .expect("timing script")
        .as_f64()
        .expect("a number")
}

/// Benchmark, not a test: `cargo test -p vroom-system-tests --test browser
/// -- --ignored site_timings --nocapture`. Prints the time from navigation to
/// an interactive landing page and to a joined room.
async fn site_timings(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let mut landing = Vec::new();
    let mut joined = Vec::new();
    for round in 0..6 {
        a.goto(&app.url("/")).await;
        landing.push(ms_until(&a, "document.getElementById('quick-create')").await);
        let link = a.create_quick_room(app, "Bench").await;
        b.goto(&link).await;
        b.click("#join-invite").await;
        joined.push(
            ms_until(
                &b,
                "(document.getElementById('conn')||{}).textContent === 'Connected' && \
                 document.querySelectorAll('#members li .code').length === 2 && \
                 [...document.querySelectorAll('#members li .code')].every(e => e.textContent)",
            )
            .await,
        );
        a.end_room().await;
        b.wait("#ended").await;
        eprintln!(
            "round {round}: landing {:.0} ms, joined {:.0} ms",
            landing[round], joined[round]
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "first load: landing {:.0} ms; median of the rest (warm cache): landing {:.0} ms, joined room {:.0} ms",
        landing[0],
        median(&mut landing[1..].to_vec()),
        median(&mut joined[1..].to_vec())
    );
    a.close().await;
    b.close().await;
}
