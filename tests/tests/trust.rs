//! Trust inside the room (issue 11), end to end in real headless Chromium
//! against the real host, two real relay nodes and the real Redis: room ids
//! bound to their keys (no squatting, no probing), faces people can tell
//! apart, text that cannot reorder a line, a tab that keeps its safety code
//! across reconnects, an invite that asks before it joins, and secrets that
//! leave with the room (storage, reopened tabs, the profile's history).
//!
//! The browser sees the site through a front that counts its requests to
//! the rooms API, and reaches the relay nodes through a round-robin front
//! that counts connections. Needs what `tests/browser.rs` needs.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vroom_e2e::{Identity, RoomSecret, parse_invite_link};
use vroom_shared::relay::{ClientFrame, RelayFrame};
use vroom_shared::{RoomId, Ticket};
use vroom_system_tests::browser::{App, Browser, Ctx, Suite};
use vroom_system_tests::{client, random_b64};

fn main() -> ExitCode {
    Suite::new()
        .once(
            "the_page_and_the_server_derive_the_same_room_id",
            the_page_and_the_server_derive_the_same_room_id,
        )
        .once(
            "named_rooms_cannot_be_squatted_or_probed",
            named_rooms_cannot_be_squatted_or_probed,
        )
        .once(
            "members_with_the_same_name_are_told_apart_on_a_third_screen",
            members_with_the_same_name_are_told_apart_on_a_third_screen,
        )
        .once(
            "a_right_to_left_override_cannot_reorder_a_line",
            a_right_to_left_override_cannot_reorder_a_line,
        )
        .once(
            "a_forced_reconnect_keeps_the_code_and_a_real_key_change_is_announced",
            a_forced_reconnect_keeps_the_code_and_a_real_key_change_is_announced,
        )
        .once(
            "the_invite_screen_sends_nothing_before_join",
            the_invite_screen_sends_nothing_before_join,
        )
        .once(
            "after_the_room_the_tab_holds_nothing_and_a_reopened_tab_does_not_rejoin",
            after_the_room_the_tab_holds_nothing_and_a_reopened_tab_does_not_rejoin,
        )
        .once(
            "the_browser_history_keeps_only_the_opened_invite_link",
            the_browser_history_keeps_only_the_opened_invite_link,
        )
        .once(
            "a_member_the_relay_reports_must_verify_and_refusals_are_told_once",
            a_member_the_relay_reports_must_verify_and_refusals_are_told_once,
        )
        .run()
}

/// One test at a time: two cores, several Chromiums each, and one test
/// restarts a relay node under the shared app.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The page's reload window (`site/src/web/store.rs`) plus a margin.
const LATER_THAN_A_RELOAD: Duration = Duration::from_secs(12);

/// Runs a script in the page and returns its value.
async fn js(x: &Browser, script: &str, args: Vec<Value>) -> Value {
    x.client.execute(script, args).await.expect("script runs")
}

/// Sets an input's value as typing would (any characters, invisible ones included).
async fn fill(x: &Browser, css: &str, text: &str) {
    x.wait(css).await;
    js(
        x,
        "const el = document.querySelector(arguments[0]);
         el.value = arguments[1];
         el.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(css), json!(text)],
    )
    .await;
}

/// Sends `text` (any characters) as a message.
async fn say(x: &Browser, text: &str) {
    fill(x, "#composer", text).await;
    x.click("#send").await;
}

/// Creates a quick room under `name` and returns its invite link.
async fn create_room(x: &Browser, app: &App, name: &str) -> String {
    x.goto(&app.url("/")).await;
    fill(x, "#display-name", name).await;
    x.click("#quick-create").await;
    x.wait_text("#conn", "Connected").await;
    x.value("#invite-link").await
}

/// Opens an invite link and accepts it under `name`.
async fn join(x: &Browser, link: &str, name: &str) {
    x.goto(link).await;
    fill(x, "#invite-name", name).await;
    x.click("#join-invite").await;
    x.wait_text("#conn", "Connected").await;
}

/// Waits until `n` members are verified and none is still joining.
async fn settled(x: &Browser, n: usize) -> Vec<String> {
    let codes = x.wait_members(n).await;
    eventually("no member is still joining", || async {
        !x.exists("#members .joining").await
    })
    .await;
    codes
}

