//! Small browser helpers.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

/// The window (always present on a page).
pub fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

/// The document.
pub fn document() -> web_sys::Document {
    window().document().expect("a document")
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// The local time as `HH:MM`.
pub fn clock() -> String {
    let date = js_sys::Date::new_0();
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// `location.origin`, e.g. `http://127.0.0.1:3000`.
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// Copies text to the clipboard; `false` when the browser refused.
pub async fn copy_text(text: &str) -> bool {
    let clipboard = window().navigator().clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
}

/// Runs `f` on every `visibilitychange` of the document (kept for the page's life).
pub fn on_visibility_change(f: impl Fn() + 'static) {
    let closure = Closure::<dyn Fn()>::new(f);
    let _ = document()
        .add_event_listener_with_callback("visibilitychange", closure.as_ref().unchecked_ref());
    closure.forget();
}

/// Focuses the element with id `id` once the current render has put it
/// in the page (tries for about a second).
pub fn focus_soon(id: &str) {
    let id = id.to_owned();
    wasm_bindgen_futures::spawn_local(async move {
        for _ in 0..20 {
            sleep(0).await;
            focus(&id);
            let focused = document()
                .active_element()
                .is_some_and(|active| active.id() == id);
            if focused {
                return;
            }
            sleep(50).await;
        }
    });
}

thread_local! {
    /// Whether a screen has been shown since the page loaded.
    static SHOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A new screen is shown: focus goes to `id` in it, except on the page's
/// first screen, where the browser starts at the top as on any page load
/// (an invitation's name field is taken as the first screen's focus too).
pub fn focus_on_screen_change(id: &str) {
    let first = !SHOWN.with(|shown| shown.replace(true));
    if !first || id == "invite-name" {
        focus_soon(id);
    }
}

/// Whether the main pointer is a finger (a phone or tablet).
pub fn touch_screen() -> bool {
    window()
        .match_media("(pointer: coarse)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches())
}

/// Focuses the element with id `id`, if there is one.
pub fn focus(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Keeps the CSS variable `--viewport-height` at the height of the part of
/// the page the person sees, which shrinks when an on-screen keyboard opens
/// (browsers that do not resize the layout for it): the room fits there,
/// so the composer stays above the keyboard.
pub fn track_visual_viewport() {
    let Some(viewport) = window().visual_viewport() else {
        return;
    };
    let update = move || {
        if let (Some(viewport), Some(root)) = (
            window().visual_viewport(),
            document()
                .document_element()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
        ) {
            // WebKitGTK reports 0 before its first layout: leave the CSS
            // fallback (`100dvh`) until there is a real height.
            let height = viewport.height();
            if height >= 1.0 {
                let _ = root
                    .style()
                    .set_property("--viewport-height", &format!("{height}px"));
            }
        }
    };
    update();
    let closure = Closure::<dyn Fn()>::new(update);
    let _ = viewport.add_event_listener_with_callback("resize", closure.as_ref().unchecked_ref());
    closure.forget();
}
