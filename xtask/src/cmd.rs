//! Running commands and saying what each step does.

use std::borrow::BorrowMut;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The target directory every build of the project uses: `<root>/target`,
/// because `spin.toml` names the components by their path in it.
pub fn target_dir() -> PathBuf {
    repo_root().join("target")
}

/// Prints a step heading with the time since this command started, so a
/// CI log shows where its minutes went.
pub fn step(what: &str) {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs();
    eprintln!("\n==> [{:02}:{:02}] {what}", elapsed / 60, elapsed % 60);
}

/// A `cargo` command run from the repository root, building into [`target_dir`].
pub fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .args(args)
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", target_dir());
    command
}

/// Runs `command` to completion, echoing it and timing it; fails on a non-zero exit.
pub fn run(mut command: impl BorrowMut<Command>) -> Result<()> {
    let command = command.borrow_mut();
    let shown = show(command);
    eprintln!("    $ {shown}");
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    eprintln!("    ok in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs `command` and returns its standard output, or `None` if it cannot run or fails.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn show(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh `rate_key_secret` for a host this run starts: 32 random bytes as
/// hex. Each run gets its own, so its rate counters (the global budget
/// included) are its own even on a shared Redis.
pub fn rate_key_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
