//! `scenario`: RON scenario text (`allocdb_sim::scenario::parse`), the
//! input taken as lossy UTF-8 (invalid sequences become U+FFFD, so byte-level
//! mutations still reach the parser).
//!
//! Properties beyond "no panic":
//! * an accepted scenario can be written back (`scenario::to_ron`);
//! * that text parses again (syntax and semantic checks) into an equal
//!   `Scenario`. The text itself is not expected to round-trip.

use allocdb_sim::scenario::{parse, to_ron, Entry, LoadError};

use super::Outcome;

/// The name errors show for the input.
const SHOWN: &str = "fuzz-input.ron";

pub fn run(input: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(input);
    let scenario = match parse(&text, SHOWN) {
        Ok(scenario) => scenario,
        Err(error) => return Outcome::Rejected(load_error_label(&error)),
    };
    let written = match to_ron(&scenario, &[]) {
        Ok(written) => written,
        Err(error) => panic!("an accepted scenario cannot be written as RON: {error}"),
    };
    let again = match parse(&written, SHOWN) {
        Ok(again) => again,
        Err(error) => panic!("an accepted scenario, written by to_ron, does not parse: {error}"),
    };
    assert!(
        again == scenario,
        "parse -> to_ron -> parse changed the scenario"
    );
    Outcome::Accepted
}

fn load_error_label(error: &LoadError) -> &'static str {
    match error {
        LoadError::Io { .. } => "scenario: io",
        LoadError::Syntax { .. } => "scenario: syntax",
        LoadError::Semantic { .. } => "scenario: semantic",
    }
}

/// See [`super::Target::alloc_bound`]. The densest step text is `Tick,`:
/// 5 bytes for one `Entry` of `E = size_of::<Entry>()` bytes (96 today),
/// so one parsed tree is about `E / 5` bytes per input byte, up to twice
/// that in a `Vec` that grew by doubling and three times while it moves.
/// The peak holds the first tree, the re-written text (a few bytes per
/// input byte) and the second tree: measured at about `2.7 * E / 5` per
/// byte for such texts (`dense_step_lists_fit_the_bound`). The bound is
/// `5 * E / 5 + 16` per byte: under twice the worst seen.
pub(crate) fn bytes_per_input_byte() -> u64 {
    let per_entry = size_of::<Entry>().div_ceil(5) as u64;
    5 * per_entry + 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{last_stats, run_one};
    use crate::targets::Target;

    /// The densest texts stay inside the bound, with room to spare, and the
    /// bound is not absurdly loose for them.
    #[test]
    fn dense_step_lists_fit_the_bound() {
        let bound = Target::Scenario.alloc_bound();
        let ids = format!("Submit(client: 1, operation: 1, command: Reserve(resources: [{}], holder: 1, ttl: 1)),", "1,".repeat(3000));
        for (step, count) in [
            ("Tick,", 4000),
            ("Burst([Tick]),", 1000),
            (
                "Burst([Tick,Tick,Tick,Tick,Tick,Tick,Tick,Tick,Tick,Tick,Tick]),",
                300,
            ),
            ("Restart,", 3000),
            (ids.as_str(), 2),
        ] {
            let text = format!("Scenario(strict: false, steps: [{}])", step.repeat(count));
            let outcome = run_one(Target::Scenario, text.as_bytes());
            assert!(outcome.is_ok(), "{outcome:?}");
            let peak = last_stats().peak_bytes;
            let per_byte = peak / text.len() as u64;
            let shown: String = step.chars().take(24).collect();
            println!(
                "{shown} x{count}: {} bytes, peak {peak} ({per_byte}/byte), bound {} ({}/byte), entry {} bytes",
                text.len(),
                bound.for_len(text.len()),
                bound.per_input_byte,
                size_of::<Entry>()
            );
            assert!(peak <= bound.for_len(text.len()));
        }
    }
}
