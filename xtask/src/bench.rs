//! `cargo xtask bench [all|core|storage|sim] [--write]`: runs the suite's
//! criterion benchmarks, reads criterion's median estimates of this run,
//! prints a short stable report and, with `--write`, replaces the suite's
//! generated block of `docs/performance.md` (between its [`Block`] markers).
//!
//! Every suite is described by one [`Spec`] in [`SPECS`]: which `cargo
//! bench` target to run, which criterion cases it must have produced, and
//! how to lay them out. One reader, one text formatter and one Markdown
//! formatter serve them all.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Error;
use crate::process::{workspace_root, Cmd};
use crate::sim_phases;
use crate::Suite;

const DOC: &str = "docs/performance.md";

/// The marker lines around one generated block of the doc, and the errors
/// that name them (static, as [`Error::Doc`] wants).
struct Block {
    name: &'static str,
    begin: &'static str,
    end: &'static str,
    no_begin: &'static str,
    twice: &'static str,
    no_end: &'static str,
}

macro_rules! block {
    ($name:literal) => {
        Block {
            name: $name,
            begin: concat!("<!-- bench:", $name, ":begin -->"),
            end: concat!("<!-- bench:", $name, ":end -->"),
            no_begin: concat!("no `<!-- bench:", $name, ":begin -->` marker"),
            twice: concat!(
                "the `<!-- bench:",
                $name,
                ":begin -->` marker appears twice"
            ),
            no_end: concat!(
                "no `<!-- bench:",
                $name,
                ":end -->` marker after the begin marker"
            ),
        }
    };
}

/// One suite: a `cargo bench` target, the criterion groups it writes, and
/// its generated block in the doc.
struct Spec {
    package: &'static str,
    bench: &'static str,
    block: Block,
    /// A Markdown paragraph before the tables; empty for none.
    note: &'static str,
    tables: &'static [Table],
}

/// One criterion group, reported as one table.
struct Table {
    title: &'static str,
    group: &'static str,
    /// What `Throughput::Elements` counts, and its short form for the text
    /// report's column header.
    unit: &'static str,
    short: &'static str,
    text: &'static [Column],
    markdown: &'static [Column],
    cases: &'static [Case],
    summaries: &'static [Summary],
}

/// One benchmark case, as the bench names it within its group.
struct Case {
    id: &'static str,
    /// The cell of a [`Column::Label`] column; empty when there is none.
    label: &'static str,
}

impl Case {
    /// Criterion's directory for the case under its group's directory
    /// (criterion makes `/` in an id `_`).
    fn dir(&self) -> String {
        self.id.replace('/', "_")
    }
}

