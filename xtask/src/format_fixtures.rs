//! `cargo xtask format-fixtures`: writes the on-disk format fixtures of
//! this version (`allocdb_sim::format_fixture`) into `corpus/format/v1/`.
//! Only for a new fixture version: the test that compares them byte for
//! byte fails whenever the files here are not what this version writes.

use crate::error::Error;
use crate::process::workspace_root;
use allocdb_sim::format_fixture::{write_fixture, FIXTURE_DIR, FIXTURE_FILES};

pub fn run() -> Result<bool, Error> {
    let scratch = tempfile::tempdir().map_err(|source| Error::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    write_fixture(scratch.path())?;
    let into = workspace_root().join(FIXTURE_DIR);
    std::fs::create_dir_all(&into).map_err(|source| Error::Write {
        path: into.clone(),
        source,
    })?;
    for file in FIXTURE_FILES {
        let from = scratch.path().join(file.as_str());
        let to = into.join(file.as_str());
        std::fs::copy(&from, &to).map_err(|source| Error::Write {
            path: to.clone(),
            source,
        })?;
        outln!("wrote {FIXTURE_DIR}/{}", file.as_str());
    }
    Ok(true)
}
