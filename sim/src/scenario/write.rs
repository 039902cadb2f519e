//! [`Scenario`] to RON text: one step per line, under a comment header
//! saying what the file is. Used for repros the sweep and the shrinker
//! write; parsing the text gives back the same scenario.

use super::format::Scenario;
use ron::extensions::Extensions;
use ron::ser::PrettyConfig;
use std::fmt::Write;

/// Nesting depth printed across lines: the scenario, then its step list;
/// each step (however nested) stays on one line.
const MULTILINE_DEPTH: usize = 2;

pub fn to_ron(scenario: &Scenario, comments: &[String]) -> Result<String, ron::Error> {
    let mut text = String::new();
    for comment in comments {
        for line in comment.lines() {
            let _ = writeln!(text, "// {line}");
        }
    }
    let pretty = PrettyConfig::new()
        .depth_limit(MULTILINE_DEPTH)
        .struct_names(true)
        .extensions(Extensions::IMPLICIT_SOME);
    text.push_str(&ron::ser::to_string_pretty(scenario, pretty)?);
    text.push('\n');
    Ok(text)
}