/// A column after the case id.
#[derive(Clone, Copy)]
enum Column {
    /// The case's label under this header.
    Label(&'static str),
    /// Median elements/s.
    Rate,
    /// The 95% confidence interval of the median, as elements/s.
    Interval,
    /// Median MB/s (10^6 bytes), when criterion was given bytes.
    Bytes,
    /// Median time per iteration in ms, with this many decimals.
    Time(usize),
    /// Median iterations/s, under this header (e.g. `seeds/s`).
    PerIteration(&'static str),
}

/// A sentence under a table.
enum Summary {
    /// Median rate of case `over` divided by that of case `under`.
    Ratio {
        name: &'static str,
        over: &'static str,
        under: &'static str,
    },
    /// Median rate of `case` divided by a target rate.
    Target { case: &'static str, rate: f64 },
}

/// Every suite, in the order `all` runs and reports them.
static SPECS: [(Suite, Spec); 3] = [
    (Suite::Core, CORE),
    (Suite::Storage, STORAGE),
    (Suite::Sim, SIM),
];

const CORE: Spec = Spec {
    package: "allocdb-core",
    bench: "apply",
    block: block!("core"),
    note: "",
    tables: &[Table {
        title: "core apply, mixed workload",
        group: "apply",
        unit: "commands",
        short: "cmd",
        text: &[Column::Label("tables"), Column::Rate, Column::Interval],
        markdown: &[
            Column::Label("tables"),
            Column::Rate,
            Column::Interval,
            Column::Time(2),
        ],
        // Large first, then small.
        cases: &[
            Case {
                id: "cap_1M",
                label: "1,000,000",
            },
            Case {
                id: "cap_64",
                label: "64",
            },
        ],
        summaries: &[Summary::Ratio {
            name: "large/small",
            over: "cap_1M",
            under: "cap_64",
        }],
    }],
};

/// Columns of the storage tables, text and Markdown alike; a WAL batch
/// takes well under 1 ms on RAM, hence the third decimal.
const WAL_COLUMNS: &[Column] = &[
    Column::Rate,
    Column::Interval,
    Column::Bytes,
    Column::Time(3),
];
const MS_COLUMNS: &[Column] = &[
    Column::Rate,
    Column::Interval,
    Column::Bytes,
    Column::Time(2),
];

/// Cases without a label, by id.
macro_rules! cases {
    ($($id:literal),+ $(,)?) => {
        &[$(Case { id: $id, label: "" }),+]
    };
}

const STORAGE: Spec = Spec {
    package: "allocdb-core",
    bench: "storage",
    block: block!("storage-table"),
    note: "Generated by `cargo xtask bench storage --write`: criterion medians \
           of the latest run. The text below describes the cases and analyses \
           an earlier run.",
    tables: &[
        Table {
            title: "WAL append + sync",
            group: "wal_append",
            unit: "frames",
            short: "frames",
            text: WAL_COLUMNS,
            markdown: WAL_COLUMNS,
            cases: cases![
                "ram/sync_each",
                "ram/sync_64",
                "disk/sync_each",
                "disk/sync_64"
            ],
            summaries: &[
                Summary::Ratio {
                    name: "ram/disk, sync_each",
                    over: "ram/sync_each",
                    under: "disk/sync_each",
                },
                Summary::Ratio {
                    name: "ram/disk, sync_64",
                    over: "ram/sync_64",
                    under: "disk/sync_64",
                },
                Summary::Ratio {
                    name: "sync_64/sync_each, disk",
                    over: "disk/sync_64",
                    under: "disk/sync_each",
                },
            ],
        },
        Table {
            title: "Recovery replay of a 1,000,000-frame WAL",
            group: "recovery_1M",
            unit: "frames",
            short: "frames",
            text: MS_COLUMNS,
            markdown: MS_COLUMNS,
            cases: cases![
                "engine_open",
                "open_empty",
                "read_file",
                "scan",
                "frames_decode",
                "apply_only",
                "apply_prefetched",
            ],
            summaries: &[Summary::Target {
                case: "engine_open",
                rate: 2_000_000.0,
            }],
        },
        Table {
            title: "Snapshot of 1,000,000 resources",
            group: "snapshot_1M",
            unit: "resources",
            short: "res",
            text: MS_COLUMNS,
            markdown: MS_COLUMNS,
            cases: cases![
                "export",
                "encode",
                "write/ram",
                "write/disk",
                "export_write/disk",
                "load_file/ram",
                "load_restore/ram",
            ],
            summaries: &[Summary::Ratio {
                name: "ram/disk, write",
                over: "write/ram",
                under: "write/disk",
            }],
        },
    ],
};

/// Where a step's time goes (`sim_phases.rs`), after the simulator's table.
const PHASES_BLOCK: Block = block!("sim-phases");

const SIM_COLUMNS: &[Column] = &[
    Column::Rate,
    Column::Interval,
    Column::PerIteration("seeds/s"),
    Column::Time(2),
];

const SIM: Spec = Spec {
    package: "allocdb-sim",
    bench: "sweep",
    block: block!("sim-table"),
    note: "Generated by `cargo xtask bench sim --write`: criterion medians of \
           the latest run. The text below describes the case and analyses an \
           earlier run.",
    tables: &[Table {
        title: "Simulator, default sweep on one core",
        group: "sim",
        unit: "steps",
        short: "steps",
        text: SIM_COLUMNS,
        markdown: SIM_COLUMNS,
        cases: cases!["seed_1000_steps"],
        summaries: &[Summary::Target {
            case: "seed_1000_steps",
            rate: 250_000.0,
        }],
    }],
};

/// The specs `suite` selects, in report order.
fn specs(suite: Suite) -> impl Iterator<Item = &'static Spec> {
    SPECS
        .iter()
        .filter(move |(s, _)| suite == Suite::All || *s == suite)
        .map(|(_, spec)| spec)
}

/// Criterion's median (and its 95% confidence interval) of one case.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measured {
    /// Elements per criterion iteration (`Throughput::Elements`).
    elements: u64,
    /// Bytes per iteration, when the throughput has them.
    bytes: Option<u64>,
    median_ns: f64,
    lower_ns: f64,
    upper_ns: f64,
}

impl Measured {
    fn per_second(&self, ns: f64) -> f64 {
        self.elements as f64 * 1e9 / ns
    }

    fn median_rate(&self) -> f64 {
        self.per_second(self.median_ns)
    }

    /// The confidence interval as rates: (low, high).
    fn rate_interval(&self) -> (f64, f64) {
        (
            self.per_second(self.upper_ns),
            self.per_second(self.lower_ns),
        )
    }

