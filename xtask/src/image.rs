//! `cargo xtask image`: the container images of `deploy/containers/`, built
//! with podman or docker from what this repository builds — no base image is
//! pulled. Each image's build context is staged under `target/images/<name>`:
//!
//! - `relay`: the relay as a static `x86_64-unknown-linux-musl` binary and
//!   the build machine's public CA bundle;
//! - `http`: `rootfs/`, the root file system of the HTTP image — the release
//!   `vroom` host with exactly the shared libraries `ldd` lists for it, at
//!   their paths, and under `/app` the `spin.toml` with every file it names
//!   (the components, `site/dist`) at the same relative paths.
//!
//! `cargo xtask test` stages the contexts and `tests/tests/images.rs` builds
//! the images from them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, output, repo_root, run, step, target_dir};

/// The Rust target of the relay's static binary.
const RELAY_TARGET: &str = "x86_64-unknown-linux-musl";

/// The images: name (`localhost/vroom-<name>`, `target/images/<name>`) and
/// Containerfile.
const IMAGES: [(&str, &str); 2] = [
    ("relay", "deploy/containers/relay.Containerfile"),
    ("http", "deploy/containers/http.Containerfile"),
];

/// The C compiler cc-rs looks for when building C code for [`RELAY_TARGET`]
/// (Debian's `musl-tools`).
const MUSL_GCC: &str = "x86_64-linux-musl-gcc";

/// Where `vroom` lives in the HTTP image, with `spin.toml` beside it.
const APP_DIR: &str = "app";

/// Public CA bundle copied into the relay image (Debian's `ca-certificates`).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// `cargo xtask image` options.
#[derive(clap::Args)]
pub struct ImageArgs {
    /// Tag of both images: `localhost/vroom-relay:TAG`, `localhost/vroom-http:TAG`.
    #[arg(long, default_value = "dev")]
    tag: String,
    /// `podman` or `docker` (default: whichever answers, podman first).
    #[arg(long, env = "VROOM_CONTAINER_TOOL")]
    tool: Option<String>,
}

/// Builds everything the images hold, stages their contexts and builds both
/// images, then prints their sizes.
pub fn run_image(args: ImageArgs) -> Result<()> {
    let tool = match args.tool {
        Some(tool) => tool,
        None => find_tool().context(
            "neither podman nor docker answers: install one \
             (`apt-get install podman`) or start docker's daemon",
        )?,
    };
    crate::tools::build_all()?;
    let contexts = stage()?;
    for (name, containerfile) in IMAGES {
        let tag = format!("localhost/vroom-{name}:{}", args.tag);
        step(&format!("Building the image {tag} with {tool}"));
        let mut build = Command::new(&tool);
        build.arg("build");
        if tool.ends_with("podman") {
            // Docker's format keeps HEALTHCHECK, which the OCI format drops;
            // no intermediate images (each is one COPY of fresh files).
            build.args(["--format", "docker", "--layers=false"]);
        }
        run(build
            .arg("-f")
            .arg(repo_root().join(containerfile))
            .args(["-t", &tag])
            .arg(contexts.join(name)))?;
        let size =
            output(Command::new(&tool).args(["image", "inspect", "--format", "{{.Size}}", &tag]))
                .unwrap_or_default();
        let megabytes = size.trim().parse::<f64>().unwrap_or(0.0) / 1e6;
        eprintln!("    {tag}: {megabytes:.2} MB");
    }
    Ok(())
}

/// The first of podman and docker whose `info` answers.
pub fn find_tool() -> Option<String> {
    ["podman", "docker"]
        .into_iter()
        .find(|tool| output(Command::new(tool).arg("info")).is_some())
        .map(str::to_string)
}

/// Builds the relay's static binary and stages both build contexts under
/// `target/images`, which it returns. Needs the release `vroom`, the
/// components and `site/dist` built (`tools::build_all`).
pub fn stage() -> Result<PathBuf> {
    let images = target_dir().join("images");
    build_static_relay()?;
    step("Staging the images' build contexts in target/images");
    let relay = fresh_dir(&images.join("relay"))?;
    copy_file(
        &target_dir()
            .join(RELAY_TARGET)
            .join("release/edge-ws-bridge"),
        &relay.join("edge-ws-bridge"),
    )?;
    copy_file(Path::new(CA_BUNDLE), &relay.join("ca-certificates.crt")).with_context(|| {
        format!("the relay image carries {CA_BUNDLE}: `apt-get install ca-certificates`")
    })?;

    let rootfs = fresh_dir(&images.join("http"))?.join("rootfs");
    let app = rootfs.join(APP_DIR);
    let vroom = target_dir().join("release/vroom");
    copy_file(&vroom, &app.join("vroom"))?;
    for library in shared_libraries(&vroom)? {
        copy_file(&library, &rootfs.join(library.strip_prefix("/")?))?;
    }
    copy_file(&repo_root().join("spin.toml"), &app.join("spin.toml"))?;
    for source in manifest_sources()? {
        let from = repo_root().join(&source);
        if from.is_dir() {
            copy_dir(&from, &app.join(&source))?;
        } else {
            copy_file(&from, &app.join(&source))?;
        }
    }
    Ok(images)
}

