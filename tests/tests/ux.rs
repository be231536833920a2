//! The room as people expect it, in every engine (see
//! `vroom_system_tests::browser`): the page speaks the browser's language
//! and switches language in place; axe-core finds no serious or critical
//! accessibility violation on the landing page, the room and the ended
//! screen (light and, in Chromium, dark); create → chat → end works by
//! keyboard alone with the focus moved on every screen change; reduced
//! motion stops animations; and at phone width the room is a chat screen
//! with a people panel.

use std::process::ExitCode;

use vroom_system_tests::browser::{
    Browser, Ctx, ENTER, ESCAPE, Engine, SHIFT, Screen, Suite, TAB, Violation, axe_violations,
    room_of, wait_no_keys,
};

const PHONE: (u32, u32) = Screen::PHONE_VIEWPORT;

fn main() -> ExitCode {
    Suite::new()
        .each_engine(
            "the_browser_language_is_spoken_and_the_switch_changes_it_in_place",
            the_browser_language_is_spoken_and_the_switch_changes_it_in_place,
        )
        .each_engine(
            "axe_finds_no_serious_violation_on_any_screen",
            axe_finds_no_serious_violation_on_any_screen,
        )
        .each_engine(
            "create_chat_and_end_by_keyboard_alone",
            create_chat_and_end_by_keyboard_alone,
        )
        .each_engine(
            "a_phone_shows_the_room_as_a_chat_screen",
            a_phone_shows_the_room_as_a_chat_screen,
        )
        .once(
            "reduced_motion_stops_animations",
            reduced_motion_stops_animations,
        )
        .run()
}

/// A browser preferring German opens the landing page in German with
/// `lang="de"` (Chromium and Firefox; WebKit's driver gives no way to set
/// its language, so there the switch picks German); a room opened there talks German; the switch turns the
/// open room to French in place (the room stays connected, earlier lines
/// change language too); the choice survives a reload; another browser of
/// the same engine with the default English stays English throughout.
async fn the_browser_language_is_spoken_and_the_switch_changes_it_in_place(t: Ctx) {
    let app = t.app().await;
    let (de, en) = tokio::join!(
        Browser::open_in_language(t.engine, "de-DE"),
        Browser::open(t.engine)
    );
    de.goto(&app.url("/")).await;
    // WebKitGTK's MiniBrowser under WebKitWebDriver keeps English whatever
    // the locale variables say: there the switch chooses German first.
    if t.engine == Engine::WebKit {
        de.wait("#language")
            .await
            .select_by_value("de")
            .await
            .expect("select");
    }
    de.wait_text("#quick-create", "Schnellen Raum erstellen")
        .await;
    assert_eq!(de.js("return document.documentElement.lang").await, "de");
    assert_eq!(de.value("#language").await, "de");
    de.screenshot("landing-de", 1280, 900).await;

    de.type_into("#display-name", "Dora").await;
    de.click("#quick-create").await;
    de.wait_text("#conn", "Verbunden").await;
    let link = de.value("#invite-link").await;
    de.wait_text(".line.system", "Du bist als Dora beigetreten.")
        .await;

    en.join_by_link(&link).await;
    en.wait_text("#end-room, #leave-room", "Leave").await;
    de.wait_text(".line.system", "ist beigetreten.").await;

    // French, in place: same connection, same lines, other words.
    de.wait("#language")
        .await
        .select_by_value("fr")
        .await
        .expect("select");
    de.wait_text("#conn", "Connecté").await;
    de.wait_text(".line.system", "Vous êtes entré·e sous le nom Dora.")
        .await;
    de.wait_text(".line.system", "est arrivé·e.").await;
    assert_eq!(de.js("return document.documentElement.lang").await, "fr");
    assert_eq!(de.texts("#members li .code").await.len(), 2);
    en.say("still one room").await;
    de.wait_text(".line.other .text", "still one room").await;
    de.screenshot("room-fr", 1280, 900).await;

    // The choice is remembered: a reload (which keeps the room) speaks French.
    de.client.refresh().await.expect("reload");
    de.wait_text("#end-room", "Terminer le salon").await;
    de.end_room().await;
    de.wait_text("#ended", "Ce salon est terminé.").await;
    en.wait_text("#ended", "This room has ended.").await;
    assert_eq!(en.js("return document.documentElement.lang").await, "en");
    wait_no_keys(&room_of(&link)).await;
    de.close().await;
    en.close().await;
}

