//! `cargo xtask tidy`: checks that `docs/architecture.md`, the one-page map
//! of the code, is still true of the tree: every path it names exists, and
//! every top-level module of a crate it maps is in the map.
//!
//! How the doc is read (so that a writer of the doc can follow it):
//!
//! - A *path word* ends in `/` (a directory) or in `.rs`, `.md`, `.toml` or
//!   `.ron` (a file), is made of letters, digits, `_`, `-`, `.` and `/`, and
//!   has no empty, `.` or `..` part: `src/table/`, `index.rs`,
//!   `docs/storage-format.md`. A trailing `.` or `:` is not part of it.
//!   Paths that leave the repository (`../shared/spec/`) are not path words
//!   and are not checked.
//! - The map is the doc's first fenced code block. A line of it is an
//!   *entry* when it starts with a path word and is not inside a
//!   parenthesis left open by the lines above; that path is relative to the
//!   nearest entry above it that is indented less (the repository root when
//!   there is none). Every other line continues the entry above it.
//! - An entry's *directory* is the entry itself when it is a directory,
//!   else the directory holding it. Nested entries resolve from it, and so
//!   do the path words in the rest of an entry's text (its continuation
//!   lines included) outside parentheses: `src/transcript.rs, stats.rs` is
//!   `src/stats.rs`; `src/oracle/  model.rs (...), checks.rs` is
//!   `src/oracle/checks.rs`.
//! - Inside parentheses is description: only path words with a `/` before
//!   their end are checked there, from the repository root
//!   (`(format: docs/storage-format.md)`); bare names (`every scenarios/
//!   file`) and words such as `shard<<64` are not.
//! - After a `tests/` entry, a comma-separated list of plain names
//!   (parenthesised notes aside) names test targets: `engine` is
//!   `tests/engine.rs` or `tests/engine/main.rs`. Text that is not such a
//!   list is description.
//! - Outside the map, a backticked path word with a `/` before its end
//!   (`core/tests/alloc_free.rs`) must exist from the repository root or
//!   from the `src/` of a crate of the map (`engine/mod.rs`). Other fenced
//!   blocks are not read.
//! - The crates of the map are its top-level directory entries that hold a
//!   `Cargo.toml`. When the map names anything in a crate's `src/`, every
//!   `src/*.rs` but `lib.rs` and `main.rs` must be an entry, and every
//!   `src/*/` must be an entry or hold one.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use crate::error::Error;
use crate::process::workspace_root;

/// The map, from the workspace root.
pub const DOC: &str = "docs/architecture.md";

/// What a file path word ends in.
const EXTENSIONS: [&str; 4] = [".rs", ".md", ".toml", ".ron"];

/// Checks the real doc; `Ok(false)` when it is out of date (each problem
/// printed).
pub fn run() -> Result<bool, Error> {
    let root = workspace_root();
    let path = root.join(DOC);
    let doc = fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let report = check(&root, &doc)?;
    if report.problems.is_empty() {
        outln!(
            "tidy: architecture map names {} paths, all present; every top-level module listed",
            report.named
        );
        return Ok(true);
    }
    for problem in &report.problems {
        outln!("{problem}");
    }
    outln!(
        "tidy: {} problem(s) in {DOC} ({} paths named)",
        report.problems.len(),
        report.named
    );
    Ok(false)
}

/// What one word of the doc names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A path from the repository root; a directory's ends in `/`.
    Path(String),
    /// A test target `NAME` of the directory `dir` (which ends in `/`).
    Test { dir: String, name: String },
    /// A backticked path of the prose: from the root or a crate's `src/`.
    Prose(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Path(path) | Target::Prose(path) => f.write_str(path),
            Target::Test { dir, name } => write!(f, "{dir}{name}.rs"),
        }
    }
}

/// A target and the (1-based) line of the doc that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub line: usize,
    pub target: Target,
}