async fn session_storage_len(x: &Browser) -> u64 {
    js(x, "return sessionStorage.length;", vec![])
        .await
        .as_u64()
        .expect("a number")
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// `(room id, join key)` in base64url of an invite link.
fn credentials(link: &str) -> (String, String) {
    let keys = parse_invite_link(link).expect("a v2 link").derive_keys();
    (
        keys.room_id().to_base64url(),
        keys.join_key_base64url().to_string(),
    )
}

/// Waits until `ready()` holds (checked every 100 ms), at most 40 s.
async fn eventually<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !ready().await {
        assert!(started.elapsed() < Duration::from_secs(40), "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// The browser (`vroom-e2e`) and the server (`vroom-shared`) bind room ids
/// to join keys the same way (`docs/PROTOCOL.md` §2.2), without either crate
/// depending on the other.
async fn the_page_and_the_server_derive_the_same_room_id(_: Ctx) {
    assert_eq!(
        vroom_e2e::labels::ROOM_ID.as_slice(),
        vroom_shared::RoomId::JOIN_KEY_LABEL
    );
    for i in 0..64u8 {
        let secret = RoomSecret::from_bytes([i.wrapping_mul(37); 32]);
        let keys = secret.derive_keys();
        let join_key = vroom_shared::JoinKey::from_bytes(*keys.join_key());
        assert_eq!(
            keys.room_id().to_base64url(),
            RoomId::for_join_key(&join_key).to_base64(),
        );
        assert_eq!(
            vroom_e2e::RoomId::for_join_key(join_key.as_bytes()).as_bytes(),
            RoomId::for_join_key(&join_key).as_bytes()
        );
    }
}

/// `POST /api/rooms` with `body`; returns status and body.
async fn post(app: &App, path: &str, body: Value) -> (u16, String) {
    let response = client()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn named_rooms_cannot_be_squatted_or_probed(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [owner] = t.browsers().await;
    let name = format!("trust squat {}", random_b64(6));
    let pass = "seven purple walruses juggle quietly";
    // Everything the squatter knows: the room id (from an address bar, a
    // history, a proxy log). Not the passphrase.
    let room_id = RoomSecret::from_name_and_passphrase(&name, pass)
        .expect("named room")
        .derive_keys()
        .room_id()
        .to_base64url();
    let unknown = post(
        app,
        &format!("/api/rooms/{}/join", random_b64(16)),
        json!({ "join_key": random_b64(32) }),
    )
    .await;
    assert_eq!(unknown.0, 404);
    let squat = |mode: &'static str| {
        let body = json!({ "room_id": room_id, "join_key": random_b64(32), "mode": mode });
        let app = &app;
        async move { post(app, "/api/rooms", body).await }
    };
    // Squatting before the owners come: refused like an unknown room.
    assert_eq!(squat("create").await, unknown);
    assert_eq!(squat("create_or_join").await, unknown);

    // The owners create their room as if nobody had tried.
    owner.goto(&app.url("/")).await;
    fill(&owner, "#named-name", &name).await;
    fill(&owner, "#named-pass", pass).await;
    owner.click("#named-create").await;
    owner.wait_text("#conn", "Connected").await;
    owner.wait("#end-room").await;

    // Probing whether it is live tells nothing: the same 404 as before.
    assert_eq!(
        squat("create").await,
        unknown,
        "create probe of a live room"
    );
    let join = post(
        app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": random_b64(32) }),
    )
    .await;
    assert_eq!(join, unknown, "join probe of a live room");

    // After it ends, the same name and passphrase create the same room again.
    owner.click("#end-room").await;
    owner.click("#confirm-yes").await;
    owner.wait("#ended").await;
    assert_eq!(squat("create").await, unknown);
    owner.goto(&app.url("/")).await;
    fill(&owner, "#named-name", &name).await;
    fill(&owner, "#named-pass", pass).await;
    owner.click("#named-create").await;
    owner.wait_text("#conn", "Connected").await;
    owner.wait("#end-room").await;
    owner.close().await;
}

/// The discriminator (`colour group`) each face on the page shows for a name.
async fn faces_named(x: &Browser, css: &str, name: &str) -> Vec<String> {
    js(x,
        "return [...document.querySelectorAll(arguments[0])]
            .filter(f => f.querySelector('.name').textContent === arguments[1])
            .map(f => f.querySelector('.disc').className + ' ' + f.querySelector('.disc').textContent
                      + (f.querySelector('.same-name') ? ' same-name' : ''));",
        vec![json!(css), json!(name)],
    )
    .await
    .as_array()
    .expect("a list")
    .iter()
    .map(|v| v.as_str().unwrap_or_default().to_owned())
    .collect()
}

async fn members_with_the_same_name_are_told_apart_on_a_third_screen(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b, c, d] = t.browsers().await;
    let link = create_room(&a, app, "Alice").await;
    join(&b, &link, "Alice").await;
    join(&c, &link, "Carol").await;
    // The invisible variant of the name is refused, with the reason.
    d.goto(&link).await;
    fill(&d, "#invite-name", "Alice\u{200b}").await;
    d.click("#join-invite").await;
    d.wait_text("#invite-error", "U+200B").await;
    assert!(!d.exists("#conn").await, "refused names do not join");

    settled(&c, 3).await;
    say(&a, "I am the first Alice").await;
    say(&b, "I am the other Alice").await;
    c.wait_text(".line.other .text", "the other Alice").await;
    c.wait_text(".line.other .text", "the first Alice").await;
    c.screenshot("same-names-desktop", 1280, 900).await;
    // On Carol's screen both Alices are marked, with different discriminators.
    let listed = faces_named(&c, "#members .face", "Alice").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_ne!(listed[0], listed[1], "two Alices look alike: {listed:?}");
    assert!(
        listed.iter().all(|f| f.ends_with("same-name")),
        "{listed:?}"
    );
    // Each message carries its author's discriminator, as the list shows it.
    let first = faces_named(&c, ".line.other .author .face", "Alice").await;
    assert_eq!(first.len(), 2, "{first:?}");
    assert_ne!(first[0], first[1]);
    for face in &first {
        assert!(
            listed.contains(face),
            "{face} is not in the list {listed:?}"
        );
    }
    // …and they are the ones Alice and Alice see for themselves.
    for x in [&a, &b] {
        let own = js(
            x,
            "const f = document.querySelector('#members li.me .face .disc');
                 return f.className + ' ' + f.textContent;",
            vec![],
        )
        .await;
        let own = own.as_str().expect("own discriminator");
        assert!(
            listed.iter().any(|f| f.starts_with(own)),
            "{own} vs {listed:?}"
        );
    }
    for x in [a, b, c, d] {
        x.close().await;
    }
}

/// Left edges of two characters inside the last element matching `css`.
async fn left_edges(x: &Browser, css: &str, first: &str, second: &str) -> (f64, f64) {
    let edges = js(
        x,
        "const all = document.querySelectorAll(arguments[0]);
             const el = all[all.length - 1];
             const left = (ch) => {
                 const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
                 for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                     const i = n.data.indexOf(ch);
                     if (i >= 0) {
                         const r = document.createRange();
                         r.setStart(n, i);
                         r.setEnd(n, i + ch.length);
                         return r.getBoundingClientRect().left;
                     }
                 }
                 return null;
             };
             return [left(arguments[1]), left(arguments[2])];",
        vec![json!(css), json!(first), json!(second)],
    )
    .await;
    let edge = |i: usize| edges[i].as_f64().expect("the character is shown");
    (edge(0), edge(1))
}

async fn a_right_to_left_override_cannot_reorder_a_line(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let link = create_room(&a, app, "Alice").await;
    // A name with U+202E is refused before anything is sent.
    b.goto(&link).await;
    fill(&b, "#invite-name", "\u{202e}ecilA").await;
    b.click("#join-invite").await;
    b.wait_text("#invite-error", "U+202E").await;
    fill(&b, "#invite-name", "Bob").await;
    b.click("#join-invite").await;
    b.wait_text("#conn", "Connected").await;
    settled(&a, 2).await;

    // "report_" RLO "gpj.bat" would read "report_tab.jpg" if obeyed.
    say(&a, "report_\u{202e}gpj.bat").await;
    b.wait_text(".line.other .text", "report_").await;
    let (g, j) = left_edges(&b, ".line.other .text", "g", "j").await;
    assert!(
        g < j,
        "the override reordered the message: g at {g}, j at {j}"
    );
    b.wait_text(".line.other .text .bidi-mark", "U+202E").await;
    b.screenshot("override-mark-desktop", 1280, 900).await;
    // The author, the text and the time keep their places.
    let order = js(
        &b,
        "const all = document.querySelectorAll('.line.other');
             const line = all[all.length - 1];
             const top = (s) => line.querySelector(s).getBoundingClientRect().top;
             return [top('.author'), top('.text'), top('.at')];",
        vec![],
    )
    .await;
    let tops: Vec<f64> = order
        .as_array()
        .expect("three")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect();
    assert!(tops[0] < tops[1] && tops[1] < tops[2], "{tops:?}");
    a.close().await;
    b.close().await;
}

async fn a_forced_reconnect_keeps_the_code_and_a_real_key_change_is_announced(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let link = create_room(&a, app, "Alice").await;
    join(&b, &link, "Bob").await;
    settled(&a, 2).await;
    let bob = b.my_code().await;
    let bobs_node = *app.relay_connections().last().expect("Bob's connection");
    assert!(a.texts("#members li .code").await.contains(&bob));

    // The relay node Bob is on goes away: Bob's tab reconnects to the other.
    app.restart_node(bobs_node).await;
    b.wait_text(".line.system", "Connection lost").await;
    b.wait_text(
        ".line.system",
        "Reconnected. Your safety code is unchanged.",
    )
    .await;
    a.wait_text(".line.system", "is back, with the same safety code")
        .await;
    assert_eq!(b.my_code().await, bob, "Bob's own code changed");
    let codes = settled(&a, 2).await;
    assert!(codes.contains(&bob), "Alice sees {codes:?}, not {bob}");
    assert!(
        !a.texts(".line.system")
            .await
            .iter()
            .any(|t| t.contains("safety code changed")),
        "a reconnect was announced as a key change"
    );
    say(&b, "still me").await;
    a.wait_text(".line.other .text", "still me").await;

    // Bob's tab loses its keys but not its tab id (what someone who copied
    // the tab id would have): Alice is told to compare again.
    let stored: Value = serde_json::from_str(
        js(&b, "return sessionStorage.getItem('vroom.room');", vec![])
            .await
            .as_str()
            .expect("an entry"),
    )
    .expect("JSON");
    let old = Identity::from_base64url(stored["identity"].as_str().expect("identity"))
        .expect("a stored identity");
    let fresh = Identity::generate(&mut vroom_e2e::SystemRng::default());
    let swapped = Identity::new(fresh.keys().clone(), old.tab());
    js(
        &b,
        "const e = JSON.parse(sessionStorage.getItem('vroom.room'));
         e.identity = arguments[0];
         sessionStorage.setItem('vroom.room', JSON.stringify(e));
         location.reload();",
        vec![json!(swapped.to_base64url().as_str())],
    )
    .await;
    b.wait_text("#conn", "Connected").await;
    let warning = "changed — compare again";
    a.wait_text(".line.system", warning).await;
    let lines = a.texts(".line.system").await;
    let line = lines
        .iter()
        .find(|l| l.contains(warning))
        .expect("the warning");
    assert!(
        line.starts_with("Warning: the safety code of Bob"),
        "{line}"
    );
    let new_code = b.my_code().await;
    assert_ne!(new_code, bob);
    settled(&a, 2).await;
    assert!(a.texts("#members li .code").await.contains(&new_code));
    a.close().await;
    b.close().await;
}

async fn the_invite_screen_sends_nothing_before_join(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let link = create_room(&a, app, "Alice").await;
    let (api, relay) = (app.api_requests(), app.relay_connections().len());
    assert!(api > 0 && relay > 0, "the fronts see the creator");

    b.goto(&link).await;
    b.wait("#invite-screen").await;
    // The secret and the room id left the address bar before anything rendered.
    let address = b.client.current_url().await.expect("url").to_string();
    assert_eq!(address, app.url("/r"));
    let offered = b.value("#invite-name").await;
    b.screenshot("invite-desktop", 1280, 900).await;
    b.screenshot("invite-phone", 360, 780).await;
    assert!(!offered.trim().is_empty(), "a random name is offered");
    // Give a page that would request something time to do it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    b.client.refresh().await.expect("reload");
    b.wait("#invite-screen").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.api_requests(), api, "the invite screen called the API");
    assert_eq!(
        app.relay_connections().len(),
        relay,
        "the invite screen opened the relay"
    );
    settled(&a, 1).await;

    b.click("#join-invite").await;
    b.wait_text("#conn", "Connected").await;
    assert!(app.api_requests() > api);
    assert!(app.relay_connections().len() > relay);
    settled(&a, 2).await;
    let names = a.texts("#members .face .name").await;
    assert!(names.contains(&offered), "{names:?} lacks {offered}");
    a.close().await;
    b.close().await;
}

