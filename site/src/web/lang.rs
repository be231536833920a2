//! The page's language: the browser's preferred one the site speaks, or the
//! one chosen with the switch (remembered in `localStorage`, the only thing
//! the site keeps there), and the switch itself. Changing it re-renders
//! every text in place: a room stays open.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use vroom_site::catalogue::{Catalogue, Lang};

use super::util;

/// The `localStorage` key of the chosen language.
const STORAGE_KEY: &str = "vroom-lang";

thread_local! {
    static CURRENT: ArcRwSignal<Lang> = ArcRwSignal::new(initial());
    static CATALOGUES: RefCell<Vec<(Lang, Rc<Catalogue>)>> = const { RefCell::new(Vec::new()) };
}

/// The chosen language, else the first of `navigator.languages` the site
/// speaks, else English.
fn initial() -> Lang {
    let chosen = util::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|code| Lang::from_tag(&code));
    let lang = chosen.unwrap_or_else(|| {
        let preferred: Vec<String> = util::window()
            .navigator()
            .languages()
            .iter()
            .filter_map(|tag| tag.as_string())
            .collect();
        Lang::negotiate(preferred.iter().map(String::as_str))
    });
    mark_document(lang);
    lang
}

/// Sets `<html lang>` so screen readers speak the right language.
fn mark_document(lang: Lang) {
    if let Some(root) = util::document().document_element() {
        let _ = root.set_attribute("lang", lang.code());
    }
}

/// The page's language (a reactive read).
pub fn current() -> Lang {
    CURRENT.with(|lang| lang.get())
}

/// Switches the page to `lang` and remembers the choice.
pub fn choose(lang: Lang) {
    if let Some(storage) = util::window().local_storage().ok().flatten() {
        let _ = storage.set_item(STORAGE_KEY, lang.code());
    }
    mark_document(lang);
    CURRENT.with(|current| current.set(lang));
}

/// `lang`'s catalogue, parsed on first use.
pub fn catalogue(lang: Lang) -> Rc<Catalogue> {
    CATALOGUES.with(|all| {
        let mut all = all.borrow_mut();
        if let Some((_, catalogue)) = all.iter().find(|(l, _)| *l == lang) {
            return catalogue.clone();
        }
        let catalogue = Rc::new(Catalogue::new(lang));
        all.push((lang, catalogue.clone()));
        catalogue
    })
}

/// The visible language switch: a labelled list of the languages, each in
/// its own name and language.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    view! {
        <div class="lang-switch">
            <label for="language">{super::words::t!("language-label")}</label>
            <select id="language" on:change=move |ev| {
                if let Some(lang) = Lang::from_tag(&event_target_value(&ev)) {
                    choose(lang);
                }
            }>
                {Lang::ALL.into_iter().map(|lang| view! {
                    <option value=lang.code() lang=lang.code() selected=move || current() == lang>
                        {lang.own_name()}
                    </option>
                }).collect_view()}
            </select>
        </div>
    }
}