    fn median_mb_per_second(&self) -> Option<f64> {
        self.bytes.map(|bytes| bytes as f64 * 1e3 / self.median_ns)
    }
}

/// Measured cases of one spec: per table, per case, in spec order.
type Results = Vec<Vec<Measured>>;

pub fn run(suite: Suite, write: bool) -> Result<(), Error> {
    let criterion = target_dir().join("criterion");
    let mut results = Vec::new();
    for spec in specs(suite) {
        let started = SystemTime::now();
        Cmd::cargo(&[
            "bench",
            "-p",
            spec.package,
            "--bench",
            spec.bench,
            "--",
            "--noplot",
        ])
        .run()?;
        results.push((spec, read_spec(spec, &criterion, started)?));
    }
    let phases = if matches!(suite, Suite::All | Suite::Sim) {
        Some(sim_phases::measure(&target_dir())?)
    } else {
        None
    };
    if matches!(suite, Suite::All | Suite::Sim) {
        // The floor of a step: the same seeds' engine calls made again on
        // an engine alone (`sim/benches/floor.rs`); it prints its own lines.
        Cmd::cargo(&["bench", "-p", "allocdb-sim", "--bench", "floor"]).run()?;
    }
    outln!();
    for (i, (spec, measured)) in results.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        out!("{}", text_report(spec, measured));
    }
    if let Some(phases) = &phases {
        outln!();
        out!("{}", phases.text());
    }
    if write {
        let path = workspace_root().join(DOC);
        let mut doc = fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let machine = machine();
        for (spec, measured) in &results {
            let block = markdown_block(spec, measured, &machine);
            doc = replace_block(&doc, &spec.block, &block).map_err(|reason| Error::Doc {
                path: path.clone(),
                reason,
            })?;
        }
        if let Some(phases) = &phases {
            doc = replace_block(&doc, &PHASES_BLOCK, &phases.markdown()).map_err(|reason| {
                Error::Doc {
                    path: path.clone(),
                    reason,
                }
            })?;
        }
        fs::write(&path, doc).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        for (spec, _) in &results {
            outln!("updated the `bench:{}` block in {DOC}", spec.block.name);
        }
        if phases.is_some() {
            outln!("updated the `bench:{}` block in {DOC}", PHASES_BLOCK.name);
        }
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn read_spec(spec: &Spec, criterion: &Path, started: SystemTime) -> Result<Results, Error> {
    spec.tables
        .iter()
        .map(|table| {
            let group = criterion.join(table.group);
            table
                .cases
                .iter()
                .map(|case| read_case(&group.join(case.dir()), started))
                .collect()
        })
        .collect()
}

/// Reads `<dir>/new/{benchmark,estimates}.json`, refusing results older
/// than this run (a case that did not run must not report stale figures).
fn read_case(dir: &Path, started: SystemTime) -> Result<Measured, Error> {
    let estimates_path = dir.join("new").join("estimates.json");
    let benchmark_path = dir.join("new").join("benchmark.json");
    let fresh = fs::metadata(&estimates_path)
        .and_then(|m| m.modified())
        .map_err(|source| Error::Read {
            path: estimates_path.clone(),
            source,
        })?;
    if fresh < started {
        return Err(Error::Criterion {
            path: estimates_path,
            reason: "older than this run; the case did not run".into(),
        });
    }
    let estimates = read_json(&estimates_path)?;
    let benchmark = read_json(&benchmark_path)?;
    parse_case(&estimates, &benchmark).map_err(|reason| Error::Criterion {
        path: estimates_path,
        reason,
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value, Error> {
    let text = fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Criterion {
        path: path.to_path_buf(),
        reason: format!("not valid JSON: {e}"),
    })
}

fn parse_case(
    estimates: &serde_json::Value,
    benchmark: &serde_json::Value,
) -> Result<Measured, String> {
    let number = |pointer: &str| {
        estimates
            .pointer(pointer)
            .and_then(serde_json::Value::as_f64)
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("no positive number at {pointer}"))
    };
    let count = |pointer: &str| {
        benchmark
            .pointer(pointer)
            .and_then(serde_json::Value::as_u64)
            .filter(|n| *n > 0)
    };
    let elements = count("/throughput/Elements")
        .or_else(|| count("/throughput/ElementsAndBytes/elements"))
        .ok_or("benchmark.json has no Throughput::Elements or ElementsAndBytes")?;
    Ok(Measured {
        elements,
        bytes: count("/throughput/ElementsAndBytes/bytes"),
        median_ns: number("/median/point_estimate")?,
        lower_ns: number("/median/confidence_interval/lower_bound")?,
        upper_ns: number("/median/confidence_interval/upper_bound")?,
    })
}

/// `1234567.8` -> `1,234,568`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Table {
    /// The measurement of case `id` (a name from this table's own spec).
    fn find<'m>(&self, measured: &'m [Measured], id: &str) -> &'m Measured {
        let index = self
            .cases
            .iter()
            .position(|case| case.id == id)
            .expect("summaries name cases of their table");
        &measured[index]
    }