/// Fails with every serious or critical violation axe-core reports on the
/// page `x` shows, named `screen`.
async fn audit(x: &Browser, screen: &str) {
    let violations: Vec<Violation> = axe_violations(x).await;
    assert!(
        violations.is_empty(),
        "{}: {screen}: {:#?}",
        x.engine(),
        violations
    );
}

/// [`audit`] in light mode and, in Chromium (which emulates it), in dark.
async fn audit_all(x: &Browser, screen: &str) {
    if x.engine() != Engine::Chromium {
        return audit(x, &format!("{screen} (light)")).await;
    }
    for scheme in ["light", "dark"] {
        x.emulate_media("prefers-color-scheme", scheme).await;
        audit(x, &format!("{screen} ({scheme})")).await;
    }
}

/// axe-core on the landing page, the invitation, the room (with messages,
/// the invite panel open and the confirmation asked) and the ended screen;
/// Chromium audits each in dark mode too.
async fn axe_finds_no_serious_violation_on_any_screen(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    a.goto(&app.url("/")).await;
    a.wait("#quick-create").await;
    audit_all(&a, "landing page").await;

    let link = a.create_quick_room(app, "Ada").await;
    b.goto(&link).await;
    b.wait("#join-invite").await;
    audit_all(&b, "invitation").await;
    b.click("#join-invite").await;
    b.wait_members(2).await;
    a.wait_members(2).await;
    a.say("hello, accessible world").await;
    b.wait_text(".line.other .text", "hello, accessible world")
        .await;
    b.say("hi").await;
    a.wait_text(".line.other .text", "hi").await;
    a.click("#show-invite").await;
    a.wait(".qr svg").await;
    audit_all(&a, "room").await;
    audit_all(&b, "room (member)").await;
    a.click("#end-room").await;
    a.wait("#confirm-yes").await;
    audit_all(&a, "room, asked to end").await;
    a.click("#confirm-yes").await;
    for x in [&a, &b] {
        x.wait("#ended").await;
        audit_all(x, "ended screen").await;
    }
    wait_no_keys(&room_of(&link)).await;
    a.close().await;
    b.close().await;
}

