//! `cargo xtask bench [core] [--write]`: runs the core apply benchmark,
//! reads criterion's median estimates of this run, prints a short stable
//! report and, with `--write`, replaces the figures block of
//! `docs/performance.md` (between [`BEGIN`] and [`END`]).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Error;
use crate::process::{workspace_root, Cmd};

pub const BEGIN: &str = "<!-- bench:core:begin -->";
pub const END: &str = "<!-- bench:core:end -->";
const DOC: &str = "docs/performance.md";
/// The criterion group of `core/benches/apply.rs`.
const GROUP: &str = "apply";

/// One benchmark case of the suite, as `core/benches/apply.rs` names it.
struct Case {
    id: &'static str,
    tables: &'static str,
}

/// Large first, then small: the ratio is `CASES[0] / CASES[1]`.
const CASES: [Case; 2] = [
    Case {
        id: "cap_1M",
        tables: "1,000,000",
    },
    Case {
        id: "cap_64",
        tables: "64",
    },
];

/// Criterion's median (and its 95% confidence interval) of one case.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measured {
    /// Commands per criterion iteration (`Throughput::Elements`).
    elements: u64,
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
}

pub fn run_core(write: bool) -> Result<(), Error> {
    let started = SystemTime::now();
    Cmd::cargo(&[
        "bench",
        "-p",
        "allocdb-core",
        "--bench",
        "apply",
        "--",
        "--noplot",
    ])
    .run()?;
    let criterion = target_dir().join("criterion");
    let measured = CASES
        .iter()
        .map(|case| read_case(&criterion.join(GROUP).join(case.id), started))
        .collect::<Result<Vec<_>, _>>()?;
    println!();
    print!("{}", text_report(&measured));
    if write {
        let path = workspace_root().join(DOC);
        let doc = fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let updated =
            replace_block(&doc, &markdown_block(&measured, &machine())).map_err(|reason| {
                Error::Doc {
                    path: path.clone(),
                    reason,
                }
            })?;
        fs::write(&path, updated).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        println!("updated the figures in {DOC}");
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
    let elements = benchmark
        .pointer("/throughput/Elements")
        .and_then(serde_json::Value::as_u64)
        .filter(|n| *n > 0)
        .ok_or("benchmark.json has no Throughput::Elements")?;
    Ok(Measured {
        elements,
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

fn ratio(measured: &[Measured]) -> f64 {
    measured[0].median_rate() / measured[1].median_rate()
}

fn text_report(measured: &[Measured]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "core apply, mixed workload: median commands/s ({} commands per iteration)",
        measured[0].elements
    );
    let _ = writeln!(
        out,
        "{:<8} {:>10} {:>14} {:>27}",
        "case", "tables", "median cmd/s", "95% CI of the median"
    );
    for (case, m) in CASES.iter().zip(measured) {
        let (low, high) = m.rate_interval();
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>14} {:>27}",
            case.id,
            case.tables,
            thousands(m.median_rate()),
            format!("{} - {}", thousands(low), thousands(high)),
        );
    }
    let _ = writeln!(
        out,
        "ratio large/small ({}/{}): {:.3}",
        CASES[0].id,
        CASES[1].id,
        ratio(measured)
    );
    out
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

fn markdown_block(measured: &[Measured], machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| case | tables | median commands/s | 95% CI of the median | median time per {} commands |",
        thousands(measured[0].elements as f64)
    );
    out.push_str("|---|---:|---:|---:|---:|\n");
    for (case, m) in CASES.iter().zip(measured) {
        let (low, high) = m.rate_interval();
        let _ = writeln!(
            out,
            "| `{GROUP}/{}` | {} | {} | {} – {} | {:.2} ms |",
            case.id,
            case.tables,
            thousands(m.median_rate()),
            thousands(low),
            thousands(high),
            m.median_ns / 1e6,
        );
    }
    let _ = writeln!(
        out,
        "\nRatio large/small: **{:.3}**. Machine: {machine}.",
        ratio(measured)
    );
    out
}

/// Replaces everything between the marker lines, keeping the markers and
/// the rest of the document.
fn replace_block(doc: &str, block: &str) -> Result<String, &'static str> {
    let begin = doc
        .find(BEGIN)
        .ok_or("no `<!-- bench:core:begin -->` marker")?;
    if doc[begin + BEGIN.len()..].contains(BEGIN) {
        return Err("the begin marker appears twice");
    }
    let body_start = begin + BEGIN.len();
    let end = doc[body_start..]
        .find(END)
        .map(|i| body_start + i)
        .ok_or("no `<!-- bench:core:end -->` marker after the begin marker")?;
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

    fn measured() -> Vec<Measured> {
        vec![
            Measured {
                elements: 10_000,
                median_ns: 20_000_000.0,
                lower_ns: 19_000_000.0,
                upper_ns: 25_000_000.0,
            },
            Measured {
                elements: 10_000,
                median_ns: 2_000_000.0,
                lower_ns: 1_900_000.0,
                upper_ns: 2_100_000.0,
            },
        ]
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
        assert_eq!(m, measured()[1]);
        assert_eq!(m.median_rate(), 5_000_000.0);
        let no_throughput = serde_json::json!({"throughput": null});
        assert!(parse_case(&estimates, &no_throughput).is_err());
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
    }

    #[test]
    fn report_is_stable() {
        assert_eq!(
            text_report(&measured()),
            "core apply, mixed workload: median commands/s (10000 commands per iteration)\n\
             case         tables   median cmd/s        95% CI of the median\n\
             cap_1M    1,000,000        500,000           400,000 - 526,316\n\
             cap_64           64      5,000,000       4,761,905 - 5,263,158\n\
             ratio large/small (cap_1M/cap_64): 0.100\n"
        );
    }

    #[test]
    fn replaces_only_the_marked_block() {
        let doc = format!("# Title\n\nintro\n\n{BEGIN}\nold table\n{END}\n\n## After\nkept\n");
        let block = markdown_block(&measured(), "2 cores, Test CPU");
        let updated = replace_block(&doc, &block).unwrap();
        assert!(updated.starts_with(&format!("# Title\n\nintro\n\n{BEGIN}\n| case |")));
        assert!(updated.ends_with(&format!(
            "Machine: 2 cores, Test CPU.\n{END}\n\n## After\nkept\n"
        )));
        assert!(!updated.contains("old table"));
        assert!(updated
            .contains("| `apply/cap_1M` | 1,000,000 | 500,000 | 400,000 – 526,316 | 20.00 ms |"));
        // Idempotent.
        assert_eq!(replace_block(&updated, &block).unwrap(), updated);
    }

    #[test]
    fn missing_or_misordered_markers_are_errors() {
        assert!(replace_block("no markers", "x").is_err());
        assert!(replace_block(&format!("{END}\n{BEGIN}\n"), "x").is_err());
        assert!(replace_block(&format!("{BEGIN}\n{BEGIN}\n{END}"), "x").is_err());
    }
}