    /// The summary's figure: a ratio of median rates.
    fn figure(&self, summary: &Summary, measured: &[Measured]) -> f64 {
        match *summary {
            Summary::Ratio { over, under, .. } => {
                self.find(measured, over).median_rate() / self.find(measured, under).median_rate()
            }
            Summary::Target { case, rate } => self.find(measured, case).median_rate() / rate,
        }
    }

    fn text_summary(&self, summary: &Summary, measured: &[Measured]) -> String {
        let figure = self.figure(summary, measured);
        match *summary {
            Summary::Ratio { name, over, under } => {
                // Spaced when the ids hold slashes themselves.
                let by = if format!("{over}{under}").contains('/') {
                    " / "
                } else {
                    "/"
                };
                format!("ratio {name} ({over}{by}{under}): {figure:.3}")
            }
            Summary::Target { case, rate } => format!(
                "{case} against the target of {} {}/s: {figure:.3} ({})",
                thousands(rate),
                self.unit,
                met(figure)
            ),
        }
    }

    fn markdown_summary(&self, summary: &Summary, measured: &[Measured]) -> String {
        let figure = self.figure(summary, measured);
        match *summary {
            Summary::Ratio { name, .. } => format!("Ratio {name}: **{figure:.3}**."),
            Summary::Target { case, rate } => format!(
                "`{}/{case}` against the target of {} {}/s: **{figure:.3}** ({}).",
                self.group,
                thousands(rate),
                self.unit,
                met(figure)
            ),
        }
    }
}

fn met(figure: f64) -> &'static str {
    if figure >= 1.0 {
        "met"
    } else {
        "not met"
    }
}

impl Column {
    fn text_header(self, table: &Table) -> String {
        match self {
            Column::Label(header) | Column::PerIteration(header) => header.into(),
            Column::Rate => format!("median {}/s", table.short),
            Column::Interval => "95% CI of the median".into(),
            Column::Bytes => "MB/s".into(),
            Column::Time(_) => "median time".into(),
        }
    }

    fn markdown_header(self, table: &Table, elements: u64) -> String {
        match self {
            Column::Rate => format!("median {}/s", table.unit),
            Column::Bytes => "median MB/s".into(),
            Column::Time(_) => format!(
                "median time per {} {}",
                thousands(elements as f64),
                table.unit
            ),
            _ => self.text_header(table),
        }
    }

    /// The text column's width: at least its header's.
    fn width(self, table: &Table) -> usize {
        let least = match self {
            Column::Label(_) => 10,
            Column::Rate => 14,
            Column::Interval => 27,
            Column::Bytes | Column::PerIteration(_) => 8,
            Column::Time(_) => 12,
        };
        least.max(self.text_header(table).chars().count())
    }

    /// `dash` separates the interval's ends.
    fn cell(self, case: &Case, m: &Measured, dash: &str) -> String {
        match self {
            Column::Label(_) => case.label.into(),
            Column::Rate => thousands(m.median_rate()),
            Column::Interval => {
                let (low, high) = m.rate_interval();
                format!("{}{dash}{}", thousands(low), thousands(high))
            }
            Column::Bytes => m
                .median_mb_per_second()
                .map_or_else(|| "n/a".into(), |mb| format!("{mb:.2}")),
            Column::Time(decimals) => format!("{:.*} ms", decimals, m.median_ns / 1e6),
            Column::PerIteration(_) => format!("{:.1}", 1e9 / m.median_ns),
        }
    }
}

fn text_report(spec: &Spec, measured: &[Vec<Measured>]) -> String {
    let mut out = String::new();
    for (i, (table, measured)) in spec.tables.iter().zip(measured).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        text_table(&mut out, table, measured);
    }
    out
}

fn text_table(out: &mut String, table: &Table, measured: &[Measured]) {
    let _ = writeln!(
        out,
        "{}: median {}/s ({} {} per iteration)",
        table.title, table.unit, measured[0].elements, table.unit
    );
    let id_width = table
        .cases
        .iter()
        .map(|case| case.id.chars().count())
        .fold(8, usize::max);
    let mut row = |first: &str, cell: &dyn Fn(Column) -> String| {
        let mut line = format!("{first:<id_width$}");
        for &column in table.text {
            let _ = write!(line, " {:>1$}", cell(column), column.width(table));
        }
        let _ = writeln!(out, "{line}");
    };
    row("case", &|column| column.text_header(table));
    for (case, m) in table.cases.iter().zip(measured) {
        row(case.id, &|column| column.cell(case, m, " - "));
    }
    for summary in table.summaries {
        let _ = writeln!(out, "{}", table.text_summary(summary, measured));
    }
}

/// The CPU model and core count of this machine, as the doc states them.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

