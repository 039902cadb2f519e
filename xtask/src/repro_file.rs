//! Writing scenario files (sweep repros, shrunk repros) without ever
//! replacing one: an existing name gets a numbered sibling.

use crate::error::Error;
use crate::process::workspace_root;
use allocdb_sim::driver::SelfTest;
use allocdb_sim::repro::{repro, repro_comments};
use allocdb_sim::run::SeedReport;
use allocdb_sim::scenario::{to_ron, Scenario};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A path as people should read it: relative to the workspace when inside.
pub fn shown(path: &Path) -> String {
    let root = workspace_root();
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where repros of failing runs go unless told otherwise: under the
/// build's `target/`, outside the tracked tree. A repro worth keeping is
/// shrunk into `corpus/` with `cargo xtask shrink FILE --into corpus/NAME.ron`.
pub fn default_repro_dir() -> PathBuf {
    workspace_root().join("target").join("repros")
}

fn write_error(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `scenario` as `dir/stem.ron`, or `dir/stem-2.ron`, ... if taken;
/// `comments` get the final path to name in replay commands.
pub fn write_scenario(
    dir: &Path,
    stem: &str,
    scenario: &Scenario,
    comments: impl FnOnce(&str) -> Vec<String>,
) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(dir).map_err(|source| write_error(dir, source))?;
    for attempt in 1u32.. {
        let name = if attempt == 1 {
            format!("{stem}.ron")
        } else {
            format!("{stem}-{attempt}.ron")
        };
        let path = dir.join(name);
        match create_new(&path) {
            Ok(file) => return fill(file, path, scenario, comments),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(write_error(&path, source)),
        }
    }
    unreachable!("some numbered name is free")
}

/// Writes `scenario` as exactly `path`, which must not exist yet: an
/// existing file is an error, never replaced.
pub fn write_scenario_at(
    path: &Path,
    scenario: &Scenario,
    comments: impl FnOnce(&str) -> Vec<String>,
) -> Result<PathBuf, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| write_error(dir, source))?;
    }
    let file = create_new(path).map_err(|source| write_error(path, source))?;
    fill(file, path.to_path_buf(), scenario, comments)
}

fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn fill(
    mut file: std::fs::File,
    path: PathBuf,
    scenario: &Scenario,
    comments: impl FnOnce(&str) -> Vec<String>,
) -> Result<PathBuf, Error> {
    let text = to_ron(scenario, &comments(&shown(&path)))
        .map_err(|error| write_error(&path, std::io::Error::other(error)))?;
    file.write_all(text.as_bytes())
        .map_err(|source| write_error(&path, source))?;
    Ok(path)
}

/// The repro of a failed seed (run `steps` steps per seed): its config
/// and its actions up to the failing one.
pub fn write_repro(
    dir: &Path,
    stem: &str,
    steps: u64,
    selftest: Option<SelfTest>,
    report: &SeedReport,
    failure: &str,
) -> Result<PathBuf, Error> {
    let scenario = repro(report.seed, selftest, &report.config, &report.actions);
    write_scenario(dir, stem, &scenario, |path| {
        repro_comments(report.seed, steps, failure, path)
    })
}
