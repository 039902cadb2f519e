//! `cargo xtask browser`: makes sure a Chromium is here for the test that
//! renders a run's report in a real browser (`xtask/tests/report_browser.rs`).
//! It looks where [`run`] says; when none is found and the machine has
//! `apt-get` (Debian, as CI's machines), it installs Debian's `chromium`.

use crate::error::Error;
use crate::process::Cmd;
use std::path::{Path, PathBuf};

/// Names a Chromium binary explicitly (tests and this task read it first).
pub const CHROMIUM_ENV: &str = "ALLOCDB_CHROMIUM";

/// Names Chromium goes by on `PATH`.
const NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The first of [`NAMES`] on `PATH`.
fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| NAMES.iter().map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Says which Chromium the browser test will use: `$ALLOCDB_CHROMIUM`
/// (which must be an executable file), else the first of [`NAMES`] on
/// `PATH`, else the one it installs.
pub fn run() -> Result<bool, Error> {
    if let Some(named) = std::env::var_os(CHROMIUM_ENV) {
        let named = PathBuf::from(named);
        if !is_executable(&named) {
            return Err(Error::Usage(format!(
                "{CHROMIUM_ENV} names {}, which is not an executable file",
                named.display()
            )));
        }
        outln!("browser: {}", named.display());
        return Ok(true);
    }
    if let Some(found) = on_path() {
        outln!("browser: {}", found.display());
        return Ok(true);
    }
    if !Cmd::program("apt-get", &["--version"]).succeeds_quietly() {
        return Err(Error::Usage(format!(
            "no Chromium found (looked for ${CHROMIUM_ENV}, then {} on PATH) and no apt-get to \
             install one: install Chromium and set {CHROMIUM_ENV} to it",
            NAMES.join(", ")
        )));
    }
    outln!("browser: no Chromium found; installing Debian's chromium with apt-get");
    Cmd::program("apt-get", &["update", "-qq"]).run()?;
    Cmd::program(
        "apt-get",
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
        ],
    )
    .with_env("DEBIAN_FRONTEND", "noninteractive")
    .run()?;
    match on_path() {
        Some(found) => {
            outln!("browser: {}", found.display());
            Ok(true)
        }
        None => Err(Error::Usage(
            "apt-get installed chromium, but no Chromium is on PATH".to_string(),
        )),
    }
}