/// The suite's generated block: the note, then per table (captioned when
/// there are several) the table and its summary sentences; the machine
/// ends the last paragraph.
fn markdown_block(spec: &Spec, measured: &[Vec<Measured>], machine: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    if !spec.note.is_empty() {
        paragraphs.push(spec.note.into());
    }
    let last = spec.tables.len() - 1;
    for (i, (table, measured)) in spec.tables.iter().zip(measured).enumerate() {
        if spec.tables.len() > 1 {
            paragraphs.push(format!("**{}** (`{}`):", table.title, table.group));
        }
        paragraphs.push(markdown_table(table, measured));
        let mut sentences: Vec<String> = table
            .summaries
            .iter()
            .map(|summary| table.markdown_summary(summary, measured))
            .collect();
        if i == last {
            sentences.push(format!("Machine: {machine}."));
        }
        if !sentences.is_empty() {
            paragraphs.push(sentences.join(" "));
        }
    }
    let mut out = paragraphs.join("\n\n");
    out.push('\n');
    out
}

fn markdown_table(table: &Table, measured: &[Measured]) -> String {
    let mut out = String::from("| case |");
    for column in table.markdown {
        let _ = write!(
            out,
            " {} |",
            column.markdown_header(table, measured[0].elements)
        );
    }
    out.push_str("\n|---|");
    for _ in table.markdown {
        out.push_str("---:|");
    }
    for (case, m) in table.cases.iter().zip(measured) {
        let _ = write!(out, "\n| `{}/{}` |", table.group, case.id);
        for column in table.markdown {
            let _ = write!(out, " {} |", column.cell(case, m, " – "));
        }
    }
    out
}

