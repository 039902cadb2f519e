//! Every scenario in `scenarios/` and every repro in `corpus/` is a test:
//! it must load, run with all its expectations holding, and produce the
//! transcript pinned by its insta snapshot (`cargo insta review` shows the
//! diff when behaviour changes). The snapshots live in this package
//! (`sim/tests/snapshots/{scenarios,corpus}/`), where cargo-insta looks for
//! them; their names are the files' paths with `/` as `__`.
//!
//! No environment makes them pass having checked nothing: each asserts it
//! checked at least one file, every file when `INSTA_GLOB_FILTER` is unset,
//! and that `INSTA_FORCE_PASS` is unset; `cargo xtask ci` runs the tests
//! with both removed and `INSTA_UPDATE=no`.

use allocdb_sim::scenario::{parse, run_scenario};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace exists")
}

/// The snapshot name: the file's path under its folder, `/` as `__`, so
/// names stay put whatever other files exist.
fn snapshot_name(path: &Path, folder: &str) -> String {
    let relative = path
        .strip_prefix(workspace().join(folder))
        .expect("globbed under the folder")
        .with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("__")
}

/// Loads and runs one file; asserts its snapshot when it ran clean.
/// Returns the failure text, so that one bad file does not hide the rest.
fn check(path: &Path, folder: &str) -> Result<(), String> {
    let path = &path.canonicalize().expect("globbed files exist");
    let shown = path.strip_prefix(workspace()).unwrap_or(path);
    let text = std::fs::read_to_string(path).expect("globbed files are readable");
    let scenario = parse(&text, &shown.display().to_string()).map_err(|e| e.to_string())?;
    let run = run_scenario(&scenario);
    if let Err(failure) = run.result {
        return Err(format!(
            "{}: {failure}\n--- transcript so far ---\n{}",
            shown.display(),
            run.transcript
        ));
    }
    let mut settings = insta::Settings::clone_current();
    settings.remove_snapshot_suffix();
    settings.bind(|| insta::assert_snapshot!(snapshot_name(path, folder), run.transcript));
    Ok(())
}

/// Every `.ron` file under `folder`, found without insta, to count the
/// glob against.
fn ron_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("the folder is readable")
        .map(|entry| entry.expect("its entries are readable").path())
        .map(|path| {
            if path.is_dir() {
                ron_files(&path)
            } else {
                usize::from(path.extension().is_some_and(|e| e == "ron"))
            }
        })
        .sum()
}

fn check_all(folder: &str, glob: impl FnOnce(&mut dyn FnMut(&Path))) {
    let mut failures = Vec::new();
    let mut checked = 0;
    glob(&mut |path| {
        checked += 1;
        if let Err(failure) = check(path, folder) {
            // Printed now as well: insta's glob panics on snapshot
            // mismatches before the list below is asserted.
            eprintln!("{failure}\n");
            failures.push(failure);
        }
    });
    assert!(
        failures.is_empty(),
        "{} file(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // A filter in the environment must not make this pass having checked
    // nothing, and without one every file is checked.
    assert!(checked > 0, "no file of {folder}/ was checked");
    if std::env::var_os("INSTA_GLOB_FILTER").is_none() {
        let all = ron_files(&workspace().join(folder));
        assert_eq!(
            checked, all,
            "{checked} of the {all} files of {folder}/ checked"
        );
    }
    assert!(
        std::env::var("INSTA_FORCE_PASS").is_err_and(|e| e == std::env::VarError::NotPresent),
        "INSTA_FORCE_PASS is set: snapshot mismatches would pass"
    );
}

#[test]
fn scenarios() {
    insta::with_settings!({
        snapshot_path => "snapshots/scenarios",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        check_all("scenarios", |check| insta::glob!("../../scenarios", "**/*.ron", |p| check(p)));
    });
}

#[test]
fn corpus() {
    insta::with_settings!({
        snapshot_path => "snapshots/corpus",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        check_all("corpus", |check| insta::glob!("../../corpus", "**/*.ron", |p| check(p)));
    });
}

/// What no sweep can reach (2^64 LSNs), the scenarios must: the end of
/// the LSN space, refusing a submit, a queued request, a tick with an
/// expiry due and a checkpoint as `lsn_exhausted`.
#[test]
fn the_scenarios_reach_the_end_of_the_lsn_space() {
    use allocdb_sim::coverage::matrix::Entry;
    let mut stats = allocdb_sim::stats::RunStats::default();
    let mut files = Vec::new();
    fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the folder is readable") {
            let path = entry.expect("its entries are readable").path();
            if path.is_dir() {
                collect(&path, files);
            } else if path.extension().is_some_and(|e| e == "ron") {
                files.push(path);
            }
        }
    }
    collect(&workspace().join("scenarios"), &mut files);
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let scenario = parse(&text, &path.display().to_string()).expect("parses");
        stats.merge(&run_scenario(&scenario).stats);
    }
    let code = allocdb_sim::answer::Code::LsnExhausted;
    assert!(
        stats.answers.get(&code).copied().unwrap_or(0) > 0,
        "code.lsn_exhausted"
    );
    for entry in [
        Entry::Submit,
        Entry::ProcessQueue,
        Entry::Tick,
        Entry::Checkpoint,
    ] {
        assert!(
            stats
                .entry_answers
                .get(&(entry, "lsn_exhausted"))
                .copied()
                .unwrap_or(0)
                > 0,
            "entry.{}.lsn_exhausted",
            entry.name()
        );
    }
}
