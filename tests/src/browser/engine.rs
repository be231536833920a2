//! The three browser engines and how each is driven: its WebDriver server,
//! started per browser in a process group of its own (so the browser it
//! launches dies with it), and the capabilities of a fresh headless session.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::free_port;

/// A browser engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Debian's `chromium` with `chromedriver`.
    Chromium,
    /// Debian's `firefox-esr` with `geckodriver` from crates.io.
    Firefox,
    /// Debian's WebKitGTK MiniBrowser with `WebKitWebDriver`, under Xvfb.
    WebKit,
}

/// What a browser window stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// A 1280×900 desktop window.
    Desktop,
    /// A phone: a 390×844 CSS-pixel viewport; Chromium emulates a phone
    /// with two device pixels per CSS pixel and touch, WebKit zooms its
    /// page by two (its window cannot be narrower than 447 px), Firefox
    /// draws at scale 1.
    Phone,
}

impl Screen {
    /// The window size a desktop session starts with.
    pub(super) const DESKTOP_WINDOW: (u32, u32) = (1280, 900);
    /// The phone's viewport in CSS pixels.
    pub const PHONE_VIEWPORT: (u32, u32) = (390, 844);
    /// Device pixels per CSS pixel on Chromium's and WebKit's phone.
    pub(super) const PHONE_SCALE: u32 = 2;
}

/// Firefox window styles that let a window be as narrow as a phone.
const FIREFOX_NARROW_CHROME: &str = "#main-window, :root, toolbar, #nav-bar, #urlbar-container, #urlbar { min-width: 0 !important; }";

/// Xvfb's screen: room for a desktop window and a scaled phone window.
const XVFB_SCREEN: &str = "1600x1800x24";

impl Engine {
    /// Every engine, in the order tests run them.
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    /// Lower-case name, used in test names and artifact folders.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    /// The WebDriver server and the package that brings it.
    fn driver_program(self) -> (&'static str, &'static str) {
        match self {
            Engine::Chromium => ("/usr/bin/chromedriver", "apt-get install chromium-driver"),
            Engine::Firefox => (
                "geckodriver",
                "apt-get install firefox-esr; cargo install geckodriver",
            ),
            Engine::WebKit => (
                "/usr/bin/WebKitWebDriver",
                "apt-get install webkit2gtk-driver",
            ),
        }
    }

    /// Device pixels per CSS pixel that the window size is given in: the
    /// factor [`Browser::fit_viewport`](super::Browser::fit_viewport) scales
    /// viewport differences by. Only WebKit's phone scales its window.
    pub(super) fn window_scale(self, screen: Screen) -> u32 {
        match (self, screen) {
            (Engine::WebKit, Screen::Phone) => Screen::PHONE_SCALE,
            _ => 1,
        }
    }