/// What the doc names, in the order it names it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub named: Vec<Named>,
    /// The map's top-level directory entries (`core/`, `scenarios/`, ...).
    pub top_dirs: Vec<String>,
}

/// One way the doc is out of date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Missing {
        line: usize,
        path: String,
    },
    NotADirectory {
        line: usize,
        path: String,
    },
    NotAFile {
        line: usize,
        path: String,
    },
    /// `module` (`sim/src/bar.rs`, `sim/src/baz/`) is not in the map.
    Unlisted {
        module: String,
        krate: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { line, path } => {
                write!(f, "{DOC}:{line}: names {path}, which does not exist")
            }
            Problem::NotADirectory { line, path } => {
                write!(f, "{DOC}:{line}: names {path}, which is not a directory")
            }
            Problem::NotAFile { line, path } => {
                write!(
                    f,
                    "{DOC}:{line}: names {path}, which is a directory, not a file"
                )
            }
            Problem::Unlisted { module, krate } => {
                write!(
                    f,
                    "{DOC}: does not list {module} (a top-level module of {krate})"
                )
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    /// Distinct paths the doc names.
    pub named: usize,
    pub problems: Vec<Problem>,
}

/// Checks `doc` (the text of the map) against the tree at `root`.
pub fn check(root: &Path, doc: &str) -> Result<Report, Error> {
    let parsed = parse(doc).map_err(|reason| Error::Doc {
        path: DOC.into(),
        reason,
    })?;
    let crates: Vec<&str> = parsed
        .top_dirs
        .iter()
        .map(String::as_str)
        .filter(|dir| root.join(dir).join("Cargo.toml").is_file())
        .collect();

    let mut problems = Vec::new();
    for named in &parsed.named {
        if let Err(problem) = resolve(root, &crates, named) {
            problems.push(problem);
        }
    }
    let map_paths: Vec<&str> = parsed
        .named
        .iter()
        .filter_map(|named| match &named.target {
            Target::Path(path) => Some(path.as_str()),
            _ => None,
        })
        .collect();
    for krate in &crates {
        problems.extend(unlisted(root, krate, &map_paths)?);
    }
    let named: BTreeSet<String> = parsed
        .named
        .iter()
        .map(|named| named.target.to_string())
        .collect();
    Ok(Report {
        named: named.len(),
        problems,
    })
}

/// What is at a path from the root.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Nothing,
    File,
    Dir,
}

fn look(root: &Path, path: &str) -> Found {
    let full = root.join(path.trim_end_matches('/'));
    if full.is_dir() {
        Found::Dir
    } else if full.exists() {
        Found::File
    } else {
        Found::Nothing
    }
}

/// `path` (a directory when it ends in `/`) is there, as that kind.
fn present(root: &Path, line: usize, path: &str) -> Result<(), Problem> {
    let path_owned = || path.to_string();
    match (look(root, path), path.ends_with('/')) {
        (Found::Dir, true) | (Found::File, false) => Ok(()),
        (Found::Nothing, _) => Err(Problem::Missing {
            line,
            path: path_owned(),
        }),
        (Found::File, true) => Err(Problem::NotADirectory {
            line,
            path: path_owned(),
        }),
        (Found::Dir, false) => Err(Problem::NotAFile {
            line,
            path: path_owned(),
        }),
    }
}

fn resolve(root: &Path, crates: &[&str], named: &Named) -> Result<(), Problem> {
    let line = named.line;
    match &named.target {
        Target::Path(path) => present(root, line, path),
        Target::Test { dir, name } => {
            let alternative = format!("{dir}{name}/main.rs");
            if look(root, &alternative) == Found::File {
                Ok(())
            } else {
                present(root, line, &named.target.to_string())
            }
        }
        Target::Prose(path) => {
            let in_a_crate = crates
                .iter()
                .any(|krate| present(root, line, &format!("{krate}src/{path}")).is_ok());
            if in_a_crate {
                Ok(())
            } else {
                present(root, line, path)
            }
        }
    }
}

