//! One browser session and the steps tests take in it: find, click, type,
//! read, wait, screenshot, and the site's own flows (create, join, say, end).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;

use super::ENTER;
use super::app::App;
use super::engine::{Driver, Engine, Screen};
use crate::{TempDir, repo_root};

/// How long a test waits for something to appear in a page.
const PATIENCE: Duration = Duration::from_secs(40);

/// Clicks `arguments[0]` the way a tap would: scrolled into view, and only
/// if the element (or its content) is what is hit at its centre. Returns
/// `""`, or what covers the element.
const TAP: &str = "const e = arguments[0];
e.scrollIntoView({ block: 'center' });
const r = e.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
if (!hit || !(hit === e || e.contains(hit))) {
  return 'covered by ' + (hit ? hit.outerHTML.slice(0, 120) : 'nothing');
}
e.click();
return '';";

/// A fresh browser of `engine`, with its own WebDriver server and profile;
/// everything stops when it is dropped.
pub struct Browser {
    /// The WebDriver session, for what the helpers below do not cover.
    pub client: Client,
    engine: Engine,
    screen: Screen,
    _driver: Driver,
    profile: TempDir,
}

/// Opens one fresh browser per entry of `engines`, all at once.
pub async fn open<const N: usize>(engines: [Engine; N]) -> [Browser; N] {
    let browsers = futures_util::future::join_all(engines.map(Browser::open)).await;
    match browsers.try_into() {
        Ok(browsers) => browsers,
        Err(_) => unreachable!("join_all keeps the count"),
    }
}

impl Browser {
    /// Starts `engine`'s driver and a fresh headless desktop session in it.
    pub async fn open(engine: Engine) -> Self {
        Self::open_on(engine, Screen::Desktop).await
    }

    /// Starts `engine`'s driver and a fresh session on `screen`.
    pub async fn open_on(engine: Engine, screen: Screen) -> Self {
        Self::start(engine, screen, None).await
    }

    /// Starts `engine`'s driver and a fresh desktop session whose browser
    /// prefers `language` (a BCP 47 tag such as `de-DE`; Chromium and
    /// Firefox only, WebKit stays English).
    pub async fn open_in_language(engine: Engine, language: &str) -> Self {
        Self::start(engine, Screen::Desktop, Some(language)).await
    }

    async fn start(engine: Engine, screen: Screen, language: Option<&str>) -> Self {
        // A driver can be gone or unreachable by the time the session is
        // asked for (seen once: geckodriver refused the connection right
        // after its port answered): start a fresh one, twice at most.
        let mut attempt = 1;
        let (driver, profile, client) = loop {
            let driver = Driver::start(engine, screen).await;
            let profile = TempDir::new(&format!("vroom-{engine}"));
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(engine.capabilities(screen, profile.path(), language))
                .connect(&driver.url)
                .await
            {
                Ok(client) => break (driver, profile, client),
                Err(
                    e @ (fantoccini::error::NewSessionError::FailedC(_)
                    | fantoccini::error::NewSessionError::Failed(_)
                    | fantoccini::error::NewSessionError::Lost(_)),
                ) if attempt < 3 => {
                    eprintln!("{engine}: no session ({e}); starting its driver again");
                    attempt += 1;
                }
                Err(e) => panic!("a {engine} session: {e}"),
            }
        };
        let browser = Self {
            client,
            engine,
            screen,
            _driver: driver,
            profile,
        };
        match screen {
            Screen::Desktop => {
                let (width, height) = Screen::DESKTOP_WINDOW;
                browser
                    .client
                    .set_window_size(width, height)
                    .await
                    .expect("resize");
            }
            // Chromium's mobile emulation sets the phone's viewport itself.
            Screen::Phone if engine == Engine::Chromium => {}
            Screen::Phone => browser.fit_viewport(Screen::PHONE_VIEWPORT).await,
        }
        browser
    }

