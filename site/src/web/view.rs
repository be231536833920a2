//! The room page view: the invite screen, the conversation, the people and
//! their faces, and the ended, left and failed screens. All words come from
//! `words.rs`; every piece of user text is bidi-isolated. Each screen change
//! moves the keyboard focus to the new screen; at phone width the
//! conversation fills the screen and people, safety codes and the invite
//! open as a panel over it (`style.css`).

use std::collections::BTreeSet;

use leptos::prelude::*;
use vroom_e2e::message::MAX_TEXT_LEN;
use vroom_site::text::{Segment, control_mark, segments};
use wasm_bindgen::JsCast as _;

use super::lang::LanguageSwitch;
use super::room::{self, Face, LineKind, Phase};
use super::store::Prefs;
use super::util;
use super::words::{self, Piece, t};

/// An SVG QR code of `text`, rendered locally.
fn qr_svg(text: &str) -> String {
    qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(180, 180)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default()
}

/// A member's name (isolated from the text around it) and discriminator: a
/// coloured mark and the first group of its safety code; `same_name` marks a
/// name another present member also shows.
#[component]
fn FaceTag(face: Face, #[prop(into)] same_name: Signal<bool>) -> impl IntoView {
    let colour = face.colour;
    let title = move || words::discriminator_title(colour);
    view! {
        <span class="face" data-member=face.member>
            <bdi class="name">{face.name}</bdi>
            " "
            <span class=format!("disc c{}", face.colour) title=title>
                <span class="dot" aria-hidden="true">"●"</span>
                {face.group}
            </span>
            {move || same_name.get().then(|| view! { <span class="same-name">{t!("same-name")}</span> })}
        </span>
    }
}

/// A sentence of pieces, faces shown with [`FaceTag`].
fn sentence(pieces: Vec<Piece>, same_name: impl Fn(&Face) -> Signal<bool>) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.into_any(),
            Piece::Name(name) => view! { <bdi class="name">{name}</bdi> }.into_any(),
            Piece::Face(face) => {
                let same = same_name(&face);
                view! { <FaceTag face=face same_name=same /> }.into_any()
            }
        })
        .collect_view()
}

/// Message text: its own direction from its content, isolated from the line,
/// with directional override characters shown as marks instead of obeyed.
fn message_text(text: &str) -> impl IntoView {
    let pieces = segments(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.to_owned().into_any(),
            Segment::Control(c) => {
                view! { <span class="bidi-mark">{control_mark(c)}</span> }.into_any()
            }
        })
        .collect_view();
    view! { <div class="text" dir="auto">{pieces}</div> }
}

/// A message line: its author's face, the text, the time; a mention of
/// this tab's name is marked.
fn chat_line(
    class: &'static str,
    face: Face,
    text: &str,
    time: String,
    mention: bool,
    same_name: impl Fn(&Face) -> Signal<bool>,
) -> AnyView {
    let same = same_name(&face);
    let class = if mention {
        format!("{class} mention")
    } else {
        class.to_owned()
    };
    view! {
        <div class=class>
            <span class="author"><FaceTag face=face same_name=same /></span>
            {mention.then(|| view! { <span class="mention-mark">{t!("mention-mark")}</span> })}
            {message_text(text)}
            <time class="at">{time}</time>
        </div>
    }
    .into_any()
}

/// A checkbox bound to one of the person's switches; `then` runs inside the
/// click (a user gesture) with the new value.
fn switch(
    id: &'static str,
    label: Signal<String>,
    help: Signal<String>,
    prefs: RwSignal<Prefs>,
    get: fn(&Prefs) -> bool,
    set: fn(&mut Prefs, bool),
    then: fn(bool),
) -> impl IntoView {
    let help_id = format!("{id}-help");
    view! {
        <div class="switch">
            <input type="checkbox" id=id aria-describedby=help_id.clone()
                prop:checked=move || prefs.with(get)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    let mut next = prefs.get_untracked();
                    set(&mut next, on);
                    room::set_prefs(next);
                    then(on);
                } />
            <label for=id>{label}</label>
            <p class="help" id=help_id>{help}</p>
        </div>
    }
}