/// Create → chat → end with the keyboard alone: Tab to Create, Enter; the
/// focus is in the composer when the room opens; the invitation's name
/// field has the focus and Enter joins; Shift+Tab to End room, Enter, the
/// focus is on Cancel, Escape cancels, again, Shift+Tab to confirm, Enter; the ended screen's heading
/// has the focus on both sides, and Tab + Enter goes back to the start page
/// with the focus on its heading. Nothing is clicked.
async fn create_chat_and_end_by_keyboard_alone(t: Ctx) {
    let app = t.app().await;
    let [a, b] = t.browsers().await;
    let shift_tab = format!("{SHIFT}{TAB}");

    a.goto(&app.url("/")).await;
    a.wait("#quick-create").await;
    a.tab_to(TAB, "quick-create", 20).await;
    a.press(ENTER).await;
    a.wait_focus("composer").await;
    a.wait_text("#conn", "Connected").await;
    let link = a.value("#invite-link").await;

    b.goto(&link).await;
    b.wait_focus("invite-name").await;
    b.press(ENTER).await;
    b.wait_focus("composer").await;
    b.wait_text("#conn", "Connected").await;
    a.wait_members(2).await;

    a.press(&format!("typed, not clicked{ENTER}")).await;
    b.wait_text(".line.other .text", "typed, not clicked").await;
    b.press(&format!("two lines{SHIFT}{ENTER}{SHIFT}by keyboard{ENTER}"))
        .await;
    a.wait_text(".line.other .text", "by keyboard").await;
    assert_eq!(b.value("#composer").await, "", "the composer was sent");

    // A: to End room (in the header, before the conversation), backwards.
    a.tab_to(&shift_tab, "end-room", 20).await;
    a.press(ENTER).await;
    a.wait_focus("confirm-no").await;
    // Escape cancels and gives the focus back to End room.
    a.press(ESCAPE).await;
    a.wait_focus("end-room").await;
    assert!(!a.exists("#confirm-yes").await);
    a.press(ENTER).await;
    a.wait_focus("confirm-no").await;
    a.press(&shift_tab).await;
    assert_eq!(a.focused().await, "confirm-yes");
    a.press(ENTER).await;
    for x in [&a, &b] {
        x.wait_text("#ended", "This room has ended.").await;
        x.wait_focus("ended-h").await;
    }
    a.tab_to(TAB, "", 1).await;
    assert_eq!(
        a.js("return document.activeElement.getAttribute('href')")
            .await,
        "/"
    );
    a.press(ENTER).await;
    a.wait("#quick-create").await;
    a.wait_focus("landing-h").await;
    wait_no_keys(&room_of(&link)).await;
    a.close().await;
    b.close().await;
}

/// Where an element is on screen: top, bottom, height (CSS pixels).
async fn rect(x: &Browser, css: &str) -> (f64, f64, f64) {
    let r = x
        .js(&format!(
            "const r = document.querySelector({css:?}).getBoundingClientRect(); \
             return [r.top, r.bottom, r.height]"
        ))
        .await;
    let n = |i: usize| r[i].as_f64().expect("a number");
    (n(0), n(1), n(2))
}

/// Whether the element matching `css` is rendered.
async fn shown(x: &Browser, css: &str) -> bool {
    x.js(&format!(
        "return getComputedStyle(document.querySelector({css:?})).display !== 'none'"
    ))
    .await
        == true
}

/// The viewport height and the page's scroll height.
async fn page_heights(x: &Browser) -> (f64, f64) {
    let v = x
        .js("return [innerHeight, document.scrollingElement.scrollHeight]")
        .await;
    (
        v[0].as_f64().expect("height"),
        v[1].as_f64().expect("height"),
    )
}

