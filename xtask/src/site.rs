//! The web app (`site/`): its build tools and its release build.
//!
//! trunk builds the Leptos app into `site/dist` with the tools on `PATH` at
//! exact versions (wasm-bindgen-cli as locked, wasm-opt from npm's
//! `binaryen`, never Debian's binaryen 108, whose output fails in Chromium),
//! offline. Then [`build_site`] replaces trunk's inline loader, which the CSP
//! (`script-src 'self'`, no inline script) would block, with a module that
//! Subresource Integrity really pins: `index.html` loads it with
//! `integrity`, and it fetches the wasm with `fetch(url, { integrity })`
//! before instantiating it, so a changed byte in either is refused. The
//! Argon2id worker's script (wasm-bindgen's module plus
//! `site/argon2-worker.js`) is a string inside that pinned module, started
//! from a Blob URL; it runs the page's own verified wasm module.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, output, repo_root, run, step, target_dir};

/// trunk version (0.22 needs a newer rustc than 1.95).
pub const TRUNK_VERSION: &str = "0.21.14";
/// npm `binaryen` version providing `wasm-opt` (matches `Trunk.toml`).
pub const BINARYEN_VERSION: &str = "132.0.0";

/// Where tools from npm are installed: `$XDG_CACHE_HOME` or `~/.cache`,
/// under `vroom-tools/`.
pub fn tools_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| target_dir().join("tools"));
    cache.join("vroom-tools")
}

/// Where npm's binaryen is installed: [`tools_dir`]`/binaryen-<version>`.
pub fn binaryen_dir() -> PathBuf {
    tools_dir().join(format!("binaryen-{BINARYEN_VERSION}"))
}

/// The folder holding `wasm-opt` (a node script from npm's binaryen).
fn binaryen_bin() -> PathBuf {
    binaryen_dir().join("node_modules").join(".bin")
}

/// Installs trunk (from crates.io, `--locked`) and wasm-opt (npm
/// `binaryen`, into [`binaryen_dir`]) when missing or at another version.
pub fn ensure_site_tools() -> Result<()> {
    let trunk = output(Command::new("trunk").arg("--version")).unwrap_or_default();
    if !trunk.split_whitespace().any(|word| word == TRUNK_VERSION) {
        step(&format!(
            "Installing trunk {TRUNK_VERSION} from crates.io (once; takes about 16 minutes on 2 cores)"
        ));
        run(Command::new("cargo").args([
            "install",
            "trunk",
            "--locked",
            "--version",
            TRUNK_VERSION,
            // No TLS stack and no update check: the build is offline and
            // never downloads (a few minutes less to install).
            "--no-default-features",
        ]))?;
    }
    let major = BINARYEN_VERSION
        .split('.')
        .next()
        .unwrap_or(BINARYEN_VERSION);
    let wasm_opt =
        output(Command::new(binaryen_bin().join("wasm-opt")).arg("--version")).unwrap_or_default();
    if !wasm_opt.contains(&format!("version {major}")) {
        step(&format!(
            "Installing wasm-opt (npm binaryen@{BINARYEN_VERSION}) into {}",
            binaryen_dir().display()
        ));
        std::fs::create_dir_all(binaryen_dir())?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(binaryen_dir())
            .arg(format!("binaryen@{BINARYEN_VERSION}")))
        .context("npm (Node.js) is needed to install wasm-opt")?;
    }
    Ok(())
}

