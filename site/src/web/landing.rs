//! The landing page: what Vroom is, create a room, join a room.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use vroom_e2e::{RoomSecret, SystemRng};

use super::derive::{self, DeriveError};
use super::names::random_name;
use super::room::ROOM_PATH;
use super::store::{self, Entry, Intent};
use super::{util, words};

/// Lifetime choices: label and seconds.
const LIFETIMES: &[(&str, u32)] = &[
    ("15 minutes", 15 * 60),
    ("1 hour", 3600),
    ("6 hours", 6 * 3600),
    ("24 hours", 24 * 3600),
];

/// A rough strength hint for a passphrase.
fn strength(pass: &str) -> (&'static str, &'static str) {
    if pass.is_empty() {
        return ("", "");
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
    if score < 16 {
        (
            "weak",
            "Weak: anyone who guesses it can join. Use four or more random words.",
        )
    } else if score < 28 {
        (
            "fair",
            "Fair: longer is safer, e.g. four or five random words.",
        )
    } else {
        ("strong", "Strong passphrase.")
    }
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
    util::document().set_title("Vroom — private rooms that vanish");
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
            error.set(Some("Enter both the room name and the passphrase.".into()));
            return;
        }
        let name = name_or_random();
        let life = lifetime.get_untracked();
        busy.set(Some(
            "Deriving the room key from the name and passphrase… This takes a few seconds \
             on purpose, to make guessing passphrases slow."
                .into(),
        ));
        wasm_bindgen_futures::spawn_local(async move {
            let result = derive::named_room_secret(&room, &pass).await;
            busy.set(None);
            match result {
                Ok(secret) => {
                    let intent = if create { Intent::CreateOrJoin } else { Intent::Join };
                    go_to_room(nav, &secret, intent, name, |e| {
                        e.lifetime = Some(life);
                        e.room_name = Some(room.trim().to_owned());
                    });
                }
                Err(DeriveError::Input) => error.set(Some(
                    "That room name or passphrase cannot be used (too long, or with control characters)."
                        .into(),
                )),
                Err(DeriveError::Worker) => error.set(Some(
                    "Your browser could not run the key derivation. Reload the page and try again."
                        .into(),
                )),
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
    view! {
        <main class="page" id="main">
            <header class="hero">
                <h1><span class="logo" aria-hidden="true">"◐"</span>" Vroom"</h1>
                <p class="lead">
                    "Private chat rooms that vanish. No account, no phone number, no e-mail. "
                    "Messages are end-to-end encrypted in your browser; when the room ends, nothing of it is left on any server."
                </p>
                <ol class="steps">
                    <li><strong>"Create"</strong>" a room with one click."</li>
                    <li><strong>"Share"</strong>" the invite link (or a room name and passphrase)."</li>
                    <li><strong>"Talk"</strong>", then end the room."</li>
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
                    <h2 id="create-h">"Create a room"</h2>
                    <div class="field">
                        <label for="display-name">"Your display name " <span class="opt">"(optional)"</span></label>
                        <input id="display-name" type="text" maxlength="64" autocomplete="off"
                            placeholder="e.g. Sam — a random one otherwise"
                            prop:value=move || display_name.get()
                            on:input=move |ev| display_name.set(event_target_value(&ev)) />
                        <p class="help">"Only the people in the room see it: it travels inside the encryption."</p>
                    </div>
                    <div class="field">
                        <label for="lifetime">"The room ends at the latest after"</label>
                        <select id="lifetime" on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse() { lifetime.set(v) }
                        }>
                            {LIFETIMES.iter().map(|(label, secs)| view! {
                                <option value=secs.to_string() selected=*secs == 3600>{*label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button id="quick-create" class="primary" on:click=quick disabled=move || busy.get().is_some()>
                        "Create a quick room"
                    </button>
                    <p class="help">"A random secret is drawn in your browser and put in the invite link."</p>

                    <h3>"Or a named room"</h3>
                    <p class="help">
                        "Choose a room name and a passphrase and tell them to the others. The same name with another passphrase is another room."
                    </p>
                    <div class="field">
                        <label for="named-name">"Room name"</label>
                        <input id="named-name" type="text" maxlength="256" autocomplete="off"
                            prop:value=move || named_name.get()
                            on:input=move |ev| named_name.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="named-pass">"Passphrase"</label>
                        <input id="named-pass" type="password" maxlength="1024" autocomplete="new-password"
                            aria-describedby="pass-hint"
                            prop:value=move || named_pass.get()
                            on:input=move |ev| named_pass.set(event_target_value(&ev)) />
                        <p id="pass-hint" class=move || format!("hint {}", hint().0) aria-live="polite">{move || hint().1}</p>
                    </div>
                    <button id="named-create" on:click=move |_| named(true) disabled=move || busy.get().is_some()>
                        "Create or open the named room"
                    </button>
                </section>

                <section class="card" aria-labelledby="join-h">
                    <h2 id="join-h">"Join a room"</h2>
                    <div class="field">
                        <label for="join-link">"Paste the invite link"</label>
                        <input id="join-link" type="text" autocomplete="off" spellcheck="false"
                            placeholder="https://…/r/…#…"
                            prop:value=move || join_link.get()
                            on:input=move |ev| join_link.set(event_target_value(&ev))
                            on:keydown=move |ev| if ev.key() == "Enter" { by_link(()) } />
                    </div>
                    <button id="join-link-go" class="primary" on:click=move |_| by_link(()) disabled=move || busy.get().is_some()>
                        "Join with the link"
                    </button>
                    <h3>"Or with a room name and passphrase"</h3>
                    <div class="field">
                        <label for="join-name">"Room name"</label>
                        <input id="join-name" type="text" maxlength="256" autocomplete="off"
                            prop:value=move || join_name.get()
                            on:input=move |ev| join_name.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="join-pass">"Passphrase"</label>
                        <input id="join-pass" type="password" maxlength="1024" autocomplete="off"
                            prop:value=move || join_pass.get()
                            on:input=move |ev| join_pass.set(event_target_value(&ev)) />
                    </div>
                    <button id="join-named-go" on:click=move |_| named(false) disabled=move || busy.get().is_some()>
                        "Join the named room"
                    </button>
                    <p class="help">"Your display name from the left is used here too."</p>
                </section>
            </div>

            <section class="card about" aria-labelledby="about-h">
                <h2 id="about-h">"What the server can and cannot see"</h2>
                <ul>
                    <li>"It sees: a random room id, a proof that you know the room's key (stored only hashed), one-time connection tickets, and encrypted messages of fixed sizes."</li>
                    <li>"It never sees: your messages, display names, the room secret, a room name or a passphrase. The key is in the part of the link after #, which browsers never send."</li>
                    <li>"Nothing is stored: messages are relayed, never saved, and every trace of the room is deleted when it ends."</li>
                </ul>
                <h2>"Honest limits"</h2>
                <ul>
                    <li>"You trust the code this site sends to your browser."</li>
                    <li>"Anyone with the link (or the name and passphrase) can join while the room is live: treat it like a password. Compare safety codes to be sure who is who."</li>
                    <li>"People in the room can copy or screenshot what they see."</li>
                    <li>{words::HISTORY_NOTE}</li>
                </ul>
            </section>
        </main>
    }
}
