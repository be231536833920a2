//! The site end to end in real browsers of every engine: the real host
//! serving `site/dist` and the rooms component, two real relay nodes behind
//! a round-robin front that records what it carries, and the real Redis.
//!
//! A browser test file is `harness = false` and its `main` is a [`Suite`]:
//! each test runs once per [`Engine`] (named `test::engine`, so
//! `cargo test --test browser firefox` runs Firefox only), all of them
//! against one [`App`] started on first use. A test opens [`Browser`]s, each
//! with its own WebDriver server (chromedriver, geckodriver, or
//! WebKitWebDriver under its own Xvfb display).
//!
//! Needs `site/dist`, the host and relay binaries (built by `cargo xtask
//! test`) and the engines xtask installs. Screenshots go to
//! `test-artifacts/browser/<engine>/`.

mod a11y;
mod app;
mod engine;
mod session;
mod suite;

pub use a11y::{Violation, axe_violations};
pub use app::App;
pub use engine::{Engine, Screen};
pub use session::{Browser, open};
pub use suite::{Ctx, Suite};

/// The `ENTER` key, for [`Browser::type_into`].
pub const ENTER: &str = "\u{e007}";
/// The `SHIFT` key (pressed until sent again), for [`Browser::type_into`].
pub const SHIFT: &str = "\u{e008}";
/// The `TAB` key, for [`Browser::press`].
pub const TAB: &str = "\u{e004}";
/// The `ESCAPE` key, for [`Browser::press`].
pub const ESCAPE: &str = "\u{e00c}";

/// `site/dist`, what the tests serve.
pub fn dist() -> std::path::PathBuf {
    crate::repo_root().join("site/dist")
}

/// The room id in an invite link `…/r/<room>#<secret>`.
pub fn room_of(link: &str) -> String {
    link.rsplit("/r/")
        .next()
        .and_then(|r| r.split('#').next())
        .expect("room id in link")
        .to_owned()
}

/// Waits until room `room` has no key left in Redis.
pub async fn wait_no_keys(room: &str) {
    let started = std::time::Instant::now();
    loop {
        let keys = crate::room_keys(room).await;
        if keys.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "keys remain: {keys:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
