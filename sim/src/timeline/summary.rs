//! A sweep's summary as one HTML page: what the sweep printed, every
//! exercised count and every coverage probe (reached or not, required or
//! not and why) as log-scaled bars, and each failure with a link to its
//! report. Plain HTML and CSS: nothing to run, nothing fetched.

use crate::coverage::Probe;
use std::fmt::Write;

/// One failed seed, as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepFailure {
    pub seed: u64,
    pub oracle: Option<String>,
    pub message: String,
    pub replay: String,
    /// The report page, relative to the summary page.
    pub report: Option<String>,
    pub repro: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SweepPage<'a> {
    /// The sweep's first line (seeds, steps, faults, jobs).
    pub title: String,
    /// The summary lines the sweep printed (verdict, rates, CPU).
    pub lines: Vec<String>,
    /// Every exercised count, `name count`, as the summary prints them.
    pub exercised: Vec<String>,
    pub probes: &'a [Probe],
    pub failures: Vec<SweepFailure>,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A bar `count` long on a log scale that reaches `max` at full width.
fn bar(count: u64, max: u64) -> f64 {
    let scale = ((max + 1) as f64).log10().max(1e-9);
    100.0 * ((count + 1) as f64).log10() / scale
}

/// A table of `(name, count, class, note)` rows with log-scaled bars.
fn table(out: &mut String, rows: &[(String, u64, &str, String)]) {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    out.push_str("<table>\n");
    for (name, count, class, note) in rows {
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"name\">{}</td><td class=\"count\">{count}</td>\
             <td class=\"bar\"><div style=\"width:{:.1}%\"></div></td><td class=\"note\">{}</td></tr>",
            escape(name),
            bar(*count, max),
            escape(note)
        );
    }
    out.push_str("</table>\n");
}

/// The page's text.
pub fn render_sweep_page(page: &SweepPage) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>AllocDB sweep</title>\n<style>\n\
         body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }\n\
         pre { background: #f6f6f6; padding: 8px; }\n\
         table { border-collapse: collapse; margin-bottom: 16px; }\n\
         td { padding: 1px 8px; vertical-align: middle; }\n\
         td.name { font-family: ui-monospace, monospace; }\n\
         td.count { text-align: right; font-family: ui-monospace, monospace; }\n\
         td.bar { width: 320px; } td.bar div { height: 9px; background: #5c6bc0; }\n\
         tr.unreached td.name, tr.unreached td.count { color: #c62828; font-weight: bold; }\n\
         tr.optional td.bar div { background: #bdbdbd; }\n\
         td.note { color: #666; font-size: 12px; }\n\
         .failure { border-left: 4px solid #c62828; background: #fdecea; padding: 6px 10px; margin-bottom: 8px; }\n\
         </style>\n</head>\n<body>\n",
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&page.title));
    let _ = writeln!(out, "<pre>{}</pre>", escape(&page.lines.join("\n")));

    let _ = writeln!(
        out,
        "<h2 id=\"failures\">Failures ({})</h2>",
        page.failures.len()
    );
    if page.failures.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for failure in &page.failures {
        out.push_str("<div class=\"failure\">");
        let _ = write!(out, "<b>seed {}</b>", failure.seed);
        if let Some(oracle) = &failure.oracle {
            let _ = write!(out, ", oracle <code>{}</code>", escape(oracle));
        }
        let _ = write!(out, "<br>{}", escape(&failure.message));
        if let Some(report) = &failure.report {
            let _ = write!(out, "<br><a href=\"{}\">report</a>", escape(report));
        }
        let _ = write!(out, "<br>replay: <code>{}</code>", escape(&failure.replay));
        if let Some(repro) = &failure.repro {
            let _ = write!(out, "<br>repro: <code>{}</code>", escape(repro));
        }
        out.push_str("</div>\n");
    }

    let required = page.probes.iter().filter(|p| p.required()).count();
    let reached = page
        .probes
        .iter()
        .filter(|p| p.required() && p.count > 0)
        .count();
    let _ = writeln!(
        out,
        "<h2 id=\"coverage\">Coverage: {reached} of {required} required probes reached</h2>"
    );
    let probes: Vec<(String, u64, &str, String)> = page
        .probes
        .iter()
        .map(|probe| {
            let (class, note) = match (probe.why_not, probe.count) {
                (None, 0) => ("unreached", "UNREACHED".to_string()),
                (None, _) => ("required", String::new()),
                (Some(why), _) => ("optional", format!("not required: {why}")),
            };
            (probe.name.clone(), probe.count, class, note)
        })
        .collect();
    table(&mut out, &probes);

    out.push_str("<h2 id=\"exercised\">Exercised</h2>\n");
    let exercised: Vec<(String, u64, &str, String)> = page
        .exercised
        .iter()
        .map(|line| match line.rsplit_once(' ') {
            Some((name, count)) => (
                name.to_string(),
                count.parse().unwrap_or(0),
                "required",
                String::new(),
            ),
            None => (line.clone(), 0, "optional", String::new()),
        })
        .collect();
    table(&mut out, &exercised);
    out.push_str("</body>\n</html>\n");
    out
}