/// The top-level modules of `krate` (`core/`) that the map does not list,
/// when it lists anything in the crate's `src/`.
fn unlisted(root: &Path, krate: &str, map_paths: &[&str]) -> Result<Vec<Problem>, Error> {
    let src = format!("{krate}src/");
    if !map_paths.iter().any(|path| path.starts_with(&src)) {
        return Ok(Vec::new());
    }
    let dir = root.join(&src);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        // The map names paths in it, and each is reported missing.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path: dir, source }),
    };
    let mut modules = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let full = entry.path();
        if full.is_dir() {
            modules.insert(format!("{src}{name}/"));
        } else if name.ends_with(".rs") && name != "lib.rs" && name != "main.rs" {
            modules.insert(format!("{src}{name}"));
        }
    }
    let krate_name = krate.trim_end_matches('/');
    Ok(modules
        .into_iter()
        .filter(|module| {
            let listed = if module.ends_with('/') {
                map_paths
                    .iter()
                    .any(|path| path.starts_with(module.as_str()))
            } else {
                map_paths.contains(&module.as_str())
            };
            !listed
        })
        .map(|module| Problem::Unlisted {
            module,
            krate: krate_name.to_string(),
        })
        .collect())
}

/// A word of the doc as a path word: trailing `.` and `:` dropped.
fn path_word(word: &str) -> Option<&str> {
    let word = word.trim_end_matches(['.', ':']);
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    if word.is_empty() || !word.chars().all(allowed) {
        return None;
    }
    let body = word.strip_suffix('/').unwrap_or(word);
    let parts_ok = body
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != "..");
    if !parts_ok {
        return None;
    }
    let last = body.rsplit('/').next().unwrap_or(body);
    let typed = word.ends_with('/')
        || EXTENSIONS
            .iter()
            .any(|ext| last.len() > ext.len() && last.ends_with(ext));
    typed.then_some(word)
}

/// A path word with a directory in it (`docs/x.md`, not `x.md` or `x/`).
fn has_directory(path: &str) -> bool {
    path.trim_end_matches('/').contains('/')
}

fn is_plain_name(item: &str) -> bool {
    !item.is_empty()
        && item
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The entry whose text is being read.
struct Entry {
    /// Its directory: where the words of its text resolve from.
    dir: String,
    /// It is a `tests/` directory: its text may list test targets.
    tests: bool,
    /// Its text outside parentheses, split at commas (and line ends).
    items: Vec<(usize, String)>,
    item: String,
}

impl Entry {
    fn end_item(&mut self, line: usize) {
        let item = self.item.trim();
        if !item.is_empty() {
            self.items.push((line, item.to_string()));
        }
        self.item.clear();
    }

    /// The test targets, when its text is a list of plain names.
    fn finish(self, named: &mut Vec<Named>) {
        if !self.tests
            || self.items.is_empty()
            || !self.items.iter().all(|(_, item)| is_plain_name(item))
        {
            return;
        }
        for (line, name) in self.items {
            named.push(Named {
                line,
                target: Target::Test {
                    dir: self.dir.clone(),
                    name,
                },
            });
        }
    }
}

/// Reads the map's lines, one at a time.
#[derive(Default)]
struct MapReader {
    /// The entries a next line may nest under: indentation, directory.
    stack: Vec<(usize, String)>,
    entry: Option<Entry>,
    /// Open parentheses.
    depth: usize,
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')')
}