async fn after_the_room_the_tab_holds_nothing_and_a_reopened_tab_does_not_rejoin(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b] = t.browsers().await;

    // The creator closes the tab ("navigates away") and comes back later
    // than a reload: it does not rejoin, and never as creator.
    let link = create_room(&a, app, "Alice").await;
    join(&b, &link, "Bob").await;
    settled(&a, 2).await;
    assert!(session_storage_len(&a).await > 0);
    a.goto("about:blank").await;
    b.wait_text("#ended", "This room has ended.").await;
    assert_eq!(
        session_storage_len(&b).await,
        0,
        "the ended room left storage"
    );
    tokio::time::sleep(LATER_THAN_A_RELOAD).await;
    let api = app.api_requests();
    a.client.back().await.expect("back");
    a.wait("#reopened").await;
    assert_eq!(session_storage_len(&a).await, 0);
    assert!(!a.exists("#end-room").await);
    assert_eq!(app.api_requests(), api, "the reopened tab called the API");

    // "End": both tabs hold nothing, and neither comes back to the room.
    let link = create_room(&a, app, "Alice").await;
    join(&b, &link, "Bob").await;
    settled(&a, 2).await;
    a.click("#end-room").await;
    a.click("#confirm-yes").await;
    for x in [&a, &b] {
        x.wait("#ended").await;
        assert_eq!(session_storage_len(x).await, 0, "End left storage");
        assert!(x.texts(".line").await.is_empty());
    }
    let api = app.api_requests();
    for x in [&a, &b] {
        x.goto("about:blank").await;
        x.client.back().await.expect("back");
        x.wait("#failed").await;
        assert!(!x.exists("#conn").await);
    }
    assert_eq!(
        app.api_requests(),
        api,
        "a tab of an ended room called the API"
    );
    a.close().await;
    b.close().await;
}