    /// Resizes the window until the page's viewport (`innerWidth` ×
    /// `innerHeight`, CSS pixels) is exactly `viewport`.
    pub async fn fit_viewport(&self, viewport: (u32, u32)) {
        let scale = i64::from(self.engine.window_scale(self.screen));
        for _ in 0..4 {
            let sizes = self
                .client
                .execute("return [innerWidth, innerHeight]", vec![])
                .await
                .expect("viewport size");
            let inner = (
                sizes[0].as_i64().unwrap_or(0),
                sizes[1].as_i64().unwrap_or(0),
            );
            let target = (i64::from(viewport.0), i64::from(viewport.1));
            if inner == target {
                return;
            }
            let (width, height) = self.client.get_window_size().await.expect("window size");
            let width = width as i64 + (target.0 - inner.0) * scale;
            let height = height as i64 + (target.1 - inner.1) * scale;
            self.client
                .set_window_size(width as u32, height as u32)
                .await
                .expect("resize");
        }
        panic!("{}: the viewport never became {viewport:?}", self.engine);
    }

    /// The engine this browser runs.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The address bar.
    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .to_string()
    }

    /// Waits for the first element matching `css`.
    pub async fn wait(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "{}: {css} never appeared: {e}; {}",
                self.engine,
                self.page_state().await
            ),
        }
    }

    /// What the page shows, for a failure message: its address (without
    /// the fragment) and the start of its visible text.
    pub async fn page_state(&self) -> String {
        let url = self.current_url().await;
        let url = url.split('#').next().unwrap_or_default();
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text: String = text.chars().take(600).collect();
        format!("page {url} shows {text:?}")
    }

    /// Whether an element matches `css` right now.
    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Clicks the element matching `css` once it appears.
    pub async fn click(&self, css: &str) {
        let element = self.wait(css).await;
        if self.engine.window_scale(self.screen) == 1 {
            element.click().await.expect("click");
            return;
        }
        // On the phone (its window drawn at twice the size) WebKitWebDriver's
        // click misses: the invite's Join button, uncovered, was never
        // clicked. The page clicks instead, after the hit test a tap would
        // do: nothing may cover the element's centre.
        let element = serde_json::to_value(&element).expect("element reference");
        let covered = self
            .client
            .execute(TAP, vec![element])
            .await
            .expect("click");
        assert_eq!(
            covered.as_str(),
            Some(""),
            "{}: {css} is covered on the phone",
            self.engine
        );
    }

    /// Clears the field matching `css` and types `text` (WebDriver key codes
    /// such as [`ENTER`] allowed).
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("typing");
    }

    /// The visible texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            if let Ok(t) = el.text().await {
                out.push(t);
            }
        }
        out
    }

    /// Waits until some element matching `css` contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            if self.texts(css).await.iter().any(|t| t.contains(text)) {
                return;
            }
            if started.elapsed() > PATIENCE {
                panic!(
                    "{}: no {css} ever contained {text:?}; saw {:?}; {}",
                    self.engine,
                    self.texts(css).await,
                    self.page_state().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `value` of the field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        self.wait(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    /// Runs `script` in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}", self.engine))
    }

    /// The id of the element that has the keyboard focus (`""` for none).
    pub async fn focused(&self) -> String {
        self.js("return document.activeElement ? document.activeElement.id : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Presses `keys` on the keyboard (WebDriver key codes such as
    /// [`TAB`](super::TAB) allowed; [`SHIFT`](super::SHIFT) goes down and
    /// comes up again at its next mention or at the end), wherever the page
    /// has the focus: WebDriver actions, as a keyboard, not typing into a
    /// chosen element.
    pub async fn press(&self, keys: &str) {
        let shift = '\u{e008}';
        let mut actions = KeyActions::new("keyboard".into());
        let mut shifted = false;
        for key in keys.chars() {
            if key == shift {
                actions = actions.then(if shifted {
                    KeyAction::Up { value: shift }
                } else {
                    KeyAction::Down { value: shift }
                });
                shifted = !shifted;
            } else {
                actions = actions
                    .then(KeyAction::Down { value: key })
                    .then(KeyAction::Up { value: key });
            }
        }
        if shifted {
            actions = actions.then(KeyAction::Up { value: shift });
        }
        self.client
            .perform_actions(actions)
            .await
            .unwrap_or_else(|e| panic!("{}: keys {keys:?}: {e}", self.engine));
    }

    /// Waits until the element with id `id` has the keyboard focus.
    pub async fn wait_focus(&self, id: &str) {
        let started = Instant::now();
        loop {
            let focused = self.focused().await;
            if focused == id {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{}: focus never reached #{id}; it is on {focused:?}",
                self.engine
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Presses `key` (Tab or Shift+Tab) until the element with id `id` has
    /// the keyboard focus, at most `limit` times.
    pub async fn tab_to(&self, key: &str, id: &str, limit: usize) {
        let mut path = Vec::new();
        for _ in 0..limit {
            self.press(key).await;
            let focused = self.focused().await;
            if focused == id {
                return;
            }
            path.push(focused);
        }
        panic!(
            "{}: {key:?} never reached #{id}; it went {path:?}",
            self.engine
        );
    }

    /// Emulates the CSS media feature `name: value` (e.g.
    /// `prefers-color-scheme: dark`) in Chromium; `value` `""` ends the
    /// emulation.
    pub async fn emulate_media(&self, name: &str, value: &str) {
        self.cdp(
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": [{ "name": name, "value": value }] }),
        )
        .await;
    }

    /// Runs a DevTools protocol command in Chromium (through chromedriver).
    pub async fn cdp(&self, cmd: &str, params: Value) {
        assert_eq!(self.engine, Engine::Chromium, "only Chromium speaks CDP");
        let command = Chromedriver {
            path: "goog/cdp/execute",
            body: serde_json::json!({ "cmd": cmd, "params": params }),
        };
        self.client
            .issue_cmd(command)
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }

    /// Gives the page a viewport of `viewport` CSS pixels: the window for
    /// Firefox and WebKit, the emulated device for Chromium's phone.
    pub async fn set_viewport(&self, viewport: (u32, u32)) {
        if self.engine == Engine::Chromium && self.screen == Screen::Phone {
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                serde_json::json!({
                    "width": viewport.0, "height": viewport.1,
                    "deviceScaleFactor": Screen::PHONE_SCALE, "mobile": true,
                }),
            )
            .await;
        } else {
            self.fit_viewport(viewport).await;
        }
    }

    /// Sends a chat message with Enter.
    pub async fn say(&self, text: &str) {
        self.type_into("#composer", &format!("{text}{ENTER}")).await;
    }

    /// The safety codes in the member list (read from the page, so also
    /// while a phone's people panel is closed), verified members only.
    async fn member_codes(&self) -> Vec<String> {
        let codes = self
            .js("return Array.from(document.querySelectorAll('#members li .code'), c => c.textContent)")
            .await;
        codes
            .as_array()
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(|c| c.as_str())
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until the member list shows `n` verified members (codes shown).
    pub async fn wait_members(&self, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let codes = self.member_codes().await;
            if codes.len() == n {
                return codes;
            }
            if started.elapsed() > PATIENCE {
                panic!(
                    "{}: expected {n} members with safety codes, saw {codes:?} in {:?}; \
                     the room said {:?}; {}",
                    self.engine,
                    self.texts("#members li").await,
                    self.texts(".line.system").await,
                    self.page_state().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// This member's own safety code.
    pub async fn my_code(&self) -> String {
        self.wait("#members li.me .code").await;
        self.js("return document.querySelector('#members li.me .code').textContent")
            .await
            .as_str()
            .expect("own code")
            .to_owned()
    }

    /// Saves a screenshot of a `width`×`height` viewport as
    /// `test-artifacts/browser/<engine>/<name>.png`, then gives the window
    /// its size back. Firefox and WebKit desktop windows cannot be narrower
    /// than 500 and 447 px: for a phone, open a [`Screen::Phone`] browser
    /// and use its own viewport, [`Screen::PHONE_VIEWPORT`].
    pub async fn screenshot(&self, name: &str, width: u32, height: u32) {
        let window = self.client.get_window_size().await.expect("window size");
        self.fit_viewport((width, height)).await;
        // Let the last change paint.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = artifacts(self.engine);
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
        let (width, height) = (window.0 as u32, window.1 as u32);
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize back");
    }

    /// Creates a quick room as `name` and returns its invite link.
    pub async fn create_quick_room(&self, app: &App, name: &str) -> String {
        self.goto(&app.url("/")).await;
        self.type_into("#display-name", name).await;
        self.click("#quick-create").await;
        let link = self.value("#invite-link").await;
        self.wait_text("#conn", "Connected").await;
        link
    }

    /// Opens an invite link, accepts the invitation under the name the page
    /// offers, and waits until connected.
    pub async fn join_by_link(&self, link: &str) {
        self.goto(link).await;
        self.click("#join-invite").await;
        self.wait_text("#conn", "Connected").await;
    }

    /// Fills the landing page's named-room form (create or join) and submits it.
    pub async fn named_form(&self, app: &App, name: &str, create: bool, pass: &str) {
        self.goto(&app.url("/")).await;
        let (n, p, go) = if create {
            ("#named-name", "#named-pass", "#named-create")
        } else {
            ("#join-name", "#join-pass", "#join-named-go")
        };
        self.type_into(n, name).await;
        self.type_into(p, pass).await;
        self.click(go).await;
    }

    /// Ends the room (creator only) and confirms.
    pub async fn end_room(&self) {
        self.click("#end-room").await;
        self.click("#confirm-yes").await;
    }

    /// Chromium's browser log so far: console messages, CSP violations,
    /// integrity failures. The other drivers have no log endpoint.
    pub async fn chromium_log(&self) -> Vec<Value> {
        assert_eq!(
            self.engine,
            Engine::Chromium,
            "only chromedriver keeps a log"
        );
        let command = Chromedriver {
            path: "se/log",
            body: serde_json::json!({ "type": "browser" }),
        };
        match self.client.issue_cmd(command).await {
            Ok(Value::Array(entries)) => entries,
            other => panic!("chromedriver browser log: {other:?}"),
        }
    }

    /// Chromium log entries so far that report a CSP violation or a refused load.
    pub async fn csp_violations(&self) -> Vec<String> {
        self.chromium_log()
            .await
            .iter()
            .filter_map(|e| e["message"].as_str())
            .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
            .map(str::to_owned)
            .collect()
    }

    /// Ends the session (the browser closes its windows and quits).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// The profile directory the browser uses.
    pub fn profile(&self) -> &Path {
        self.profile.path()
    }

    /// Ends the session and waits until Chromium has exited, so its profile
    /// on disk is complete (its `SingletonLock` is gone); the profile stays
    /// until the returned directory is dropped.
    pub async fn quit(self) -> TempDir {
        assert_eq!(
            self.engine,
            Engine::Chromium,
            "profiles are read for Chromium"
        );
        let _ = self.client.close().await;
        let lock = self.profile.path().join("SingletonLock");
        let started = Instant::now();
        while std::fs::symlink_metadata(&lock).is_ok() {
            assert!(started.elapsed() < PATIENCE, "Chromium did not exit");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.profile
    }
}

/// A chromedriver extension command: `POST session/<id>/<path>` with a
/// JSON body (the browser log, DevTools protocol commands).
#[derive(Debug)]
struct Chromedriver {
    path: &'static str,
    body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Chromedriver {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// `test-artifacts/browser/<engine>/`, created on first use.
fn artifacts(engine: Engine) -> PathBuf {
    let dir = repo_root()
        .join("test-artifacts/browser")
        .join(engine.name());
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}