impl MapReader {
    fn line(&mut self, line: usize, text: &str, parsed: &mut Parsed) {
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return;
        }
        let indent = text.len() - trimmed.len();
        let end = trimmed.find(is_separator).unwrap_or(trimmed.len());
        let first = path_word(&trimmed[..end]).filter(|_| self.depth == 0);
        let rest = match first {
            Some(word) => {
                if let Some(entry) = self.entry.take() {
                    entry.finish(&mut parsed.named);
                }
                while self.stack.last().is_some_and(|(i, _)| *i >= indent) {
                    self.stack.pop();
                }
                let top_level = self.stack.is_empty();
                let base = self.stack.last().map_or("", |(_, dir)| dir.as_str());
                let path = format!("{base}{word}");
                let dir = if path.ends_with('/') {
                    path.clone()
                } else {
                    path.rfind('/')
                        .map_or(String::new(), |at| path[..=at].to_string())
                };
                if top_level && path.ends_with('/') {
                    parsed.top_dirs.push(path.clone());
                }
                let tests = path == "tests/" || path.ends_with("/tests/");
                parsed.named.push(Named {
                    line,
                    target: Target::Path(path),
                });
                self.stack.push((indent, dir.clone()));
                self.entry = Some(Entry {
                    dir,
                    tests,
                    items: Vec::new(),
                    item: String::new(),
                });
                &trimmed[end..]
            }
            None => trimmed,
        };
        self.text(line, rest, parsed);
    }

    /// The text of the current entry on one line (after its path word on
    /// the entry's own line).
    fn text(&mut self, line: usize, text: &str, parsed: &mut Parsed) {
        let Some(entry) = self.entry.as_mut() else {
            // Lines above the first entry say nothing about paths.
            return;
        };
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if is_separator(c) {
                if let Some(path) = path_word(&word) {
                    if self.depth == 0 {
                        parsed.named.push(Named {
                            line,
                            target: Target::Path(format!("{}{path}", entry.dir)),
                        });
                    } else if has_directory(path) {
                        parsed.named.push(Named {
                            line,
                            target: Target::Path(path.to_string()),
                        });
                    }
                }
                word.clear();
            } else {
                word.push(c);
            }
            match c {
                '(' => self.depth += 1,
                ')' => self.depth = self.depth.saturating_sub(1),
                ',' if self.depth == 0 => entry.end_item(line),
                _ if self.depth == 0 => entry.item.push(c),
                _ => {}
            }
        }
        entry.end_item(line);
    }

    fn finish(mut self, parsed: &mut Parsed) {
        if let Some(entry) = self.entry.take() {
            entry.finish(&mut parsed.named);
        }
    }
}

