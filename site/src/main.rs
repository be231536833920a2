//! The Vroom web app (Leptos CSR). Build it with trunk for
//! `wasm32-unknown-unknown` (`cargo xtask up` does); natively this binary
//! only says so.

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
fn main() {
    // The Argon2id worker runs this same module without a page (web/derive.rs).
    if web_sys::window().is_none() {
        return;
    }
    // Before anything renders: the invite secret leaves the address bar.
    web::room::take_link_from_address_bar();
    web::util::track_visual_viewport();
    leptos::mount::mount_to_body(web::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "vroom-site runs in a browser: build it with `cargo xtask up` (trunk, wasm32-unknown-unknown)"
    );
}