/// At phone width the room is a chat screen: the page does not scroll, the
/// conversation takes most of the screen and scrolls inside itself, the
/// composer sits at the bottom, and people, safety codes and the invite
/// are a panel that opens over the conversation and closes again (button
/// or Escape), the focus going in and coming back.
async fn a_phone_shows_the_room_as_a_chat_screen(t: Ctx) {
    let app = t.app().await;
    let (desk, phone) = tokio::join!(
        Browser::open(t.engine),
        Browser::open_on(t.engine, Screen::Phone)
    );
    let link = desk.create_quick_room(app, "Desk").await;
    phone.goto(&link).await;
    phone.click("#join-invite").await;
    phone.wait_text("#conn", "Connected").await;
    phone.wait_members(2).await;
    for i in 0..25 {
        desk.say(&format!("line {i} of a long conversation")).await;
    }
    phone
        .wait_text(".line.other .text", "line 24 of a long conversation")
        .await;
    phone.say("short answer").await;
    desk.wait_text(".line.other .text", "short answer").await;

    let (viewport, scroll) = page_heights(&phone).await;
    assert_eq!(viewport, f64::from(PHONE.1), "{}: viewport", t.engine);
    assert!(
        scroll <= viewport + 1.0,
        "{}: the page scrolls ({scroll} > {viewport})",
        t.engine
    );
    let (_, composer_bottom, _) = rect(&phone, "form.composer").await;
    assert!(
        viewport - composer_bottom <= 16.0 && composer_bottom <= viewport,
        "{}: the composer ends at {composer_bottom} of {viewport}",
        t.engine
    );
    let (_, _, log_height) = rect(&phone, "#log").await;
    assert!(
        log_height >= viewport * 0.55,
        "{}: the conversation is only {log_height} px of {viewport}",
        t.engine
    );
    let log_scrolls = phone
        .js("const l = document.getElementById('log'); return l.scrollHeight > l.clientHeight && l.scrollHeight - l.scrollTop - l.clientHeight < 48")
        .await;
    assert_eq!(
        log_scrolls, true,
        "{}: the conversation scrolls inside, at its end",
        t.engine
    );
    assert!(
        !shown(&phone, "#side").await,
        "{}: people shown beside the chat",
        t.engine
    );
    phone.screenshot("room-chat-phone", PHONE.0, PHONE.1).await;

    // An on-screen keyboard takes the lower 344 px (the viewport shrinks, as
    // with `interactive-widget=resizes-content`): the composer moves up
    // with it and the page still does not scroll.
    phone.set_viewport((PHONE.0, 500)).await;
    phone.click("#composer").await;
    let started = std::time::Instant::now();
    loop {
        let (viewport, scroll) = page_heights(&phone).await;
        let (_, composer_bottom, _) = rect(&phone, "form.composer").await;
        if viewport == 500.0
            && scroll <= viewport + 1.0
            && composer_bottom <= viewport
            && viewport - composer_bottom <= 16.0
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{}: with a keyboard open the composer ends at {composer_bottom} of {viewport} \
             (page {scroll})",
            t.engine
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    phone.screenshot("room-keyboard-phone", PHONE.0, 500).await;
    phone.set_viewport(PHONE).await;

    phone.click("#panel-toggle").await;
    phone.wait_focus("panel-close").await;
    assert!(shown(&phone, "#side").await);
    let (top, bottom, _) = rect(&phone, "#side").await;
    assert!(
        top <= 0.5 && bottom >= viewport - 0.5,
        "{}: the panel covers {top}..{bottom}",
        t.engine
    );
    assert_eq!(phone.wait_members(2).await.len(), 2);
    phone.click("#show-invite").await;
    phone.wait(".qr svg").await;
    phone
        .screenshot("people-panel-phone", PHONE.0, PHONE.1)
        .await;
    phone.press(ESCAPE).await;
    phone.wait_focus("panel-toggle").await;
    assert!(!shown(&phone, "#side").await);
    phone.click("#panel-toggle").await;
    phone.click("#panel-close").await;
    phone.wait_focus("panel-toggle").await;
    assert!(!shown(&phone, "#side").await);

    // The desktop keeps people beside the conversation, without the panel button.
    assert!(shown(&desk, "#side").await);
    assert!(!shown(&desk, "#panel-toggle").await);

    desk.end_room().await;
    phone.wait_text("#ended", "This room has ended.").await;
    wait_no_keys(&room_of(&link)).await;
    desk.close().await;
    phone.close().await;
}

/// With `prefers-reduced-motion: reduce`, the busy spinner does not spin;
/// without it, it does.
async fn reduced_motion_stops_animations(t: Ctx) {
    let app = t.app().await;
    let [x] = t.browsers().await;
    x.goto(&app.url("/")).await;
    x.wait("#quick-create").await;
    let spin = "const s = document.createElement('span'); s.className = 'spinner'; \
                document.body.append(s); const a = getComputedStyle(s).animationName; \
                s.remove(); return a";
    assert_eq!(x.js(spin).await, "spin");
    x.emulate_media("prefers-reduced-motion", "reduce").await;
    assert_eq!(x.js(spin).await, "none");
    x.emulate_media("prefers-reduced-motion", "").await;
    assert_eq!(x.js(spin).await, "spin");
    x.close().await;
}