/// The creator's Remove button beside a member, with its confirmation.
fn remove_control(
    member: u32,
    name: Option<String>,
    creator: RwSignal<bool>,
    removing: RwSignal<Option<u32>>,
) -> impl IntoView {
    let name = name.unwrap_or_default();
    move || {
        if !creator.get() {
            return ().into_any();
        }
        if removing.get() == Some(member) {
            view! {
                <div class="confirm" role="alertdialog">
                    <span>{sentence(words::confirm_remove(&name), |_: &Face| Signal::derive(|| false))}</span>
                    <button class="danger confirm-remove" on:click=move |_| {
                        removing.set(None);
                        wasm_bindgen_futures::spawn_local(room::remove_member(member));
                    }>{t!("confirm-remove-yes")}</button>
                    <button class="cancel-remove" on:click=move |_| removing.set(None)>{t!("cancel")}</button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <button class="remove-member" data-member=member on:click=move |_| removing.set(Some(member))>{t!("remove-member")}</button>
            }
            .into_any()
        }
    }
}

/// The room page.
#[component]
pub fn RoomView() -> impl IntoView {
    let ui = room::start();
    on_cleanup(room::page_hidden);
    let hide = window_event_listener(leptos::ev::pagehide, |_| room::page_hidden());
    on_cleanup(move || hide.remove());
    // Back from the back/forward cache: the page dropped the room when it was
    // hidden; load again, which rejoins only within the reload window.
    let show = window_event_listener(leptos::ev::pageshow, |ev| {
        if ev.persisted() {
            let _ = util::window().location().reload();
        }
    });
    on_cleanup(move || show.remove());
    util::on_visibility_change(move || {
        if !util::document().hidden() {
            ui.unread.try_set(0);
        }
    });

    // Tab title with the unread count: never a name (titles go to history).
    Effect::new(move |_| {
        let phase = ui.phase.get();
        let title = words::title(
            phase == Phase::Ended,
            matches!(phase, Phase::Invite { .. }),
            ui.unread.get(),
        );
        util::document().set_title(&title);
    });

    // Every screen change moves the focus into the new screen: the composer
    // in the room (its heading on a touch screen, where focusing the
    // composer would open the keyboard over the conversation), the name
    // field of an invitation, else the screen's heading.
    Effect::new(move |previous: Option<std::mem::Discriminant<Phase>>| {
        let phase = ui.phase.get();
        let kind = std::mem::discriminant(&phase);
        if previous != Some(kind) {
            let target = match phase {
                Phase::Live if util::touch_screen() => "room-title",
                Phase::Live => "composer",
                Phase::Invite { .. } => "invite-name",
                Phase::Joining => "opening",
                Phase::Ended => "ended-h",
                Phase::Left => "left-h",
                Phase::Removed => "removed-h",
                Phase::Reopened => "reopened-h",
                Phase::Failed(_) => "failed-h",
            };
            util::focus_on_screen_change(target);
        }
        kind
    });

    // Names that more than one present member shows.
    let shared_names = Memo::new(move |_| {
        let mut seen = BTreeSet::new();
        let mut shared = BTreeSet::new();
        for row in ui.members.get() {
            if let Some(face) = row.face
                && !seen.insert(face.look_alike.clone())
            {
                shared.insert(face.look_alike);
            }
        }
        shared
    });
    let same_name = move |face: &Face| {
        let key = face.look_alike.clone();
        Signal::derive(move || shared_names.with(|s| s.contains(&key)))
    };

    // Time left, ticking.
    let now = RwSignal::new(util::now_secs());
    if let Ok(handle) = set_interval_with_handle(
        move || {
            now.try_set(util::now_secs());
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    let time_left = move || {
        let end = ui.expires_at.get();
        (end > 0).then(|| end.saturating_sub(now.get()))
    };

    // Composer.
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        if room::send_text(&text) {
            draft.set(String::new());
        }
    };
    let over = move || draft.with(|d| d.len() > MAX_TEXT_LEN);

    // At phone width, people, safety codes and the invite are a panel over
    // the conversation: open it, close it (button or Escape), and the focus
    // goes in and comes back.
    let panel_open = RwSignal::new(false);
    let open_panel = move || {
        panel_open.set(true);
        util::focus_soon("panel-close");
    };
    let close_panel = move || {
        panel_open.set(false);
        util::focus_soon("panel-toggle");
    };

    // Auto-scroll only while the reader is at the bottom.
    let log_ref = NodeRef::<leptos::html::Div>::new();
    let stick = StoredValue::new(true);
    Effect::new(move |_| {
        ui.lines.track();
        if let Some(el) = log_ref.get()
            && stick.get_value()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = log_ref.get() {
            stick.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
        }
    };

    let confirming = RwSignal::new(false);
    // The member whose removal the creator is confirming.
    let removing = RwSignal::new(None::<u32>);
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(link) = ui.invite.get_untracked() {
            wasm_bindgen_futures::spawn_local(async move {
                let ok = util::copy_text(&link).await;
                if !ok
                    && let Some(input) = util::document()
                        .get_element_by_id("invite-link")
                        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    input.select();
                }
                copied.set(ok);
            });
        }
    };
    // The invite panel is closed unless someone opens it (screen sharing:
    // the link is in the page, not on the screen); the QR code is drawn only
    // while it is open.
    let invite_open = RwSignal::new(false);

    let live = move || {
        view! {
            <div class="room">
                // While the phone's panel covers them, the header and the
                // conversation are out of reach of Tab and screen readers.
                <header class="room-head" inert=move || panel_open.get()>
                    <a class="home" href="/" aria-label=t!("home-label")>"◐ Vroom"</a>
                    <h1 class="room-title" id="room-title" tabindex="-1"><bdi>{move || ui.room_name.get().unwrap_or_else(|| words::tr("quick-room"))}</bdi></h1>
                    <p class="conn" id="conn" role="status" data-state=move || format!("{:?}", ui.conn.get()).to_lowercase()>
                        {move || words::conn(ui.conn.get())}
                    </p>
                    <p class="time-left" id="time-left">
                        {move || time_left().map(words::ends_in)}
                    </p>
                    <button id="panel-toggle" type="button" class="panel-toggle" aria-controls="side"
                        aria-expanded=move || panel_open.get().to_string()
                        on:click=move |_| open_panel()>
                        {t!("panel-open")}
                    </button>
                    <p class="lock-state" id="lock-state" role="status">
                        {move || ui.locked.get().then(|| words::tr("locked-state"))}
                    </p>
                    <div class="room-actions">
                        {move || if confirming.get() {
                            let creator = ui.creator.get();
                            view! {
                                <div class="confirm" role="alertdialog" aria-labelledby="confirm-q"
                                    on:keydown=move |ev| if ev.key() == "Escape" {
                                        confirming.set(false);
                                        util::focus_soon(if creator { "end-room" } else { "leave-room" });
                                    }>
                                    <span id="confirm-q">{move || if creator { words::tr("end-question") } else { words::tr("leave-question") }}</span>
                                    <button id="confirm-yes" class="danger" on:click=move |_| {
                                        confirming.set(false);
                                        if creator {
                                            wasm_bindgen_futures::spawn_local(room::end_room());
                                        } else {
                                            room::leave();
                                        }
                                    }>{move || if creator { words::tr("end-now") } else { words::tr("leave") }}</button>
                                    <button id="confirm-no" on:click=move |_| {
                                        confirming.set(false);
                                        util::focus_soon(if creator { "end-room" } else { "leave-room" });
                                    }>{t!("cancel")}</button>
                                </div>
                            }.into_any()
                        } else if ui.creator.get() {
                            view! {
                                <button id="lock-room" on:click=move |_| {
                                        let locked = !ui.locked.get_untracked();
                                        wasm_bindgen_futures::spawn_local(room::set_locked(locked));
                                    }>{move || words::lock_button(ui.locked.get())}</button>
                                <button id="end-room" class="danger" on:click=move |_| { confirming.set(true); util::focus_soon("confirm-no"); }>{t!("end-room")}</button>
                            }.into_any()
                        } else {
                            view! { <button id="leave-room" on:click=move |_| { confirming.set(true); util::focus_soon("confirm-no"); }>{t!("leave")}</button> }.into_any()
                        }}
                    </div>
                </header>
                <div class="room-body">
                    <section class="chat" aria-label=t!("conversation") inert=move || panel_open.get()>
                        <div class="log" id="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"
                            node_ref=log_ref on:scroll=on_scroll>
                            <For each=move || ui.lines.get() key=|line| line.id let:line>
                                {match line.kind {
                                    LineKind::Own { face, text } => {
                                        chat_line("line own", face, &text, line.time.clone(), false, same_name)
                                    }
                                    LineKind::Other { face, text, mention } => {
                                        chat_line("line other", face, &text, line.time.clone(), mention, same_name)
                                    }
                                    LineKind::System(system) => view! {
                                        <div class="line system">
                                            <span class="text">{move || sentence(words::system_line(&system), same_name)}</span>
                                            <time class="at">{line.time.clone()}</time>
                                        </div>
                                    }.into_any(),
                                }}
                            </For>
                        </div>
                        <div class="typing" id="typing" aria-live="off">
                            {move || sentence(words::typing(&ui.typing.get()), same_name)}
                        </div>
                        <div class="notice" role="alert">{move || ui.notice.get().map(|n| words::notice(&n))}</div>
                        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                            <label for="composer" class="visually-hidden">{t!("message-label")}</label>
                            <textarea id="composer" rows="2" dir="auto" placeholder=t!("composer-placeholder")
                                aria-describedby="composer-hint counter"
                                prop:value=move || draft.get()
                                on:input=move |ev| {
                                    let text = event_target_value(&ev);
                                    if !text.trim().is_empty() {
                                        room::composing();
                                    }
                                    draft.set(text);
                                }
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                        ev.prevent_default();
                                        send();
                                    }
                                }></textarea>
                            <div class="composer-side">
                                <button id="send" class="primary" type="submit" disabled=over>{t!("send")}</button>
                                <span id="counter" class=move || if over() { "counter over" } else { "counter" }>
                                    {move || {
                                        let used = draft.with(|d| d.len());
                                        if used > MAX_TEXT_LEN - 1000 {
                                            words::counter(used, MAX_TEXT_LEN)
                                        } else {
                                            String::new()
                                        }
                                    }}
                                </span>
                            </div>
                        </form>
                        <p class="help composer-hint" id="composer-hint">{t!("composer-hint")}</p>
                    </section>
                    <aside class="side" id="side" class:open=move || panel_open.get()
                        on:keydown=move |ev| if ev.key() == "Escape" && panel_open.get_untracked() { close_panel() }>
                        <div class="panel-head">
                            <button id="panel-close" type="button" on:click=move |_| close_panel()>{t!("panel-close")}</button>
                        </div>
                        <section class="card" aria-labelledby="members-h">
                            <h2 id="members-h">{t!("people-heading")}</h2>
                            <p class="help">{t!("people-help")}</p>
                            <ul class="members" id="members">
                                <For each=move || ui.members.get() key=|m| (m.id, m.code.clone()) let:m>
                                    <li class:me=m.me data-member=m.id>
                                        <span class="who">
                                            {match m.face.clone() {
                                                Some(face) => {
                                                    let same = same_name(&face);
                                                    view! { <FaceTag face=face same_name=same /> }.into_any()
                                                }
                                                None => view! { <span class="joining">{t!("joining")}</span> }.into_any(),
                                            }}
                                            {m.me.then_some(t!("you"))}
                                        </span>
                                        <code class="code">{m.code.clone().unwrap_or_default()}</code>
                                        {(!m.me).then(|| remove_control(m.id, m.face.as_ref().map(|f| f.name.clone()), ui.creator, removing))}
                                    </li>
                                </For>
                            </ul>
                        </section>
                        <section class="card settings" aria-labelledby="settings-h">
                            <h2 id="settings-h">{t!("settings-heading")}</h2>
                            {switch("send-typing", t!("send-typing"), t!("send-typing-help"), ui.prefs,
                                |p| p.send_typing, |p, on| p.send_typing = on, |_| {})}
                            {switch("notify", t!("notify"), t!("notify-help"), ui.prefs,
                                |p| p.notify, |p, on| p.notify = on,
                                |on| if on { wasm_bindgen_futures::spawn_local(room::enable_notifications()) })}
                            {switch("notify-text", t!("notify-text"), t!("notify-text-help"), ui.prefs,
                                |p| p.notify_text, |p, on| p.notify_text = on, |_| {})}
                            {switch("sound", t!("sound"), t!("sound-help"), ui.prefs,
                                |p| p.sound, |p, on| p.sound = on,
                                |on| if on { super::notify::prime_sound() })}
                        </section>
                        <section class="card invite" aria-labelledby="invite-h">
                            <h2 id="invite-h">{t!("invite-heading")}</h2>
                            {move || match (ui.invite.get(), ui.room_name.get()) {
                                (Some(link), _) => view! {
                                    <button id="show-invite" type="button" aria-controls="invite-panel"
                                        aria-expanded=move || invite_open.get().to_string()
                                        on:click=move |_| invite_open.update(|open| *open = !*open)>
                                        {move || if invite_open.get() { words::tr("invite-hide") } else { words::tr("invite-show") }}
                                    </button>
                                    <div id="invite-panel" hidden=move || !invite_open.get()>
                                        <label for="invite-link">{t!("invite-link-label")}</label>
                                        <div class="copy-row">
                                            <input id="invite-link" type="text" readonly prop:value=link.clone() />
                                            <button id="copy-link" on:click=copy>{move || if copied.get() { words::tr("copied") } else { words::tr("copy") }}</button>
                                        </div>
                                        {move || invite_open.get().then(|| {
                                            let svg = qr_svg(&link);
                                            view! { <div class="qr" role="img" aria-label=t!("qr-label") inner_html=svg></div> }
                                        })}
                                        <p class="warn">{t!("invite-warn")}</p>
                                    </div>
                                    <p class="help">{words::history_note}</p>
                                }.into_any(),
                                (None, Some(name)) => view! {
                                    <p>{move || sentence(words::named_room_is(&name), same_name)}</p>
                                    <p class="warn">{t!("named-room-warn")}</p>
                                }.into_any(),
                                (None, None) => ().into_any(),
                            }}
                        </section>
                        <LanguageSwitch />
                    </aside>
                </div>
            </div>
        }
    };

    view! {
        <main class="page room-page" class:live=move || ui.phase.get() == Phase::Live id="main">
            {move || match ui.phase.get() {
                Phase::Live => live().into_any(),
                Phase::Invite { suggested_name } => view! { <InviteScreen suggested_name=suggested_name /> }.into_any(),
                Phase::Joining => view! {
                    <div class="centered" role="status"><p class="busy" id="opening" tabindex="-1"><span class="spinner" aria-hidden="true"></span>{t!("opening")}</p></div>
                }.into_any(),
                Phase::Ended => view! {
                    <div class="centered ended" id="ended">
                        <h1 id="ended-h" tabindex="-1">{t!("ended-heading")}</h1>
                        <p>{t!("ended-text")}</p>
                        <p><a href="/">{t!("start-new")}</a></p>
                        <LanguageSwitch />
                    </div>
                }.into_any(),
                Phase::Removed => view! {
                    <div class="centered" id="removed" role="alert">
                        <h1 id="removed-h" tabindex="-1">{t!("removed-heading")}</h1>
                        <p>{t!("removed-text")}</p>
                        <p><a href="/">{t!("back-start")}</a></p>
                        <LanguageSwitch />
                    </div>
                }.into_any(),
                Phase::Left => view! {
                    <div class="centered" id="left">
                        <h1 id="left-h" tabindex="-1">{t!("left-heading")}</h1>
                        <p>{t!("left-text")}</p>
                        <p><a href="/">{t!("back-start")}</a></p>
                        <LanguageSwitch />
                    </div>
                }.into_any(),
                Phase::Reopened => view! {
                    <div class="centered" id="reopened">
                        <h1 id="reopened-h" tabindex="-1">{t!("reopened-heading")}</h1>
                        <p>{t!("reopened-text")}</p>
                        <p><a href="/">{t!("go-start")}</a></p>
                        <LanguageSwitch />
                    </div>
                }.into_any(),
                Phase::Failed(failure) => view! {
                    <div class="centered" id="failed" role="alert">
                        <h1 id="failed-h" tabindex="-1">{t!("failed-heading")}</h1>
                        <p class="error">{move || words::failure(&failure)}</p>
                        <p><a href="/">{t!("back-start")}</a></p>
                        <LanguageSwitch />
                    </div>
                }.into_any(),
            }}
        </main>
    }
}