/// Builds the site in release into `site/dist` (trunk, offline, size
/// optimised: opt-level z, fat LTO, one codegen unit, panic=abort, wasm-opt
/// -Oz), pins its loader with Subresource Integrity, and writes a Brotli
/// variant `<file>.br` beside each text or wasm file for the static
/// component to serve to browsers that accept it.
pub fn build_site() -> Result<()> {
    step("Fetching crates for the site (trunk builds offline)");
    run(cmd::cargo(&["fetch"]))?;
    step("Building the site with trunk (release, wasm32-unknown-unknown) into site/dist");
    let site = repo_root().join("site");
    let dist = site.join("dist");
    let path = std::env::join_paths(
        std::iter::once(binaryen_bin()).chain(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        ),
    )?;
    run(Command::new("trunk")
        .args(["build", "--release", "--dist"])
        .arg(&dist)
        .current_dir(&site)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", target_dir())
        // Size profile for this build only; the workspace's release profile
        // (host, components) is left as it is.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "false"))?;
    step("Pinning the loader and the wasm with Subresource Integrity");
    pin_loader(&dist)?;
    step("Precompressing with Brotli (quality 11)");
    precompress(&dist)
}

/// Extensions worth compressing.
const COMPRESSIBLE: [&str; 7] = ["wasm", "js", "css", "html", "svg", "json", "txt"];

/// Writes `<file>.br` for every compressible file of `dist` where it is smaller.
fn precompress(dist: &Path) -> Result<()> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let compressible = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| COMPRESSIBLE.contains(&ext));
        if !compressible {
            continue;
        }
        let raw = std::fs::read(&path)?;
        let mut compressed = Vec::new();
        brotli::BrotliCompress(&mut raw.as_slice(), &mut compressed, &params)?;
        if compressed.len() < raw.len() {
            let mut name = path.file_name().unwrap_or_default().to_os_string();
            name.push(".br");
            eprintln!(
                "    {}: {} → {} bytes",
                path.file_name().unwrap_or_default().to_string_lossy(),
                raw.len(),
                compressed.len()
            );
            std::fs::write(path.with_file_name(name), compressed)?;
        }
    }
    Ok(())
}

/// Replaces trunk's inline loader in `dist/index.html` with
/// `<script type="module" src="/app-<hash>.js" integrity="sha384-…">`: the
/// wasm-bindgen module plus lines that make the Argon2id worker's Blob URL
/// (`vroomArgon2Worker`) and fetch the wasm with its integrity and
/// instantiate it.
pub fn pin_loader(dist: &Path) -> Result<()> {
    let mut js = None;
    let mut wasm = None;
    for entry in std::fs::read_dir(dist)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with("_bg.wasm") {
            wasm = Some(name);
        } else if name.ends_with(".js") && !name.starts_with("app-") {
            js = Some(name);
        } else if name.starts_with("app-") && name.ends_with(".js") {
            std::fs::remove_file(dist.join(&name))?;
        }
    }
    let (Some(js), Some(wasm)) = (js, wasm) else {
        bail!(
            "trunk's output in {} has no wasm-bindgen JS and wasm",
            dist.display()
        );
    };
    let wasm_integrity = sri(&std::fs::read(dist.join(&wasm))?)?;
    let mut module = std::fs::read_to_string(dist.join(&js))?;
    if !module.contains("__wbg_init") {
        bail!("{js} does not look like wasm-bindgen's web target output");
    }
    let worker_js = std::fs::read_to_string(repo_root().join("site/argon2-worker.js"))
        .context("cannot read site/argon2-worker.js")?;
    let worker = template_literal(&format!("{module}\n{worker_js}"));
    module.push_str(&format!(
        "\n// Added by `cargo xtask`: the Argon2id worker, pinned with this module.\n\
         globalThis.vroomArgon2Worker = URL.createObjectURL(\
         new Blob([{worker}], {{ type: \"text/javascript\" }}));\n\
         // Load the wasm only if its bytes are the ones built.\n\
         const vroomWasm = await fetch(new URL(\"./{wasm}\", import.meta.url), \
         {{ integrity: \"{wasm_integrity}\", credentials: \"same-origin\" }});\n\
         await __wbg_init({{ module_or_path: vroomWasm }});\n"
    ));
    let digest = sha384(module.as_bytes())?;
    let loader = format!("app-{}.js", hex(&digest[..8]));
    std::fs::write(dist.join(&loader), &module)?;
    std::fs::remove_file(dist.join(&js))?;
    let loader_integrity = format!("sha384-{}", base64(&digest));

    let html_path = dist.join("index.html");
    let html = std::fs::read_to_string(&html_path)?;
    let mut html = remove_elements(&html, "<script", "</script>", |_| true);
    html = remove_elements(&html, "<link", ">", |tag| {
        tag.contains("modulepreload") || tag.contains(".wasm")
    });
    let tag = format!(
        "<script type=\"module\" src=\"/{loader}\" integrity=\"{loader_integrity}\" crossorigin=\"anonymous\"></script>\n"
    );
    let Some(head_end) = html.find("</head>") else {
        bail!("index.html has no </head>");
    };
    html.insert_str(head_end, &tag);
    if html.matches("<script").count() != 1 {
        bail!("index.html still has an inline script");
    }
    std::fs::write(&html_path, html)?;
    eprintln!("    loader {loader} ({loader_integrity}), wasm {wasm} ({wasm_integrity})");
    Ok(())
}

