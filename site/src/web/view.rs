//! The room page view.

use leptos::prelude::*;
use vroom_e2e::message::MAX_TEXT_LEN;
use wasm_bindgen::JsCast as _;

use super::room::{self, Conn, Kind, Phase};
use super::util;

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

/// The room page.
#[component]
pub fn RoomView(room_id: String) -> impl IntoView {
    let ui = room::start(room_id);
    on_cleanup(room::teardown);
    let hide = window_event_listener(leptos::ev::pagehide, |_| room::teardown());
    on_cleanup(move || hide.remove());
    util::on_visibility_change(move || {
        if !util::document().hidden() {
            ui.unread.try_set(0);
        }
    });

    // Tab title with the unread count.
    Effect::new(move |_| {
        let unread = ui.unread.get();
        let title = match ui.phase.get() {
            Phase::Ended => "Room ended — Vroom".to_owned(),
            _ if unread > 0 => format!("({unread}) Vroom room"),
            _ => "Vroom room".to_owned(),
        };
        util::document().set_title(&title);
    });

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
        (end > 0).then(|| util::duration(end.saturating_sub(now.get())))
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

    let live = move || {
        view! {
            <div class="room">
                <header class="room-head">
                    <a class="home" href="/" aria-label="Vroom start page">"◐ Vroom"</a>
                    <h1 class="room-title">{move || ui.room_name.get().unwrap_or_else(|| "Quick room".into())}</h1>
                    <p class="conn" id="conn" role="status" data-state=move || format!("{:?}", ui.conn.get()).to_lowercase()>
                        {move || match ui.conn.get() {
                            Conn::Connecting => "Connecting…",
                            Conn::Online => "Connected",
                            Conn::Reconnecting => "Reconnecting…",
                        }}
                    </p>
                    <p class="time-left" id="time-left">
                        {move || time_left().map(|t| format!("Ends in {t}"))}
                    </p>
                    <div class="room-actions">
                        {move || if confirming.get() {
                            let creator = ui.creator.get();
                            view! {
                                <div class="confirm" role="alertdialog" aria-labelledby="confirm-q">
                                    <span id="confirm-q">{if creator { "End the room for everyone?" } else { "Leave this room?" }}</span>
                                    <button id="confirm-yes" class="danger" on:click=move |_| {
                                        confirming.set(false);
                                        if creator {
                                            wasm_bindgen_futures::spawn_local(room::end_room());
                                        } else {
                                            room::leave();
                                        }
                                    }>{if creator { "End it now" } else { "Leave" }}</button>
                                    <button id="confirm-no" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                </div>
                            }.into_any()
                        } else if ui.creator.get() {
                            view! { <button id="end-room" class="danger" on:click=move |_| { confirming.set(true); util::focus("confirm-no"); }>"End room"</button> }.into_any()
                        } else {
                            view! { <button id="leave-room" on:click=move |_| { confirming.set(true); util::focus("confirm-no"); }>"Leave"</button> }.into_any()
                        }}
                    </div>
                </header>
                <div class="room-body">
                    <section class="chat" aria-label="Conversation">
                        <div class="log" id="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"
                            node_ref=log_ref on:scroll=on_scroll>
                            <For each=move || ui.lines.get() key=|line| line.id let:line>
                                {
                                    let class = match line.kind {
                                        Kind::Own => "line own",
                                        Kind::Other => "line other",
                                        Kind::System => "line system",
                                    };
                                    let system = line.kind == Kind::System;
                                    view! {
                                        <div class=class>
                                            {(!system).then(|| view! { <span class="author">{line.author.clone()}</span> })}
                                            <span class="text">{line.text.clone()}</span>
                                            <time class="at">{line.time.clone()}</time>
                                        </div>
                                    }
                                }
                            </For>
                        </div>
                        <div class="notice" role="alert">{move || ui.notice.get()}</div>
                        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
                            <label for="composer" class="visually-hidden">"Message"</label>
                            <textarea id="composer" rows="2" placeholder="Write a message — Enter sends, Shift+Enter for a new line"
                                aria-describedby="counter"
                                prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev))
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                        ev.prevent_default();
                                        send();
                                    }
                                }></textarea>
                            <div class="composer-side">
                                <button id="send" class="primary" type="submit" disabled=over>"Send"</button>
                                <span id="counter" class=move || if over() { "counter over" } else { "counter" }>
                                    {move || {
                                        let used = draft.with(|d| d.len());
                                        if used > MAX_TEXT_LEN - 1000 {
                                            format!("{used} / {MAX_TEXT_LEN} bytes")
                                        } else {
                                            String::new()
                                        }
                                    }}
                                </span>
                            </div>
                        </form>
                    </section>
                    <aside class="side">
                        <section class="card" aria-labelledby="members-h">
                            <h2 id="members-h">"People here"</h2>
                            <p class="help">"Compare safety codes in person or on a call: matching codes mean nobody is in between."</p>
                            <ul class="members" id="members">
                                <For each=move || ui.members.get() key=|m| (m.id, m.name.clone(), m.code.clone()) let:m>
                                    <li class:me=m.me data-member=m.id>
                                        <span class="name">{m.name.clone().unwrap_or_else(|| "Joining…".into())}{m.me.then_some(" (you)")}</span>
                                        <code class="code">{m.code.clone().unwrap_or_default()}</code>
                                    </li>
                                </For>
                            </ul>
                        </section>
                        <section class="card invite" aria-labelledby="invite-h">
                            <h2 id="invite-h">"Invite"</h2>
                            {move || match (ui.invite.get(), ui.room_name.get()) {
                                (Some(link), _) => {
                                    let svg = qr_svg(&link);
                                    view! {
                                        <label for="invite-link">"Invite link"</label>
                                        <div class="copy-row">
                                            <input id="invite-link" type="text" readonly prop:value=link.clone() />
                                            <button id="copy-link" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                                        </div>
                                        <div class="qr" role="img" aria-label="QR code of the invite link" inner_html=svg></div>
                                        <p class="warn">"Treat this link like a password: anyone who has it can join while the room is live."</p>
                                    }.into_any()
                                }
                                (None, Some(name)) => view! {
                                    <p>"This is the named room " <strong>{name}</strong> "."</p>
                                    <p class="warn">"Share the room name and the passphrase instead of a link — in person or over another channel. Anyone who knows both can join while the room is live."</p>
                                }.into_any(),
                                (None, None) => ().into_any(),
                            }}
                        </section>
                    </aside>
                </div>
            </div>
        }
    };

    view! {
        <main class="page room-page" id="main">
            {move || match ui.phase.get() {
                Phase::Live => live().into_any(),
                Phase::Joining(text) => view! {
                    <div class="centered" role="status"><p class="busy"><span class="spinner" aria-hidden="true"></span>{text}</p></div>
                }.into_any(),
                Phase::Ended => view! {
                    <div class="centered ended" id="ended">
                        <h1>"This room has ended."</h1>
                        <p>"Nothing of it remains on the server."</p>
                        <p><a href="/">"Start a new room"</a></p>
                    </div>
                }.into_any(),
                Phase::Left => view! {
                    <div class="centered" id="left">
                        <h1>"You left the room."</h1>
                        <p>"This tab no longer holds any of its keys."</p>
                        <p><a href="/">"Back to the start page"</a></p>
                    </div>
                }.into_any(),
                Phase::Failed(text) => view! {
                    <div class="centered" id="failed" role="alert">
                        <h1>"Cannot open this room"</h1>
                        <p class="error">{text}</p>
                        <p><a href="/">"Back to the start page"</a></p>
                    </div>
                }.into_any(),
            }}
        </main>
    }
}
