//! Writing scenario files (sweep repros, shrunk repros) without ever
//! replacing one: an existing name gets a numbered sibling.

use crate::error::Error;
use crate::process::workspace_root;
use allocdb_sim::action::Action;
use allocdb_sim::driver::SelfTest;
use allocdb_sim::repro::{repro, repro_comments};
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

/// Writes `scenario` as `dir/stem.ron`, or `dir/stem-2.ron`, ... if taken;
/// `comments` get the final path to name in replay commands.
pub fn write_scenario(
    dir: &Path,
    stem: &str,
    scenario: &Scenario,
    comments: impl FnOnce(&str) -> Vec<String>,
) -> Result<PathBuf, Error> {
    let write = |path: &Path, source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| write(dir, source))?;
    for attempt in 1u32.. {
        let name = if attempt == 1 {
            format!("{stem}.ron")
        } else {
            format!("{stem}-{attempt}.ron")
        };
        let path = dir.join(name);
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(write(&path, source)),
        };
        let text = to_ron(scenario, &comments(&shown(&path))).map_err(|error| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(error),
        })?;
        file.write_all(text.as_bytes())
            .map_err(|source| write(&path, source))?;
        return Ok(path);
    }
    unreachable!("some numbered name is free")
}

/// The repro of a failed seed: its actions up to the failing one.
pub fn write_repro(
    dir: &Path,
    stem: &str,
    seed: u64,
    steps: u64,
    selftest: Option<SelfTest>,
    actions: &[Action],
    failure: &str,
) -> Result<PathBuf, Error> {
    let scenario = repro(seed, selftest, actions);
    write_scenario(dir, stem, &scenario, |path| {
        repro_comments(seed, steps, failure, path)
    })
}