/// What `doc` names: the map (its first fenced code block) and the
/// backticked paths of the prose around it.
pub fn parse(doc: &str) -> Result<Parsed, &'static str> {
    #[derive(PartialEq)]
    enum Where {
        Prose,
        Map,
        OtherBlock,
    }
    let mut parsed = Parsed::default();
    let mut reader = MapReader::default();
    let mut place = Where::Prose;
    let mut map_seen = false;
    for (index, text) in doc.lines().enumerate() {
        let line = index + 1;
        let fence = text.trim_start().starts_with("```");
        match place {
            Where::Prose if fence && !map_seen => {
                map_seen = true;
                place = Where::Map;
            }
            Where::Prose if fence => place = Where::OtherBlock,
            Where::Prose => {
                for (i, code) in text.split('`').enumerate() {
                    if i % 2 == 1 {
                        if let Some(path) = path_word(code.trim()).filter(|p| has_directory(p)) {
                            parsed.named.push(Named {
                                line,
                                target: Target::Prose(path.to_string()),
                            });
                        }
                    }
                }
            }
            Where::Map if fence => {
                std::mem::take(&mut reader).finish(&mut parsed);
                place = Where::Prose;
            }
            Where::Map => reader.line(line, text, &mut parsed),
            Where::OtherBlock if fence => place = Where::Prose,
            Where::OtherBlock => {}
        }
    }
    match place {
        _ if !map_seen => Err("has no fenced code block, so no map of the code"),
        Where::Map => Err("the map's code block is never closed"),
        _ => Ok(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    /// A tree with these files (a name ending in `/` is an empty directory).
    fn tree(paths: &[&str]) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix("xtask-tidy-")
            .tempdir()
            .expect("a temporary directory");
        for path in paths {
            let full = dir.path().join(path);
            if path.ends_with('/') {
                fs::create_dir_all(&full).unwrap();
            } else {
                fs::create_dir_all(full.parent().unwrap()).unwrap();
                fs::write(&full, "").unwrap();
            }
        }
        dir
    }

    /// The doc: a title line, then `map` as its fenced code block (so the
    /// map's first line is line 3), then `prose`.
    fn fixture(map: &str, prose: &str) -> String {
        format!("# Architecture\n```\n{map}```\n\n{prose}")
    }

    fn problems(root: &TempDir, doc: &str) -> Vec<String> {
        check(root.path(), doc)
            .unwrap()
            .problems
            .iter()
            .map(Problem::to_string)
            .collect()
    }

    fn map_paths(doc: &str) -> Vec<(usize, String)> {
        parse(doc)
            .unwrap()
            .named
            .into_iter()
            .map(|named| (named.line, named.target.to_string()))
            .collect()
    }

    const CORE: [&str; 4] = [
        "Cargo.toml",
        "core/Cargo.toml",
        "core/src/lib.rs",
        "core/src/ids.rs",
    ];

    #[test]
    fn a_map_of_present_paths_passes() {
        let root = tree(&CORE);
        let doc = fixture(
            "Cargo.toml    workspace: core\ncore/         the core\n  src/ids.rs    ids (LeaseId = shard<<64 | lsn)\n",
            "Apply allocates nothing (`core/src/ids.rs` says so).\n",
        );
        let report = check(root.path(), &doc).unwrap();
        assert_eq!(
            report,
            Report {
                named: 3,
                problems: Vec::new()
            }
        );
    }

    #[test]
    fn a_missing_file_is_reported_with_its_line() {
        let root = tree(&CORE);
        let doc = fixture(
            "core/\n  src/ids.rs    ids\n  src/gone.rs   was here once\n",
            "",
        );
        assert_eq!(
            problems(&root, &doc),
            ["docs/architecture.md:5: names core/src/gone.rs, which does not exist"]
        );
    }

    #[test]
    fn a_file_named_as_a_directory_and_the_reverse_are_reported() {
        let root = tree(&[&CORE[..], &["notes.md/"]].concat());
        let doc = fixture("core/\n  src/ids.rs/\nnotes.md\n", "");
        assert_eq!(
            problems(&root, &doc),
            [
                "docs/architecture.md:4: names core/src/ids.rs/, which is not a directory",
                "docs/architecture.md:5: names notes.md, which is a directory, not a file",
                "docs/architecture.md: does not list core/src/ids.rs (a top-level module of core)",
            ]
        );
    }

    #[test]
    fn every_unlisted_top_level_module_is_reported() {
        let root = tree(
            &[
                &CORE[..],
                &[
                    "core/src/main.rs",
                    "core/src/extra.rs",
                    "core/src/notes.txt",
                    "core/src/table/mod.rs",
                    "core/src/wal/frame.rs",
                    "sim/Cargo.toml",
                    "sim/src/lib.rs",
                    "sim/src/run.rs",
                    "sim/src/view.rs",
                    // The map names nothing in xtask's src/: not checked.
                    "xtask/Cargo.toml",
                    "xtask/src/main.rs",
                    "xtask/src/ci.rs",
                    "xtask/tests/cli.rs",
                ],
            ]
            .concat(),
        );
        let doc = fixture(
            "core/\n  src/ids.rs\n  src/wal/\n    frame.rs\nsim/\n  src/run.rs\nxtask/\n  tests/cli.rs\n",
            "",
        );
        assert_eq!(
            problems(&root, &doc),
            [
                "docs/architecture.md: does not list core/src/extra.rs (a top-level module of core)",
                "docs/architecture.md: does not list core/src/table/ (a top-level module of core)",
                "docs/architecture.md: does not list sim/src/view.rs (a top-level module of sim)",
            ]
        );
    }

    #[test]
    fn a_directory_is_listed_by_an_entry_inside_it() {
        let root = tree(&[&CORE[..], &["core/src/wal/frame.rs"]].concat());
        let doc = fixture("core/\n  src/ids.rs\n  src/wal/frame.rs\n", "");
        assert_eq!(problems(&root, &doc), Vec::<String>::new());
    }

    #[test]
    fn nested_entries_resolve_from_the_entry_indented_less() {
        let doc = fixture(
            concat!(
                "Cargo.toml        workspace\n",
                "core/             the core\n",
                "  src/table/        tables\n",
                "    index.rs          the index\n",
                "    fixed.rs          FixedTable\n",
                "  src/wheel.rs      the wheel\n",
                "  src/engine/       the engine\n",
                "    mod.rs            write path\n",
                "    recovery.rs       snapshot -> scan -> replay\n",
                "                      (two passes; the second must end where the first did)\n",
                "  tests/cli.rs      the binary\n",
                "sim/              the testbed\n",
                "  src/run.rs          one seed\n",
            ),
            "",
        );
        assert_eq!(
            map_paths(&doc),
            [
                (3, "Cargo.toml".to_string()),
                (4, "core/".to_string()),
                (5, "core/src/table/".to_string()),
                (6, "core/src/table/index.rs".to_string()),
                (7, "core/src/table/fixed.rs".to_string()),
                (8, "core/src/wheel.rs".to_string()),
                (9, "core/src/engine/".to_string()),
                (10, "core/src/engine/mod.rs".to_string()),
                (11, "core/src/engine/recovery.rs".to_string()),
                (13, "core/tests/cli.rs".to_string()),
                (14, "sim/".to_string()),
                (15, "sim/src/run.rs".to_string()),
            ]
        );
        assert_eq!(parse(&doc).unwrap().top_dirs, ["core/", "sim/"]);
    }

    /// The forms of the real map: names after a file and in a directory's
    /// text, lists continued over lines and inside open parentheses, paths
    /// from the root in parentheses, bare names in parentheses as prose,
    /// test lists, and words that only look a little like paths.
    #[test]
    fn comma_lists_and_descriptions_resolve_as_the_map_means_them() {
        let doc = fixture(
            concat!(
                "sim/              the testbed\n",
                "  src/oracle/         model.rs (independent BTreeMap model), checks.rs (oracles as pure\n",
                "                      functions), failure.rs (Oracle, OracleFailure)\n",
                "  src/scan.rs         recovery scan: clean EOF / torn tail / corruption\n",
                "  src/scenario/       format.rs (the RON types), parse.rs (file:line:col errors; one\n",
                "                      list of actions), validate.rs (semantic\n",
                "                      checks naming the step), runner.rs (strict run),\n",
                "                      write.rs (scenario -> RON, one step per line)\n",
                "  src/transcript.rs, stats.rs, run_dir.rs\n",
                "  src/wal/            the log (format: docs/storage-format.md)\n",
                "  tests/              model_vs_core (proptest), sweep (1,000 seeds),\n",
                "                      scenarios (every scenarios/ and corpus/ file, insta glob)\n",
                "fuzz/             one target per decoder (wal_frame, payload), a counting allocator;\n",
                "                  regressions/ inputs run in cargo test\n",
                "xtask/            cargo xtask: sweep, replay (in-process),\n",
                "                  fuzz, bench, ci\n",
                "scenarios/        by topic (snapshots: sim/tests/snapshots/scenarios/)\n",
            ),
            "Specified in `../shared/spec/` and [`semantics.md`](semantics.md); see\n`engine/mod.rs` and `core/tests/alloc_free.rs`, not `cargo xtask tidy`.\n",
        );
        let expected: Vec<(usize, String)> = [
            (3, "sim/"),
            (4, "sim/src/oracle/"),
            (4, "sim/src/oracle/model.rs"),
            (4, "sim/src/oracle/checks.rs"),
            (5, "sim/src/oracle/failure.rs"),
            (6, "sim/src/scan.rs"),
            (7, "sim/src/scenario/"),
            (7, "sim/src/scenario/format.rs"),
            (7, "sim/src/scenario/parse.rs"),
            (8, "sim/src/scenario/validate.rs"),
            (9, "sim/src/scenario/runner.rs"),
            (10, "sim/src/scenario/write.rs"),
            (11, "sim/src/transcript.rs"),
            (11, "sim/src/stats.rs"),
            (11, "sim/src/run_dir.rs"),
            (12, "sim/src/wal/"),
            (12, "docs/storage-format.md"),
            (13, "sim/tests/"),
            (13, "sim/tests/model_vs_core.rs"),
            (13, "sim/tests/sweep.rs"),
            (14, "sim/tests/scenarios.rs"),
            (15, "fuzz/"),
            (16, "fuzz/regressions/"),
            (17, "xtask/"),
            (19, "scenarios/"),
            (19, "sim/tests/snapshots/scenarios/"),
            (23, "engine/mod.rs"),
            (23, "core/tests/alloc_free.rs"),
        ]
        .into_iter()
        .map(|(line, path)| (line, path.to_string()))
        .collect();
        assert_eq!(map_paths(&doc), expected);
    }

    #[test]
    fn tests_lists_name_test_targets_and_missing_ones_are_reported() {
        let root = tree(&[
            "core/Cargo.toml",
            "core/tests/engine.rs",
            "core/tests/restore/main.rs",
            "core/tests/support/mod.rs",
        ]);
        let doc = fixture(
            "core/\n  tests/            engine, restore (round trip),\n                    gone\n",
            "",
        );
        assert_eq!(
            problems(&root, &doc),
            ["docs/architecture.md:5: names core/tests/gone.rs, which does not exist"]
        );
        // Text that is not a list of plain names is description.
        let prose = fixture(
            "core/\n  tests/            every engine test, one per file\n",
            "",
        );
        assert_eq!(problems(&root, &prose), Vec::<String>::new());
    }

    #[test]
    fn prose_paths_resolve_from_the_root_or_a_crates_src() {
        let root = tree(
            &[
                &CORE[..],
                &["core/src/engine/mod.rs", "core/tests/alloc_free.rs"],
            ]
            .concat(),
        );
        let doc = fixture(
            "core/\n",
            "Apply allocates nothing (`core/tests/alloc_free.rs`);\nthe seams (`engine/mod.rs`, `engine/gone.rs`) and `core/tests/gone.rs`.\nThe spec is in `../shared/spec/`.\n",
        );
        assert_eq!(
            problems(&root, &doc),
            [
                "docs/architecture.md:7: names engine/gone.rs, which does not exist",
                "docs/architecture.md:7: names core/tests/gone.rs, which does not exist",
            ]
        );
    }

    #[test]
    fn a_doc_without_a_map_is_an_error() {
        assert_eq!(
            parse("# Architecture\n\nNo map.\n"),
            Err("has no fenced code block, so no map of the code")
        );
        assert_eq!(
            parse("```\ncore/\n"),
            Err("the map's code block is never closed")
        );
        // A later block is not the map.
        let parsed = parse("```\ncore/\n```\n\n```\nsim/\n```\n").unwrap();
        assert_eq!(parsed.top_dirs, ["core/"]);
    }

    #[test]
    fn path_words() {
        for word in [
            "src/ids.rs",
            "index.rs",
            "tests/",
            "Cargo.toml",
            "docs/storage-format.md",
            "a.ron",
            "regressions/",
            "failure.rs:",
        ] {
            assert!(path_word(word).is_some(), "{word}");
        }
        for word in [
            "/",
            "",
            ".rs",
            "shard<<64",
            "../shared/spec/",
            "file:line:col",
            "core/src/wal/**",
            "a//b.rs",
            "./a.rs",
            "src",
            "lsn",
            "`x.rs`",
            "/abs.rs",
        ] {
            assert!(path_word(word).is_none(), "{word}");
        }
    }
}
