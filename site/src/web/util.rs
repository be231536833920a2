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

/// `h:mm:ss` or `m:ss` for a number of seconds.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m}:{s:02}")
    }
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

/// `Some(value)` of an element found by id, if it is an input or textarea.
pub fn focus(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}
