//! The site end to end in real browsers (see `vroom_system_tests::browser`):
//! the main flows (create, join by link, join by name, chat both ways, end,
//! tab close) in every engine and in rooms mixing all three, phone-width
//! screenshots, Argon2id off the main thread; the server-side audits in
//! Chromium. `cargo test --test browser firefox` runs one engine.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vroom_system_tests::browser::{
    App, Browser, Ctx, ENTER, Engine, SHIFT, Screen, Suite, dist, open, room_of, wait_no_keys,
};

const PHONE: (u32, u32) = Screen::PHONE_VIEWPORT;
use vroom_system_tests::{TempDir, random, redis_url, room_keys};

fn main() -> ExitCode {
    Suite::new()
        .each_engine("chat_rotate_and_end", chat_rotate_and_end)
        .each_engine("named_rooms", named_rooms)
        .each_engine(
            "creator_reload_keeps_the_room_and_closing_ends_it",
            creator_reload_keeps_the_room_and_closing_ends_it,
        )
        .each_engine("phone_joins_by_link", phone_joins_by_link)
        .each_engine(
            "argon2id_leaves_the_page_responsive",
            argon2id_leaves_the_page_responsive,
        )
        .once("mixed_room_by_link", mixed_room_by_link)
        .once("mixed_room_by_name", mixed_room_by_name)
        .once(
            "no_plaintext_reaches_the_server_side",
            no_plaintext_reaches_the_server_side,
        )
        .once("tampered_wasm_is_refused", tampered_wasm_is_refused)
        .ignored("site_timings", site_timings)
        .ignored_each_engine("argon2id_timings", argon2id_timings)
        .run()
}

/// A unique named-room name.
fn unique_name(prefix: &str) -> String {
    format!("{prefix} {}", u32::from_le_bytes(random()))
}

