//! Build tools and browsers the project needs, installed when missing —
//! always from crates.io or Debian packages, never as downloaded binaries.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, output, repo_root, run, step};

/// Rust targets the project builds for.
const TARGETS: [&str; 2] = ["wasm32-wasip2", "wasm32-unknown-unknown"];

/// Adds the rustup targets the project needs (a no-op when present).
pub fn ensure_targets() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    let missing: Vec<&str> = TARGETS
        .into_iter()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!("Adding Rust targets {}", missing.join(", ")));
    run(Command::new("rustup")
        .args(["target", "add"])
        .args(&missing))
}

/// The `wasm-bindgen` version pinned in `Cargo.lock`.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(repo_root().join("Cargo.lock"))
        .context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_string());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// Installs `wasm-bindgen-cli` (with `wasm-bindgen-test-runner`) at exactly
/// the locked version, from crates.io, unless it is already installed.
pub fn ensure_wasm_bindgen_cli() -> Result<()> {
    let version = locked_wasm_bindgen_version()?;
    let installed =
        output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if installed.split_whitespace().any(|word| word == version) {
        return Ok(());
    }
    step(&format!(
        "Installing wasm-bindgen-cli {version} from crates.io (once; takes several minutes)"
    ));
    // Its own lock file pins a crate the registry no longer has: no --locked.
    run(Command::new("cargo").args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--force",
    ]))
}

/// The browser engines the tests drive and their WebDriver servers: a file
/// each Debian package installs, and the package.
const BROWSER_PACKAGES: [(&str, &str); 5] = [
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
    ("/usr/bin/firefox-esr", "firefox-esr"),
    ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
    ("/usr/bin/Xvfb", "xvfb"),
];

/// geckodriver version, from crates.io (Debian does not package it).
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// Installs what the browser tests drive when missing: Chromium with
/// ChromeDriver, Firefox ESR, WebKitGTK's WebKitWebDriver and Xvfb from
/// Debian packages, and geckodriver from crates.io.
pub fn ensure_browsers() -> Result<()> {
    let missing: Vec<&str> = BROWSER_PACKAGES
        .into_iter()
        .filter(|(file, _)| !Path::new(file).exists())
        .map(|(_, package)| package)
        .collect();
    if !missing.is_empty() {
        let packages = missing.join(" ");
        step(&format!("Installing {packages} from Debian packages"));
        if !is_root() {
            bail!("browsers are missing: run `sudo apt-get install {packages}`");
        }
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let geckodriver = output(Command::new("geckodriver").arg("--version")).unwrap_or_default();
    if !geckodriver
        .split_whitespace()
        .any(|word| word == GECKODRIVER_VERSION)
    {
        step(&format!(
            "Installing geckodriver {GECKODRIVER_VERSION} from crates.io (once; a few minutes)"
        ));
        run(Command::new("cargo").args([
            "install",
            "geckodriver",
            "--locked",
            "--version",
            GECKODRIVER_VERSION,
        ]))?;
    }
    Ok(())
}

/// axe-core version the accessibility tests inject into pages (npm).
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// `axe.min.js` of npm `axe-core` at [`AXE_CORE_VERSION`], installed into
/// the tools cache (beside npm's binaryen) when missing. The browser tests
/// read it from the path `cargo xtask test` passes as `VROOM_AXE_JS`; no
/// test goes to the network.
pub fn ensure_axe_core() -> Result<std::path::PathBuf> {
    let dir = crate::site::tools_dir().join(format!("axe-core-{AXE_CORE_VERSION}"));
    let package = dir.join("node_modules").join("axe-core");
    let script = package.join("axe.min.js");
    let installed = std::fs::read_to_string(package.join("package.json")).unwrap_or_default();
    if script.exists() && installed.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")) {
        return Ok(script);
    }
    step(&format!(
        "Installing npm axe-core@{AXE_CORE_VERSION} into {}",
        dir.display()
    ));
    std::fs::create_dir_all(&dir)?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("axe-core@{AXE_CORE_VERSION}")))
    .context("npm (Node.js) is needed to install axe-core")?;
    if !script.exists() {
        bail!("npm installed axe-core without {}", script.display());
    }
    Ok(script)
}

/// The container tool the image tests build with: podman or docker,
/// whichever answers (`crate::image::find_tool`), else podman installed from
/// Debian's packages.
pub fn ensure_container_tool() -> Result<String> {
    if let Some(tool) = crate::image::find_tool() {
        return Ok(tool);
    }
    apt_install(
        "podman",
        "neither podman nor docker answers; the container image tests build with podman",
    )?;
    crate::image::find_tool().context("podman was installed but `podman info` fails")
}

/// Installs a Debian package (as root; else fails saying `why` and how).
pub fn apt_install(package: &str, why: &str) -> Result<()> {
    step(&format!(
        "Installing {package} from Debian packages ({why})"
    ));
    if !is_root() {
        bail!("{why}: run `sudo apt-get install {package}`");
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

/// Builds the Spin components for `wasm32-wasip2` (release), as `spin.toml` expects.
pub fn build_components() -> Result<()> {
    step("Building the Spin components (wasm32-wasip2, release)");
    run(cmd::cargo(&[
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "-p",
        "vroom-rooms-component",
        "-p",
        "vroom-static-component",
    ]))
}

/// Builds every native binary, test and example of the workspace (release):
/// the host `vroom`, the relay `edge-ws-bridge`, the bench and every test
/// binary. `up`, `bench` and `test` share this one build: with one package
/// selection, one profile and the dev-dependencies in (as `cargo test
/// --release --workspace` has them), dependencies resolve to the same
/// features, so wasmtime is compiled once and `cargo test` builds nothing
/// more. (`cargo test --no-run` alone would not build a package's binary
/// when no integration test of that package needs it, e.g. `vroom`.)
pub fn build_workspace() -> Result<()> {
    step(
        "Building the workspace: host `vroom`, relay, tests \
         (release; the first build compiles wasmtime, ~15 min on 2 cores)",
    );
    run(cmd::cargo(&[
        "build",
        "--release",
        "--workspace",
        "--bins",
        "--tests",
        "--examples",
    ]))
}

/// Installs what building needs and a fresh machine lacks: rustup targets,
/// trunk, wasm-opt and wasm-bindgen-cli.
pub fn ensure_build_tools() -> Result<()> {
    ensure_targets()?;
    crate::site::ensure_site_tools()?;
    ensure_wasm_bindgen_cli()
}

/// Builds everything that runs: the components, the workspace (host, relay,
/// tests), and the site.
pub fn build_all() -> Result<()> {
    ensure_build_tools()?;
    build_components()?;
    build_workspace()?;
    crate::site::build_site()
}