/// Every `History*` file of a Chromium profile, concatenated.
fn history_bytes(profile: &Path) -> Vec<u8> {
    let dir = profile.join("Default");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("a Default profile") {
        let entry = entry.expect("entry");
        if entry.file_name().to_string_lossy().starts_with("History") {
            out.extend(std::fs::read(entry.path()).expect("readable"));
        }
    }
    assert!(!out.is_empty(), "no History database in {}", dir.display());
    out
}

/// The distinct `http://…` URLs of `origin` in raw database bytes (for the
/// log: a URL may run into the next column's text).
fn urls_in(bytes: &[u8], origin: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut urls: Vec<String> = text
        .match_indices(origin)
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_graphic())
                .collect::<String>()
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

async fn the_browser_history_keeps_only_the_opened_invite_link(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let link = create_room(&a, app, "Zebulon Quince").await;
    let (room_id, join_key) = credentials(&link);
    let secret = link.rsplit('#').next().expect("fragment").to_owned();
    join(&b, &link, "Ysolde Marsh").await;
    settled(&a, 2).await;
    say(&a, "history must not keep this 7Q2").await;
    b.wait_text(".line.other .text", "7Q2").await;
    a.click("#end-room").await;
    a.click("#confirm-yes").await;
    b.wait("#ended").await;
    let (a_profile, b_profile) = (a.quit().await, b.quit().await);

    let never = [
        "Zebulon Quince",
        "Ysolde Marsh",
        "history must not keep this",
        join_key.as_str(),
    ];
    let creator = history_bytes(a_profile.path());
    let invitee = history_bytes(b_profile.path());
    // What remains, in plain words. The creator's history names no room and
    // holds no secret: the room page's address is `/r`.
    eprintln!("creator's history: {:?}", urls_in(&creator, app.origin()));
    for needle in never.iter().chain([&room_id.as_str(), &secret.as_str()]) {
        assert_eq!(
            count(&creator, needle.as_bytes()),
            0,
            "{needle:?} in the creator's history"
        );
    }
    assert!(count(&creator, app.url("/r").as_bytes()) > 0);
    // The invitee's history keeps the invite link it opened (a page cannot
    // remove it), and nothing else of the room.
    eprintln!("invitee's history: {:?}", urls_in(&invitee, app.origin()));
    for needle in never {
        assert_eq!(
            count(&invitee, needle.as_bytes()),
            0,
            "{needle:?} in the invitee's history"
        );
    }
    let opened = count(&invitee, link.as_bytes());
    assert!(opened > 0, "the opened invite link is not in the history");
    assert_eq!(
        count(&invitee, secret.as_bytes()),
        opened,
        "the secret outside the opened link"
    );
    // Chromium also files the visit under a "segment" (its most-visited
    // list): the address without port and fragment, so without the secret.
    let segment = format!("http://127.0.0.1/r/{room_id}");
    assert_eq!(
        count(&invitee, room_id.as_bytes()),
        opened + count(&invitee, segment.as_bytes()),
        "the room id outside the opened link and its segment"
    );
    // …which opens nothing now: its key is refused like any unknown room's.
    let (status, _) = post(
        app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, 404);
}