/// Three members of one engine: create, join by link, safety codes, chat
/// both ways (with a line break), a third joins and leaves (keys rotate),
/// the creator ends the room and nothing remains in Redis.
async fn chat_rotate_and_end(t: Ctx) {
    let app = t.app().await;
    let [a, b, c] = t.browsers().await;

    a.goto(&app.url("/")).await;
    a.wait("#quick-create").await;
    a.screenshot("landing-desktop", 1280, 900).await;

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
    b.say(&format!("hi Alice,{SHIFT}{ENTER}{SHIFT}second line"))
        .await;
    a.wait_text(".line.other .text", "second line").await;

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

    // Carol leaves: the others rotate keys and keep talking.
    c.click("#leave-room").await;
    c.click("#confirm-yes").await;
    c.wait("#left").await;
    a.wait_text(".line.system", "Keys rotated").await;
    a.wait_members(2).await;
    b.say("still here after Carol left").await;
    a.wait_text(".line.other .text", "still here after Carol left")
        .await;

    // No CSP violation anywhere (only chromedriver keeps a browser log).
    if t.engine == Engine::Chromium {
        for x in [&a, &b, &c] {
            let violations = x.csp_violations().await;
            assert!(violations.is_empty(), "CSP violations: {violations:?}");
        }
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
    wait_no_keys(&room).await;
    for x in [a, b, c] {
        x.close().await;
    }
}

/// A phone (390×844 viewport) opens an invite link from a desktop of the
/// same engine, chats, and sees the end; screenshots of every page at phone
/// width.
async fn phone_joins_by_link(t: Ctx) {
    let app = t.app().await;
    let (desk, phone) = tokio::join!(
        Browser::open(t.engine),
        Browser::open_on(t.engine, Screen::Phone)
    );
    phone.goto(&app.url("/")).await;
    phone.wait("#quick-create").await;
    phone.screenshot("landing-phone", PHONE.0, PHONE.1).await;

    let link = desk.create_quick_room(app, "Desk").await;
    phone.join_by_link(&link).await;
    phone.wait_members(2).await;
    desk.say("hello phone").await;
    phone.wait_text(".line.other .text", "hello phone").await;
    phone.say("hello desk").await;
    desk.wait_text(".line.other .text", "hello desk").await;
    phone.screenshot("room-phone", PHONE.0, PHONE.1).await;

    desk.end_room().await;
    phone.wait_text("#ended", "This room has ended.").await;
    phone.screenshot("ended-phone", PHONE.0, PHONE.1).await;
    wait_no_keys(&room_of(&link)).await;
    desk.close().await;
    phone.close().await;
}

/// One member per engine in a quick room: Firefox creates, WebKit and
/// Chromium join by link, everyone hears everyone, WebKit's tab closes
/// (the others rotate keys), Firefox ends the room.
async fn mixed_room_by_link(t: Ctx) {
    let app = t.app().await;
    let [fx, wk, cr] = open([Engine::Firefox, Engine::WebKit, Engine::Chromium]).await;
    let link = fx.create_quick_room(app, "Fox").await;
    let room = room_of(&link);
    tokio::join!(wk.join_by_link(&link), cr.join_by_link(&link));
    let codes = fx.wait_members(3).await;
    for x in [&wk, &cr] {
        let mut theirs = x.wait_members(3).await;
        theirs.sort();
        let mut ours = codes.clone();
        ours.sort();
        assert_eq!(theirs, ours, "{} sees other safety codes", x.engine());
    }
    everyone_hears_everyone(&[&fx, &wk, &cr], "by link").await;
    wk.close().await;
    fx.wait_text(".line.system", "Keys rotated").await;
    fx.wait_members(2).await;
    cr.say("after webkit left").await;
    fx.wait_text(".line.other .text", "after webkit left").await;
    fx.end_room().await;
    cr.wait_text("#ended", "This room has ended.").await;
    wait_no_keys(&room).await;
    fx.close().await;
    cr.close().await;
}

/// Each member in turn says "<engine> <tag>"; every other member reads it.
async fn everyone_hears_everyone(members: &[&Browser], tag: &str) {
    for speaker in members {
        let text = format!("{} {tag}", speaker.engine());
        speaker.say(&text).await;
        for x in members {
            if x.engine() != speaker.engine() {
                x.wait_text(".line.other .text", &text).await;
            }
        }
    }
}

/// One member per engine in a named room: WebKit creates it, Chromium and
/// Firefox join by name, messages cross every pair, then the creator's tab
/// closes and the room ends for the others.
async fn mixed_room_by_name(t: Ctx) {
    let app = t.app().await;
    let [wk, cr, fx] = open([Engine::WebKit, Engine::Chromium, Engine::Firefox]).await;
    let name = unique_name("mixed");
    let pass = "purple anchor violin meadow";
    wk.named_form(app, &name, true, pass).await;
    wk.wait_text("#conn", "Connected").await;
    tokio::join!(
        cr.named_form(app, &name, false, pass),
        fx.named_form(app, &name, false, pass)
    );
    for x in [&wk, &cr, &fx] {
        x.wait_text("#conn", "Connected").await;
        x.wait_members(3).await;
    }
    everyone_hears_everyone(&[&cr, &fx, &wk], "by name").await;
    wk.close().await;
    for x in [&cr, &fx] {
        x.wait_text("#ended", "This room has ended.").await;
    }
    cr.close().await;
    fx.close().await;
}

/// While a named room's secret is derived (Argon2id, about a second on
/// purpose), the page keeps running: 10 ms timer ticks keep arriving while
/// the progress message shows. Measured under load (load average 11): 158
/// to 232 ticks with the worker; 7 to 11 with the derivation on the main
/// thread (only the ticks before it starts), so 50 tells them apart.
async fn argon2id_leaves_the_page_responsive(t: Ctx) {
    let app = t.app().await;
    let [a] = t.browsers().await;
    let busy = create_named_room_counting_ticks(&a, app).await;
    assert!(busy.seen, "{}: the progress message never showed", t.engine);
    assert!(
        busy.ticks >= 50,
        "{}: only {} timer ticks while Argon2id ran: the page froze",
        t.engine,
        busy.ticks
    );
    a.end_room().await;
    a.wait("#ended").await;
    a.close().await;
}

/// What the page saw of the landing page's progress message (`.busy`).
struct Busy {
    /// It showed.
    seen: bool,
    /// 10 ms timer ticks that ran while it showed.
    ticks: u64,
    /// Milliseconds it showed.
    ms: f64,
}

/// Creates a fresh named room from the landing page while the page counts,
/// every 10 ms, whether the progress message shows; returns what it saw
/// once the room is connected.
async fn create_named_room_counting_ticks(x: &Browser, app: &App) -> Busy {
    x.goto(&app.url("/")).await;
    x.type_into("#named-name", &unique_name("ticks")).await;
    x.type_into("#named-pass", "correct horse battery staple")
        .await;
    x.client
        .execute(
            "window.vroomBusy = { seen: false, ticks: 0, since: 0, ms: 0 };
             setInterval(() => {
               const b = window.vroomBusy, busy = !!document.querySelector('.busy');
               if (busy && !b.seen) { b.seen = true; b.since = performance.now(); }
               if (busy) b.ticks++;
               if (!busy && b.seen && !b.ms) b.ms = performance.now() - b.since;
             }, 10);",
            vec![],
        )
        .await
        .expect("tick counter");
    x.click("#named-create").await;
    x.wait_text("#conn", "Connected").await;
    let busy: Value = x
        .client
        .execute("return window.vroomBusy", vec![])
        .await
        .expect("tick record");
    Busy {
        seen: busy["seen"].as_bool().unwrap_or(false),
        ticks: busy["ticks"].as_u64().unwrap_or(0),
        ms: busy["ms"].as_f64().unwrap_or(f64::NAN),
    }
}

/// Benchmark, not a test: `cargo test --release -p vroom-system-tests --test
/// browser -- --ignored argon2id_timings --nocapture --test-threads 1`.
/// Prints how long the landing page shows the progress message for a named
/// room (worker start, Argon2id m = 64 MiB t = 12, answer), five times per
/// engine.
async fn argon2id_timings(t: Ctx) {
    let app = t.app().await;
    let [a] = t.browsers().await;
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(create_named_room_counting_ticks(&a, app).await.ms);
        a.end_room().await;
        a.wait("#ended").await;
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!(
        "{}: Argon2id in a worker, ms: {times:.0?}; median {:.0}",
        t.engine,
        sorted[sorted.len() / 2]
    );
    a.close().await;
}

async fn named_rooms(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let name = unique_name("book club");

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