    /// Capabilities of a fresh headless session on `screen`; `profile` is
    /// an empty directory the session may use (Firefox's phone gets its
    /// window styles written there); `language` the browser's preferred
    /// language (`navigator.languages`) when not its default, English
    /// (Chromium and Firefox: WebKitGTK's MiniBrowser under its driver
    /// stays English even with the locale variables set).
    pub(super) fn capabilities(
        self,
        screen: Screen,
        profile: &Path,
        language: Option<&str>,
    ) -> Map<String, Value> {
        let (width, height) = Screen::DESKTOP_WINDOW;
        let mut caps = match self {
            Engine::Chromium => json!({
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        format!("--window-size={width},{height}"),
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }),
            Engine::Firefox => json!({
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": "/usr/bin/firefox-esr",
                    "args": [
                        "-headless", "-no-remote",
                        "-profile", profile.display().to_string(),
                        format!("--width={width}"), format!("--height={height}"),
                    ],
                    "prefs": {
                        "app.update.auto": false,
                        "browser.shell.checkDefaultBrowser": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                        "network.captive-portal-service.enabled": false,
                        "network.connectivity-service.enabled": false,
                        "toolkit.telemetry.reportingpolicy.firstRun": false,
                    }
                }
            }),
            Engine::WebKit => json!({
                "browserName": "MiniBrowser",
                "webkitgtk:browserOptions": { "args": ["--automation"] }
            }),
        };
        if let Some(language) = language {
            match self {
                Engine::Chromium => {
                    let options = &mut caps["goog:chromeOptions"];
                    options["prefs"] = json!({ "intl": { "accept_languages": language } });
                    if let Some(args) = options["args"].as_array_mut() {
                        args.push(json!(format!("--lang={language}")));
                    }
                }
                Engine::Firefox => {
                    caps["moz:firefoxOptions"]["prefs"]["intl.accept_languages"] = json!(language);
                }
                Engine::WebKit => {}
            }
        }
        if screen == Screen::Phone {
            let (width, height) = Screen::PHONE_VIEWPORT;
            match self {
                Engine::Chromium => {
                    caps["goog:chromeOptions"]["mobileEmulation"] = json!({ "deviceMetrics": {
                        "width": width, "height": height,
                        "pixelRatio": Screen::PHONE_SCALE, "touch": true,
                    }});
                }
                // Headless Firefox ignores `layout.css.devPixelsPerPx`; at
                // scale 1 its window may be as narrow as a phone once its
                // toolbars stop asking for 500 px.
                Engine::Firefox => {
                    caps["moz:firefoxOptions"]["prefs"]["toolkit.legacyUserProfileCustomizations.stylesheets"] =
                        json!(true);
                    let chrome = profile.join("chrome");
                    std::fs::create_dir_all(&chrome).expect("profile chrome folder");
                    std::fs::write(chrome.join("userChrome.css"), FIREFOX_NARROW_CHROME)
                        .expect("userChrome.css");
                }
                // Scaled by its driver's environment (see `Driver::start`).
                Engine::WebKit => {}
            }
        }
        let Value::Object(caps) = caps else {
            unreachable!("capabilities are an object")
        };
        caps
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A process and every process it starts (its own process group), killed
/// together when dropped.
struct Group(Child);

impl Group {
    fn spawn(command: &mut Command, what: &str) -> Self {
        let child = command
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
        Self(child)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A WebDriver server for one session (with its Xvfb display for WebKit),
/// stopped with the browser it launched when dropped.
pub(super) struct Driver {
    _server: Group,
    _display: Option<Group>,
    /// `http://127.0.0.1:port`.
    pub url: String,
}

impl Driver {
    /// Starts `engine`'s WebDriver server for a session on `screen`, on a
    /// free port, and waits until it listens.
    pub async fn start(engine: Engine, screen: Screen) -> Self {
        let (program, install) = engine.driver_program();
        let port = free_port();
        let mut command = Command::new(program);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let mut display = None;
        match engine {
            Engine::Chromium => {
                command.arg(format!("--port={port}"));
            }
            Engine::Firefox => {
                command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
                command.args(["--websocket-port", &free_port().to_string()]);
            }
            Engine::WebKit => {
                let (xvfb, number) = start_xvfb().await;
                display = Some(xvfb);
                command.args([format!("--port={port}"), "--host=127.0.0.1".into()]);
                command.env("DISPLAY", format!(":{number}"));
                // WebKitGTK zooms pages by GTK's DPI scale.
                let scale = engine.window_scale(screen);
                command.env("GDK_DPI_SCALE", scale.to_string());
            }
        }
        let server = Group::spawn(&mut command, &format!("{program} ({install})"));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{program} does not listen on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            _server: server,
            _display: display,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

/// Starts Xvfb on the first free display; returns it and the display number.
async fn start_xvfb() -> (Group, u32) {
    let mut xvfb = Group::spawn(
        Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                XVFB_SCREEN,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
        "Xvfb (apt-get install xvfb)",
    );
    let stdout = xvfb.0.stdout.take().expect("stdout is piped");
    let line = tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("Xvfb reports its display within 20 s")
    .expect("Xvfb stdout")
    .expect("a display number");
    let number = line.trim().parse().expect("a display number");
    (xvfb, number)
}
