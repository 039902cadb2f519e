//! The run report in a real browser: a failing self-test seed's report,
//! rendered by headless Chromium from `file://`, must draw without a
//! script error and show the failure, what came before it and a chosen
//! step's transcript line. `cargo xtask browser` (a CI step) installs
//! Debian's chromium when none is found; `ALLOCDB_CHROMIUM` names another.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("ALLOCDB_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the report's browser test needs Chromium: `cargo xtask browser` installs \
                 Debian's chromium (CI runs it), or set ALLOCDB_CHROMIUM"
            )
        })
}

/// The page's DOM after its scripts ran, as headless Chromium dumps it.
fn rendered_dom(page: &Path, hash: &str, profile: &Path) -> String {
    let url = format!("file://{}{hash}", page.display());
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium starts");
    assert!(output.status.success(), "chromium failed: {output:?}");
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// Runs `xtask replay` with `args` and `--html` into a new temporary
/// directory: the directory, the page, and the run's output.
fn replay_report(args: &[&str]) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let dir = tempfile::Builder::new()
        .prefix("xtask-report-")
        .tempdir()
        .expect("a temporary directory");
    let page = dir.path().join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("replay")
        .args(args)
        .arg("--html")
        .arg(&page)
        .current_dir(dir.path())
        .output()
        .expect("xtask starts");
    (dir, page, output)
}

#[test]
fn a_failing_seeds_report_renders_in_a_real_browser() {
    let (dir, page, output) = replay_report(&["--seed", "1", "--selftest", "wrong-model"]);
    assert_eq!(output.status.code(), Some(1), "the self-test fails");
    let transcript = String::from_utf8(output.stdout).expect("UTF-8");
    let line_2 = transcript
        .lines()
        .find(|line| line.trim_start().starts_with("2 slot="))
        .expect("step 2's line")
        .trim_start()
        .to_string();

    let dom = rendered_dom(&page, "#step=2", &dir.path().join("profile"));
    assert!(
        dom.contains("data-rendered=\"yes\""),
        "the script did not finish:\n{dom}"
    );
    assert!(
        !dom.contains("data-script-errors=\"yes\"")
            && dom.contains("<div id=\"script-errors\"></div>"),
        "a script error:\n{dom}"
    );
    // The failure, marked with its step and oracle, and the operation it hit.
    assert!(
        dom.contains("FAILED at step 3: oracle `model_agreement`"),
        "{dom}"
    );
    assert!(
        dom.contains("The operation it hit: op2 of client 5"),
        "{dom}"
    );
    // The selected step's panel shows that step's transcript line.
    let selected = dom
        .split("id=\"selected\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the selected step's panel");
    // The DOM escapes text as HTML.
    let selected = selected
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&");
    assert!(
        selected.contains(&line_2),
        "step 2 not selected: {selected}\nwanted: {line_2}"
    );
}

/// A run of 10,000 steps makes a report the browser draws whole, with a
/// step far along selected, and no script error.
#[test]
fn a_ten_thousand_step_report_renders() {
    let (dir, page, output) =
        replay_report(&["--seed", "3", "--steps", "10000", "--audit-every", "32"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let dom = rendered_dom(&page, "#step=9000", &dir.path().join("profile"));
    assert!(
        dom.contains("data-rendered=\"yes\""),
        "the script did not finish"
    );
    assert!(
        !dom.contains("data-script-errors=\"yes\""),
        "a script error: {}",
        dom.split("id=\"script-errors\">")
            .nth(1)
            .unwrap_or_default()
    );
    assert!(dom.contains("<div id=\"step-9000\" class=\"selected\">"));
    // The page hides this until its script has read a run with no failure.
    assert!(dom.contains("<div id=\"passed\">The run passed.</div>"));
}