async fn a_member_the_relay_reports_must_verify_and_refusals_are_told_once(t: Ctx) {
    let _serial = SERIAL.lock().await;
    let app = t.app().await;
    let [a] = t.browsers().await;
    let link = create_room(&a, app, "Alice").await;
    settled(&a, 1).await;
    // Whoever holds a ticket (here: the test, playing a server that issues
    // one to itself) connects but never proves it holds the room key.
    let (room_id, join_key) = credentials(&link);
    let (status, body) = post(
        app,
        &format!("/api/rooms/{room_id}/join"),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    let ticket = Ticket::parse(reply["ticket"].as_str().expect("ticket")).expect("a ticket");
    let mut request = app.node_url(0).await.into_client_request().expect("URL");
    request
        .headers_mut()
        .insert("origin", app.origin().parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the relay accepts");
    let room = RoomId::parse(&room_id).expect("room id");
    ws.send(Message::binary(
        ClientFrame::Hello { room, ticket }.encode(),
    ))
    .await
    .expect("hello");
    let (mut me, mut alice) = (None, None);
    while me.is_none() || alice.is_none() {
        let frame = ws.next().await.expect("a frame").expect("a message");
        match RelayFrame::decode(&frame.into_data()) {
            Ok(RelayFrame::Welcome { member, .. }) => me = Some(member),
            Ok(RelayFrame::Joined { member }) => alice = Some(member),
            _ => {}
        }
    }
    let (me, alice) = (me.expect("id"), alice.expect("Alice"));
    a.wait("#members .joining").await;
    // Five announcements without a valid MAC: one line, not five.
    for _ in 0..5 {
        let mut fake = vec![2u8, 1];
        fake.extend_from_slice(&me.to_be_bytes());
        fake.resize(166, 0x5a);
        let frame = ClientFrame::Direct {
            to: alice,
            payload: &fake,
        };
        ws.send(Message::binary(frame.encode()))
            .await
            .expect("send");
    }
    let refused = "Someone without the room key tried to join and was refused.";
    a.wait_text(".line.system", refused).await;
    // It never verifies: its "Joining…" row goes, with a line saying so.
    a.wait_text(".line.system", "did not finish joining in time")
        .await;
    eventually("the Joining… row is gone", || async {
        !a.exists("#members .joining").await
    })
    .await;
    let lines = a.texts(".line.system").await;
    assert_eq!(
        lines.iter().filter(|l| l.contains(refused)).count(),
        1,
        "{lines:?}"
    );
    settled(&a, 1).await;
    drop(ws);
    a.close().await;
}