/// `text` as a JavaScript template literal. Unlike a JSON string it keeps
/// line breaks and quotes as they are, so Brotli finds the worker's copy of
/// the module in the loader (about 0.5 KB instead of 2.4 KB compressed).
fn template_literal(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${");
    format!("`{escaped}`")
}

/// `html` without the elements from `start` to `end` (inclusive) for which `keep_out` holds.
fn remove_elements(html: &str, start: &str, end: &str, keep_out: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(start) {
        let Some(len) = rest[at..].find(end).map(|e| e + end.len()) else {
            break;
        };
        let element = &rest[at..at + len];
        out.push_str(&rest[..at]);
        if !keep_out(element) {
            out.push_str(element);
        }
        rest = &rest[at + len..];
        // Drop the line break after a removed element.
        if keep_out(element) {
            rest = rest.trim_start_matches(['\r', '\n']);
        }
    }
    out.push_str(rest);
    out
}

/// `sha384-<base64>` of `bytes`, as SRI wants it.
fn sri(bytes: &[u8]) -> Result<String> {
    Ok(format!("sha384-{}", base64(&sha384(bytes)?)))
}

/// SHA-384 with coreutils' `sha384sum` (or `shasum -a 384` on macOS).
fn sha384(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut last_error = None;
    for (program, args) in [("sha384sum", &[][..]), ("shasum", &["-a", "384"][..])] {
        let child = Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        child
            .stdin
            .take()
            .context("stdin is piped")?
            .write_all(bytes)?;
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let hex_digest = text.split_whitespace().next().unwrap_or_default();
        if out.status.success() && hex_digest.len() == 96 {
            return (0..96)
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex_digest[i..i + 2], 16).context("hex digest"))
                .collect();
        }
    }
    bail!("neither sha384sum nor shasum works: {last_error:?}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (what SRI uses).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn template_literals_escape_what_javascript_would_read() {
        assert_eq!(template_literal("a\nb \"c\""), "`a\nb \"c\"`");
        assert_eq!(template_literal("x\\n`${y}`"), "`x\\\\n\\`\\${y}\\``");
    }

    #[test]
    fn inline_scripts_and_wasm_preloads_are_removed() {
        let html = "<head>\n<link rel=\"stylesheet\" href=\"/s.css\">\n<link rel=\"modulepreload\" href=\"/a.js\">\n\
                    <link rel=\"preload\" href=\"/a_bg.wasm\" as=\"fetch\">\n<script type=\"module\">import x;</script>\n</head>";
        let out = remove_elements(html, "<script", "</script>", |_| true);
        let out = remove_elements(&out, "<link", ">", |t| {
            t.contains("modulepreload") || t.contains(".wasm")
        });
        assert_eq!(
            out,
            "<head>\n<link rel=\"stylesheet\" href=\"/s.css\">\n</head>"
        );
    }
}
