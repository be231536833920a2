//! The landing page: what Vroom is, create a room, join a room.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use vroom_e2e::{RoomSecret, SystemRng};

use super::derive::{self, DeriveError};
use super::lang::LanguageSwitch;
use super::names::random_name;
use super::room::ROOM_PATH;
use super::store::{self, Entry, Intent};
use super::util;
use super::words::{self, Strength, t};

/// A rough strength hint for a passphrase.
fn strength(pass: &str) -> Option<Strength> {
    if pass.is_empty() {
        return None;
    }
    let classes = [
        pass.chars().any(|c| c.is_ascii_lowercase()),
        pass.chars().any(|c| c.is_ascii_uppercase()),
        pass.chars().any(|c| c.is_ascii_digit()),
        pass.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let words = pass.split_whitespace().count();
    let len = pass.chars().count();
    let score = len + classes * 3 + words.saturating_sub(1) * 4;
    Some(if score < 16 {
        Strength::Weak
    } else if score < 28 {
        Strength::Fair
    } else {
        Strength::Strong
    })
}

/// Moves to the room page; the secret travels in `sessionStorage`, never in
/// the address bar (the room page's address names no room either).
fn go_to_room(
    nav: Nav,
    secret: &RoomSecret,
    intent: Intent,
    name: String,
    edit: impl FnOnce(&mut Entry),
) {
    let room_id = secret.derive_keys().room_id().to_base64url();
    let mut entry = Entry::new(room_id, secret.to_base64url().to_string(), intent, name);
    edit(&mut entry);
    store::begin(&entry);
    nav.with_value(|navigate| navigate(ROOM_PATH, Default::default()));
}

type Nav = StoredValue<Box<dyn Fn(&str, leptos_router::NavigateOptions)>, LocalStorage>;

/// The landing page.
#[component]
pub fn Landing() -> impl IntoView {
    Effect::new(|_| util::document().set_title(&words::tr("title-landing")));
    util::focus_on_screen_change("landing-h");
    let display_name = RwSignal::new(String::new());
    let lifetime = RwSignal::new(3600u32);
    let named_name = RwSignal::new(String::new());
    let named_pass = RwSignal::new(String::new());
    let join_link = RwSignal::new(String::new());
    let join_name = RwSignal::new(String::new());
    let join_pass = RwSignal::new(String::new());
    let navigate = use_navigate();
    let nav: Nav =
        StoredValue::new_local(Box::new(move |path: &str, options| navigate(path, options)));
    let busy = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let name_or_random = move || {
        vroom_e2e::DisplayName::new(&display_name.get_untracked())
            .map_or_else(|_| random_name(), |n| n.as_str().to_owned())
    };
    let check_name = move || -> bool {
        let n = display_name.get_untracked();
        match vroom_e2e::DisplayName::new(&n) {
            Err(e) if !n.trim().is_empty() => {
                error.set(Some(words::bad_name(e)));
                false
            }
            _ => true,
        }
    };

    let quick = move |_| {
        error.set(None);
        if !check_name() {
            return;
        }
        let secret = RoomSecret::generate(&mut SystemRng::default());
        let life = lifetime.get_untracked();
        go_to_room(nav, &secret, Intent::Create, name_or_random(), |e| {
            e.lifetime = Some(life)
        });
    };

    // Argon2id takes seconds: show the progress state while a worker derives.
    let named = move |create: bool| {
        error.set(None);
        if !check_name() {
            return;
        }
        let (room, pass) = if create {
            (named_name.get_untracked(), named_pass.get_untracked())
        } else {
            (join_name.get_untracked(), join_pass.get_untracked())
        };
        if room.trim().is_empty() || pass.is_empty() {
            error.set(Some(words::tr("named-missing")));
            return;
        }
        let name = name_or_random();
        let life = lifetime.get_untracked();
        busy.set(Some(words::tr("deriving")));
        wasm_bindgen_futures::spawn_local(async move {
            let result = derive::named_room_secret(&room, &pass).await;
            busy.set(None);
            match result {
                Ok(secret) => {
                    let intent = if create {
                        Intent::CreateOrJoin
                    } else {
                        Intent::Join
                    };
                    go_to_room(nav, &secret, intent, name, |e| {
                        e.lifetime = Some(life);
                        e.room_name = Some(room.trim().to_owned());
                    });
                }
                Err(DeriveError::Input) => error.set(Some(words::tr("derive-input"))),
                Err(DeriveError::Worker) => error.set(Some(words::tr("derive-worker"))),
            }
        });
    };

    let by_link = move |_| {
        error.set(None);
        if !check_name() {
            return;
        }
        match vroom_e2e::parse_invite_link(&join_link.get_untracked()) {
            Ok(secret) => go_to_room(nav, &secret, Intent::Join, name_or_random(), |_| {}),
            Err(e) => error.set(Some(words::link_error(e))),
        }
    };

    let hint = move || strength(&named_pass.get());
    let hint_class = move || match hint() {
        None => "hint",
        Some(Strength::Weak) => "hint weak",
        Some(Strength::Fair) => "hint fair",
        Some(Strength::Strong) => "hint strong",
    };
    view! {
        <main class="page" id="main">
            <header class="hero">
                <LanguageSwitch />
                <h1 id="landing-h" tabindex="-1"><span class="logo" aria-hidden="true">"◐"</span>" Vroom"</h1>
                <p class="lead">{t!("landing-lead")}</p>
                <ol class="steps">
                    <li><strong>{t!("step-create")}</strong>{t!("step-create-rest")}</li>
                    <li><strong>{t!("step-share")}</strong>{t!("step-share-rest")}</li>
                    <li><strong>{t!("step-talk")}</strong>{t!("step-talk-rest")}</li>
                </ol>
            </header>

            <div class="status" role="status" aria-live="polite">
                {move || busy.get().map(|text| view! { <p class="busy"><span class="spinner" aria-hidden="true"></span>{text}</p> })}
            </div>
            <div role="alert" class="alert-slot">
                {move || error.get().map(|text| view! { <p class="error">{text}</p> })}
            </div>

            <div class="grid">
                <section class="card" aria-labelledby="create-h">
                    <h2 id="create-h">{t!("create-heading")}</h2>
                    <div class="field">
                        <label for="display-name">{t!("display-name-label")}" "<span class="opt">{t!("optional")}</span></label>
                        <input id="display-name" type="text" maxlength="64" autocomplete="off"
                            placeholder=t!("display-name-placeholder")
                            prop:value=move || display_name.get()
                            on:input=move |ev| display_name.set(event_target_value(&ev)) />
                        <p class="help">{t!("display-name-help")}</p>
                    </div>
                    <div class="field">
                        <label for="lifetime">{t!("lifetime-label")}</label>
                        <select id="lifetime" on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse() { lifetime.set(v) }
                        }>
                            {move || words::lifetimes().into_iter().map(|(label, secs)| view! {
                                <option value=secs.to_string() selected=secs == lifetime.get_untracked()>{label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button id="quick-create" class="primary" on:click=quick disabled=move || busy.get().is_some()>
                        {t!("quick-create")}
                    </button>
                    <p class="help">{t!("quick-create-help")}</p>

                    <h3>{t!("named-heading")}</h3>
                    <p class="help">{t!("named-help")}</p>
                    <div class="field">
                        <label for="named-name">{t!("room-name-label")}</label>
                        <input id="named-name" type="text" maxlength="256" autocomplete="off"
                            prop:value=move || named_name.get()
                            on:input=move |ev| named_name.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="named-pass">{t!("passphrase-label")}</label>
                        <input id="named-pass" type="password" maxlength="1024" autocomplete="new-password"
                            aria-describedby="pass-hint"
                            prop:value=move || named_pass.get()
                            on:input=move |ev| named_pass.set(event_target_value(&ev)) />
                        <p id="pass-hint" class=hint_class aria-live="polite">{move || hint().map(words::strength)}</p>
                    </div>
                    <button id="named-create" on:click=move |_| named(true) disabled=move || busy.get().is_some()>
                        {t!("named-create")}
                    </button>
                </section>

                <section class="card" aria-labelledby="join-h">
                    <h2 id="join-h">{t!("join-heading")}</h2>
                    <div class="field">
                        <label for="join-link">{t!("join-link-label")}</label>
                        <input id="join-link" type="text" autocomplete="off" spellcheck="false"
                            placeholder="https://…/r/…#…"
                            prop:value=move || join_link.get()
                            on:input=move |ev| join_link.set(event_target_value(&ev))
                            on:keydown=move |ev| if ev.key() == "Enter" { by_link(()) } />
                    </div>
                    <button id="join-link-go" class="primary" on:click=move |_| by_link(()) disabled=move || busy.get().is_some()>
                        {t!("join-link-go")}
                    </button>
                    <h3>{t!("join-named-heading")}</h3>
                    <div class="field">
                        <label for="join-name">{t!("room-name-label")}</label>
                        <input id="join-name" type="text" maxlength="256" autocomplete="off"
                            prop:value=move || join_name.get()
                            on:input=move |ev| join_name.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="join-pass">{t!("passphrase-label")}</label>
                        <input id="join-pass" type="password" maxlength="1024" autocomplete="off"
                            prop:value=move || join_pass.get()
                            on:input=move |ev| join_pass.set(event_target_value(&ev)) />
                    </div>
                    <button id="join-named-go" on:click=move |_| named(false) disabled=move || busy.get().is_some()>
                        {t!("join-named-go")}
                    </button>
                    <p class="help">{t!("join-named-help")}</p>
                </section>
            </div>

            <section class="card about" aria-labelledby="about-h">
                <h2 id="about-h">{t!("server-heading")}</h2>
                <ul>
                    <li>{t!("server-sees")}</li>
                    <li>{t!("server-never-sees")}</li>
                    <li>{t!("server-stores-nothing")}</li>
                </ul>
                <h2>{t!("limits-heading")}</h2>
                <ul>
                    <li>{t!("limit-code")}</li>
                    <li>{t!("limit-link")}</li>
                    <li>{t!("limit-copies")}</li>
                    <li>{t!("history-note")}</li>
                </ul>
            </section>
        </main>
    }
}