/// `cargo build --release --target x86_64-unknown-linux-musl -p edge-ws-bridge`,
/// adding the rustup target and musl's C compiler first if needed.
fn build_static_relay() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|line| line.trim() == RELAY_TARGET) {
        step(&format!("Adding the Rust target {RELAY_TARGET}"));
        run(Command::new("rustup").args(["target", "add", RELAY_TARGET]))?;
    }
    // Crates with C code (ring, under rustls) compile it with musl's gcc
    // wrapper for this target.
    if output(Command::new(MUSL_GCC).arg("--version")).is_none() {
        crate::tools::apt_install("musl-tools", "the relay's static build needs musl-gcc")?;
    }
    step("Building the relay as a static binary (x86_64-unknown-linux-musl, release)");
    run(cmd::cargo(&[
        "build",
        "--release",
        "--target",
        RELAY_TARGET,
        "-p",
        "edge-ws-bridge",
        "--bin",
        "edge-ws-bridge",
    ]))
}

/// The shared libraries and the program interpreter `ldd` lists for
/// `binary`, as absolute paths; fails on a library `ldd` cannot find.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let listing = output(Command::new("ldd").arg(binary))
        .with_context(|| format!("`ldd {}` failed", binary.display()))?;
    parse_ldd(&listing)
}

/// Paths out of `ldd` output: `name => /path (0x…)` and `/path (0x…)` lines;
/// the vDSO (no path) is skipped.
fn parse_ldd(listing: &str) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for line in listing.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let target = line
            .split_once("=>")
            .map_or(line, |(_, target)| target.trim());
        if target.starts_with("not found") {
            bail!("ldd cannot find a library: {line}");
        }
        match target.split_whitespace().next() {
            Some(path) if path.starts_with('/') => paths.push(PathBuf::from(path)),
            _ => {}
        }
    }
    if paths.is_empty() {
        bail!("ldd listed no library (is the binary static?):\n{listing}");
    }
    Ok(paths)
}

/// Every path `spin.toml` names relative to itself: each component's
/// `source` and each `files` entry's `source`.
fn manifest_sources() -> Result<Vec<String>> {
    let text = std::fs::read_to_string(repo_root().join("spin.toml"))?;
    let manifest: toml::Table = toml::from_str(&text).context("spin.toml is not TOML")?;
    let mut sources = Vec::new();
    let components = manifest
        .get("component")
        .and_then(toml::Value::as_table)
        .context("spin.toml has no [component.*]")?;
    for component in components.values() {
        if let Some(source) = component.get("source").and_then(toml::Value::as_str) {
            sources.push(source.to_string());
        }
        for file in component
            .get("files")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            match file {
                toml::Value::String(path) => sources.push(path.clone()),
                toml::Value::Table(mount) => {
                    if let Some(source) = mount.get("source").and_then(toml::Value::as_str) {
                        sources.push(source.to_string());
                    }
                }
                _ => bail!("spin.toml: a files entry is neither a path nor a table"),
            }
        }
    }
    Ok(sources)
}

/// `dir`, emptied (created if missing).
fn fresh_dir(dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(dir.to_path_buf())
}

/// Copies a file's content (following symlinks) and mode, creating parents.
fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Copies a directory tree's files.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            copy_file(&path, &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_libraries_and_the_interpreter() {
        let listing = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f1)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n";
        assert_eq!(
            parse_ldd(listing).unwrap(),
            [
                "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn a_missing_library_or_a_static_binary_is_an_error() {
        assert!(parse_ldd("\tlibfoo.so.1 => not found\n").is_err());
        assert!(parse_ldd("\tstatically linked\n").is_err());
    }

    #[test]
    fn spin_toml_names_the_components_and_the_site() {
        let sources = manifest_sources().unwrap();
        assert!(
            sources
                .iter()
                .any(|s| s.ends_with("vroom_rooms_component.wasm"))
        );
        assert!(
            sources
                .iter()
                .any(|s| s.ends_with("vroom_static_component.wasm"))
        );
        assert!(sources.contains(&"site/dist".to_string()));
    }
}
