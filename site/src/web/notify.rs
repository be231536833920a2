//! Desktop notifications and a short sound for messages that arrive while
//! the tab is hidden. Both are opt-in: permission is asked only when the
//! person switches notifications on (a click, as browsers require), and the
//! sound's audio context is started by the click that switches it on.

use std::cell::RefCell;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

use super::util::window;

/// Whether the page may show notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Allowed.
    Granted,
    /// Refused (by the person or the browser).
    Denied,
    /// Not asked yet.
    Ask,
    /// This browser has no notifications.
    Unsupported,
}

fn supported() -> bool {
    js_sys::Reflect::has(&window(), &JsValue::from_str("Notification")).unwrap_or(false)
}

fn parse(text: &str) -> Permission {
    match text {
        "granted" => Permission::Granted,
        "denied" => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// The current permission.
pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => Permission::Granted,
        web_sys::NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks for permission (call from a click) and returns the answer.
pub async fn ask() -> Permission {
    match permission() {
        Permission::Ask => {}
        other => return other,
    }
    let Ok(promise) = web_sys::Notification::request_permission() else {
        return Permission::Denied;
    };
    match wasm_bindgen_futures::JsFuture::from(promise).await {
        Ok(answer) => parse(&answer.as_string().unwrap_or_default()),
        Err(_) => Permission::Denied,
    }
}

/// Shows a notification that replaces the page's previous one; clicking it
/// brings the tab forward.
pub fn show(title: &str, body: &str) {
    if permission() != Permission::Granted {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag("vroom");
    if let Ok(notification) = web_sys::Notification::new_with_options(title, &options) {
        let on_click = Closure::once_into_js(|| {
            let _ = window().focus();
        });
        notification.set_onclick(Some(on_click.unchecked_ref()));
    }
}

thread_local! {
    static AUDIO: RefCell<Option<web_sys::AudioContext>> = const { RefCell::new(None) };
}

/// Starts the audio context (call from the click that switches the sound on:
/// browsers keep a context made without a gesture silent).
pub fn prime_sound() {
    AUDIO.with(|audio| {
        let mut audio = audio.borrow_mut();
        if audio.is_none() {
            *audio = web_sys::AudioContext::new().ok();
        }
        if let Some(context) = audio.as_ref() {
            let _ = context.resume();
        }
    });
}

/// A short, quiet two-tone chime (about 0.25 s), if the sound was primed.
pub fn chime() {
    AUDIO.with(|audio| {
        if let Some(context) = audio.borrow().as_ref() {
            let _ = tone(context, 880.0, 0.0).and_then(|()| tone(context, 1320.0, 0.12));
        }
    });
}

fn tone(context: &web_sys::AudioContext, hz: f32, delay: f64) -> Result<(), JsValue> {
    let start = context.current_time() + delay;
    let oscillator = context.create_oscillator()?;
    oscillator.frequency().set_value(hz);
    let gain = context.create_gain()?;
    gain.gain().set_value_at_time(0.08, start)?;
    gain.gain()
        .exponential_ramp_to_value_at_time(0.001, start + 0.12)?;
    oscillator.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&context.destination())?;
    oscillator.start_with_when(start)?;
    oscillator.stop_with_when(start + 0.13)?;
    Ok(())
}