/// Replaces everything between the block's marker lines, keeping the
/// markers and the rest of the document.
fn replace_block(doc: &str, markers: &Block, block: &str) -> Result<String, &'static str> {
    let begin = doc.find(markers.begin).ok_or(markers.no_begin)?;
    let body_start = begin + markers.begin.len();
    if doc[body_start..].contains(markers.begin) {
        return Err(markers.twice);
    }
    let end = doc[body_start..]
        .find(markers.end)
        .map(|i| body_start + i)
        .ok_or(markers.no_end)?;
    let mut out = String::with_capacity(doc.len() + block.len());
    out.push_str(&doc[..body_start]);
    out.push('\n');
    out.push_str(block.trim_end());
    out.push('\n');
    out.push_str(&doc[end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = CORE.block.begin;
    const END: &str = CORE.block.end;

    /// Synthetic measurements: a 95% CI of -5% / +10% around each median.
    fn synthetic(elements: u64, bytes: Option<u64>, medians_ns: &[f64]) -> Vec<Measured> {
        medians_ns
            .iter()
            .map(|&median_ns| Measured {
                elements,
                bytes,
                median_ns,
                lower_ns: median_ns * 0.95,
                upper_ns: median_ns * 1.1,
            })
            .collect()
    }

    fn core() -> Vec<Vec<Measured>> {
        vec![vec![
            Measured {
                elements: 10_000,
                bytes: None,
                median_ns: 20_000_000.0,
                lower_ns: 19_000_000.0,
                upper_ns: 25_000_000.0,
            },
            Measured {
                elements: 10_000,
                bytes: None,
                median_ns: 2_000_000.0,
                lower_ns: 1_900_000.0,
                upper_ns: 2_100_000.0,
            },
        ]]
    }

    fn storage() -> Vec<Vec<Measured>> {
        vec![
            synthetic(
                64,
                Some(6_496),
                &[72_000.0, 71_000.0, 31_600_000.0, 5_180_000.0],
            ),
            synthetic(
                1_000_000,
                Some(102_067_327),
                &[2.33e9, 568e6, 68e6, 52e6, 86e6, 1.05e9, 0.8e9],
            ),
            synthetic(
                1_000_000,
                Some(42_000_056),
                &[308e6, 38e6, 64e6, 109e6, 403e6, 79e6, 1.07e9],
            ),
        ]
    }

    fn sim() -> Vec<Vec<Measured>> {
        vec![synthetic(1_000, None, &[19_700_000.0])]
    }

    #[test]
    fn parses_criterion_files() {
        let estimates = serde_json::json!({
            "mean": {"point_estimate": 3.0},
            "median": {
                "point_estimate": 2_000_000.0,
                "confidence_interval": {"lower_bound": 1_900_000.0, "upper_bound": 2_100_000.0}
            }
        });
        let benchmark = serde_json::json!({"throughput": {"Elements": 10000}});
        let m = parse_case(&estimates, &benchmark).unwrap();
        assert_eq!(m, core()[0][1]);
        assert_eq!(m.median_rate(), 5_000_000.0);
        assert_eq!(m.median_mb_per_second(), None);

        let both = serde_json::json!({
            "throughput": {"ElementsAndBytes": {"elements": 64, "bytes": 6496}}
        });
        let m = parse_case(&estimates, &both).unwrap();
        assert_eq!((m.elements, m.bytes), (64, Some(6496)));
        assert_eq!(m.median_rate(), 32_000.0);
        assert_eq!(m.median_mb_per_second(), Some(3.248));

        let no_throughput = serde_json::json!({"throughput": null});
        assert!(parse_case(&estimates, &no_throughput).is_err());
        let bytes_only = serde_json::json!({"throughput": {"Bytes": 10}});
        assert!(parse_case(&estimates, &bytes_only).is_err());
        let no_median = serde_json::json!({"mean": {"point_estimate": 3.0}});
        assert!(parse_case(&no_median, &benchmark).is_err());
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
    }

    #[test]
    fn specs_are_consistent() {
        let all: Vec<_> = specs(Suite::All).map(|spec| spec.bench).collect();
        assert_eq!(all, ["apply", "storage", "sweep"]);
        for (suite, spec) in &SPECS {
            let one: Vec<_> = specs(*suite).map(|s| s.bench).collect();
            assert_eq!(one, [spec.bench]);
            for table in spec.tables {
                // Every summary names a case of its table (`find` panics).
                let measured = synthetic(1, None, &vec![1.0; table.cases.len()]);
                for summary in table.summaries {
                    assert!(table.figure(summary, &measured) > 0.0);
                }
            }
        }
        // Distinct markers, none a prefix of another.
        let markers: Vec<_> = SPECS.iter().map(|(_, s)| s.block.begin).collect();
        for (i, a) in markers.iter().enumerate() {
            for b in &markers[i + 1..] {
                assert!(!a.contains(b) && !b.contains(a), "{a} {b}");
            }
        }
        assert_eq!(STORAGE.block.end, "<!-- bench:storage-table:end -->");
        assert_eq!(STORAGE.tables[2].cases[4].dir(), "export_write_disk");
    }

    #[test]
    fn report_is_stable() {
        assert_eq!(
            text_report(&CORE, &core()),
            "core apply, mixed workload: median commands/s (10000 commands per iteration)\n\
             case         tables   median cmd/s        95% CI of the median\n\
             cap_1M    1,000,000        500,000           400,000 - 526,316\n\
             cap_64           64      5,000,000       4,761,905 - 5,263,158\n\
             ratio large/small (cap_1M/cap_64): 0.100\n"
        );
    }

    #[test]
    fn core_block_is_stable() {
        assert_eq!(
            markdown_block(&CORE, &core(), "2 cores, Test CPU"),
            "| case | tables | median commands/s | 95% CI of the median | median time per 10,000 commands |\n\
             |---|---:|---:|---:|---:|\n\
             | `apply/cap_1M` | 1,000,000 | 500,000 | 400,000 – 526,316 | 20.00 ms |\n\
             | `apply/cap_64` | 64 | 5,000,000 | 4,761,905 – 5,263,158 | 2.00 ms |\n\
             \n\
             Ratio large/small: **0.100**. Machine: 2 cores, Test CPU.\n"
        );
    }

    #[test]
    fn storage_report_is_stable() {
        assert_eq!(
            text_report(&STORAGE, &storage()),
            "WAL append + sync: median frames/s (64 frames per iteration)\n\
             case           median frames/s        95% CI of the median     MB/s  median time\n\
             ram/sync_each          888,889           808,081 - 935,673    90.22     0.072 ms\n\
             ram/sync_64            901,408           819,462 - 948,851    91.49     0.071 ms\n\
             disk/sync_each           2,025               1,841 - 2,132     0.21    31.600 ms\n\
             disk/sync_64            12,355             11,232 - 13,005     1.25     5.180 ms\n\
             ratio ram/disk, sync_each (ram/sync_each / disk/sync_each): 438.889\n\
             ratio ram/disk, sync_64 (ram/sync_64 / disk/sync_64): 72.958\n\
             ratio sync_64/sync_each, disk (disk/sync_64 / disk/sync_each): 6.100\n\
             \n\
             Recovery replay of a 1,000,000-frame WAL: median frames/s (1000000 frames per iteration)\n\
             case             median frames/s        95% CI of the median     MB/s  median time\n\
             engine_open              429,185           390,168 - 451,773    43.81   2330.00 ms\n\
             open_empty             1,760,563       1,600,512 - 1,853,225   179.70    568.00 ms\n\
             read_file             14,705,882     13,368,984 - 15,479,876  1500.99     68.00 ms\n\
             scan                  19,230,769     17,482,517 - 20,242,915  1962.83     52.00 ms\n\
             frames_decode         11,627,907     10,570,825 - 12,239,902  1186.83     86.00 ms\n\
             apply_only               952,381         865,801 - 1,002,506    97.21   1050.00 ms\n\
             apply_prefetched       1,250,000       1,136,364 - 1,315,789   127.58    800.00 ms\n\
             engine_open against the target of 2,000,000 frames/s: 0.215 (not met)\n\
             \n\
             Snapshot of 1,000,000 resources: median resources/s (1000000 resources per iteration)\n\
             case                median res/s        95% CI of the median     MB/s  median time\n\
             export                 3,246,753       2,951,594 - 3,417,635   136.36    308.00 ms\n\
             encode                26,315,789     23,923,445 - 27,700,831  1105.26     38.00 ms\n\
             write/ram             15,625,000     14,204,545 - 16,447,368   656.25     64.00 ms\n\
             write/disk             9,174,312       8,340,284 - 9,657,170   385.32    109.00 ms\n\
             export_write/disk      2,481,390       2,255,809 - 2,611,989   104.22    403.00 ms\n\
             load_file/ram         12,658,228     11,507,480 - 13,324,450   531.65     79.00 ms\n\
             load_restore/ram         934,579           849,618 - 983,768    39.25   1070.00 ms\n\
             ratio ram/disk, write (write/ram / write/disk): 1.703\n"
        );
    }

    #[test]
    fn storage_block_is_stable() {
        assert_eq!(
            markdown_block(&STORAGE, &storage(), "2 cores, Test CPU"),
            "Generated by `cargo xtask bench storage --write`: criterion medians of the latest run. The text below describes the cases and analyses an earlier run.\n\
             \n\
             **WAL append + sync** (`wal_append`):\n\
             \n\
             | case | median frames/s | 95% CI of the median | median MB/s | median time per 64 frames |\n\
             |---|---:|---:|---:|---:|\n\
             | `wal_append/ram/sync_each` | 888,889 | 808,081 – 935,673 | 90.22 | 0.072 ms |\n\
             | `wal_append/ram/sync_64` | 901,408 | 819,462 – 948,851 | 91.49 | 0.071 ms |\n\
             | `wal_append/disk/sync_each` | 2,025 | 1,841 – 2,132 | 0.21 | 31.600 ms |\n\
             | `wal_append/disk/sync_64` | 12,355 | 11,232 – 13,005 | 1.25 | 5.180 ms |\n\
             \n\
             Ratio ram/disk, sync_each: **438.889**. Ratio ram/disk, sync_64: **72.958**. Ratio sync_64/sync_each, disk: **6.100**.\n\
             \n\
             **Recovery replay of a 1,000,000-frame WAL** (`recovery_1M`):\n\
             \n\
             | case | median frames/s | 95% CI of the median | median MB/s | median time per 1,000,000 frames |\n\
             |---|---:|---:|---:|---:|\n\
             | `recovery_1M/engine_open` | 429,185 | 390,168 – 451,773 | 43.81 | 2330.00 ms |\n\
             | `recovery_1M/open_empty` | 1,760,563 | 1,600,512 – 1,853,225 | 179.70 | 568.00 ms |\n\
             | `recovery_1M/read_file` | 14,705,882 | 13,368,984 – 15,479,876 | 1500.99 | 68.00 ms |\n\
             | `recovery_1M/scan` | 19,230,769 | 17,482,517 – 20,242,915 | 1962.83 | 52.00 ms |\n\
             | `recovery_1M/frames_decode` | 11,627,907 | 10,570,825 – 12,239,902 | 1186.83 | 86.00 ms |\n\
             | `recovery_1M/apply_only` | 952,381 | 865,801 – 1,002,506 | 97.21 | 1050.00 ms |\n\
             | `recovery_1M/apply_prefetched` | 1,250,000 | 1,136,364 – 1,315,789 | 127.58 | 800.00 ms |\n\
             \n\
             `recovery_1M/engine_open` against the target of 2,000,000 frames/s: **0.215** (not met).\n\
             \n\
             **Snapshot of 1,000,000 resources** (`snapshot_1M`):\n\
             \n\
             | case | median resources/s | 95% CI of the median | median MB/s | median time per 1,000,000 resources |\n\
             |---|---:|---:|---:|---:|\n\
             | `snapshot_1M/export` | 3,246,753 | 2,951,594 – 3,417,635 | 136.36 | 308.00 ms |\n\
             | `snapshot_1M/encode` | 26,315,789 | 23,923,445 – 27,700,831 | 1105.26 | 38.00 ms |\n\
             | `snapshot_1M/write/ram` | 15,625,000 | 14,204,545 – 16,447,368 | 656.25 | 64.00 ms |\n\
             | `snapshot_1M/write/disk` | 9,174,312 | 8,340,284 – 9,657,170 | 385.32 | 109.00 ms |\n\
             | `snapshot_1M/export_write/disk` | 2,481,390 | 2,255,809 – 2,611,989 | 104.22 | 403.00 ms |\n\
             | `snapshot_1M/load_file/ram` | 12,658,228 | 11,507,480 – 13,324,450 | 531.65 | 79.00 ms |\n\
             | `snapshot_1M/load_restore/ram` | 934,579 | 849,618 – 983,768 | 39.25 | 1070.00 ms |\n\
             \n\
             Ratio ram/disk, write: **1.703**. Machine: 2 cores, Test CPU.\n"
        );
    }

    #[test]
    fn sim_report_and_block_are_stable() {
        assert_eq!(
            text_report(&SIM, &sim()),
            "Simulator, default sweep on one core: median steps/s (1000 steps per iteration)\n\
             case            median steps/s        95% CI of the median  seeds/s  median time\n\
             seed_1000_steps         50,761             46,147 - 53,433     50.8     19.70 ms\n\
             seed_1000_steps against the target of 250,000 steps/s: 0.203 (not met)\n"
        );
        assert_eq!(
            markdown_block(&SIM, &sim(), "2 cores, Test CPU"),
            "Generated by `cargo xtask bench sim --write`: criterion medians of the latest run. The text below describes the case and analyses an earlier run.\n\
             \n\
             | case | median steps/s | 95% CI of the median | seeds/s | median time per 1,000 steps |\n\
             |---|---:|---:|---:|---:|\n\
             | `sim/seed_1000_steps` | 50,761 | 46,147 – 53,433 | 50.8 | 19.70 ms |\n\
             \n\
             `sim/seed_1000_steps` against the target of 250,000 steps/s: **0.203** (not met). Machine: 2 cores, Test CPU.\n"
        );
    }

    #[test]
    fn replaces_only_the_marked_block() {
        let doc = format!("# Title\n\nintro\n\n{BEGIN}\nold table\n{END}\n\n## After\nkept\n");
        let block = markdown_block(&CORE, &core(), "2 cores, Test CPU");
        let updated = replace_block(&doc, &CORE.block, &block).unwrap();
        assert!(updated.starts_with(&format!("# Title\n\nintro\n\n{BEGIN}\n| case |")));
        assert!(updated.ends_with(&format!(
            "Machine: 2 cores, Test CPU.\n{END}\n\n## After\nkept\n"
        )));
        assert!(!updated.contains("old table"));
        assert!(updated
            .contains("| `apply/cap_1M` | 1,000,000 | 500,000 | 400,000 – 526,316 | 20.00 ms |"));
        // Idempotent.
        assert_eq!(
            replace_block(&updated, &CORE.block, &block).unwrap(),
            updated
        );
    }

    #[test]
    fn table_blocks_keep_the_hand_written_section() {
        let doc = "## Storage\n\n<!-- bench:storage:begin -->\n\
                   <!-- bench:storage-table:begin -->\n<!-- bench:storage-table:end -->\n\n\
                   Hand-written prose.\n<!-- bench:storage:end -->\n\n## Simulator\n\n\
                   <!-- bench:sim:begin -->\n<!-- bench:sim-table:begin -->\n\
                   <!-- bench:sim-table:end -->\n\nMore prose.\n<!-- bench:sim:end -->\n";
        let machine = "2 cores, Test CPU";
        let updated = replace_block(
            doc,
            &STORAGE.block,
            &markdown_block(&STORAGE, &storage(), machine),
        )
        .unwrap();
        let updated =
            replace_block(&updated, &SIM.block, &markdown_block(&SIM, &sim(), machine)).unwrap();
        for kept in [
            "## Storage\n\n<!-- bench:storage:begin -->\n<!-- bench:storage-table:begin -->\n",
            "Machine: 2 cores, Test CPU.\n<!-- bench:storage-table:end -->\n\n\
             Hand-written prose.\n<!-- bench:storage:end -->\n\n## Simulator\n\n\
             <!-- bench:sim:begin -->\n<!-- bench:sim-table:begin -->\n",
            "Machine: 2 cores, Test CPU.\n<!-- bench:sim-table:end -->\n\n\
             More prose.\n<!-- bench:sim:end -->\n",
        ] {
            assert!(updated.contains(kept), "{updated}");
        }
        // The section markers are not the table markers.
        assert!(replace_block(doc, &block!("storage"), "x")
            .unwrap()
            .contains("x\n<!-- bench:storage:end -->"));
    }

    #[test]
    fn missing_or_misordered_markers_are_errors() {
        let markers = &CORE.block;
        assert_eq!(
            replace_block("no markers", markers, "x"),
            Err("no `<!-- bench:core:begin -->` marker")
        );
        assert_eq!(
            replace_block(&format!("{END}\n{BEGIN}\n"), markers, "x"),
            Err("no `<!-- bench:core:end -->` marker after the begin marker")
        );
        assert_eq!(
            replace_block(&format!("{BEGIN}\n{BEGIN}\n{END}"), markers, "x"),
            Err("the `<!-- bench:core:begin -->` marker appears twice")
        );
        let doc = format!("{BEGIN}\n{END}\n");
        assert_eq!(
            replace_block(&doc, &SIM.block, "x"),
            Err("no `<!-- bench:sim-table:begin -->` marker")
        );
    }
}