/// What an invite link opens, before anything is sent anywhere: a name field
/// and Join (or not).
#[component]
fn InviteScreen(suggested_name: String) -> impl IntoView {
    let name = RwSignal::new(suggested_name);
    let error = RwSignal::new(None::<String>);
    let join = move || {
        error.set(None);
        if let Err(e) = room::accept_invite(&name.get_untracked()) {
            error.set(Some(words::bad_name(e)));
        }
    };
    view! {
        <div class="centered invite-screen" id="invite-screen">
            <LanguageSwitch />
            <h1>{t!("invite-title")}</h1>
            <p>{t!("invite-nothing-sent")}</p>
            <p>{t!("invite-what-others-see")}</p>
            <form class="invite-form" on:submit=move |ev| { ev.prevent_default(); join(); }>
                <div class="field">
                    <label for="invite-name">{t!("invite-name-label")}</label>
                    <input id="invite-name" type="text" maxlength="64" autocomplete="off" dir="auto"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                    <p class="help">{t!("display-name-help")}</p>
                </div>
                <div role="alert" class="alert-slot">{move || error.get().map(|text| view! { <p class="error" id="invite-error">{text}</p> })}</div>
                <div class="invite-actions">
                    <button id="join-invite" class="primary" type="submit">{t!("join-room")}</button>
                    <a id="decline-invite" href="/" on:click=move |_| room::decline_invite()>{t!("not-now")}</a>
                </div>
            </form>
            <p class="help">{words::history_note}</p>
        </div>
    }
}
