//! Running one input: catch a panic, measure the heap, and turn either
//! into a [`Finding`] with a signature that tells distinct bugs apart.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use crate::alloc::{current_stats, measure, AllocStats};
use crate::mutate::fixup;
use crate::targets::{Outcome, Target, FUZZ_CONFIG};

/// An input that broke a property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub target: Target,
    pub kind: FindingKind,
    /// What went wrong, for people: the panic message or the bound broken.
    pub message: String,
    /// Tells distinct bugs apart: where the panic happened (file and line),
    /// or `allocation bound`. Inputs with one signature are one bug.
    pub signature: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// The target panicked: a decoder bug or a property assertion.
    Panic,
    /// The target held more heap at once than its bound allows.
    AllocBound { peak_bytes: u64, bound_bytes: u64 },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.target.name(),
            self.message,
            self.signature
        )
    }
}

thread_local! {
    /// The last panic on this thread, as the capturing hook saw it.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// While alive, panics are recorded (message and location) for
/// [`run_one`] instead of printed. The hook is process-wide: meant for the
/// single-threaded fuzz loop of `cargo xtask fuzz`, not for tests running
/// in parallel. Dropping it restores the default hook.
pub struct QuietPanics(());

impl QuietPanics {
    pub fn install() -> QuietPanics {
        panic::set_hook(Box::new(record_panic));
        QuietPanics(())
    }
}

/// For test binaries, where panics must still be reported as usual: from
/// now on every panic is also recorded for [`run_one`]'s signatures, then
/// handed to the hook that was installed before. Idempotent.
pub fn record_panic_locations() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            record_panic(info);
            previous(info);
        }));
    });
}

fn record_panic(info: &PanicHookInfo<'_>) {
    let location = info.location().map_or_else(
        || "unknown location".to_string(),
        |l| format!("{}:{}", l.file(), l.line()),
    );
    let message = payload_message(info.payload());
    let _ = LAST_PANIC.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some((message, location));
        }
    });
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        let _ = panic::take_hook();
    }
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Runs `target` on `input` with panics caught and the heap measured.
pub fn run_one(target: Target, input: &[u8]) -> Result<Outcome, Finding> {
    LAST_PANIC.with(|last| last.borrow_mut().take());
    let (result, stats) = measure(|| panic::catch_unwind(AssertUnwindSafe(|| target.run(input))));
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(payload) => {
            let (message, location) = LAST_PANIC
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| {
                    let message = payload_message(payload.as_ref());
                    // Without the hook there is no location; the message's
                    // first line stands in for it.
                    let first = message.lines().next().unwrap_or_default().to_string();
                    (message, first)
                });
            return Err(Finding {
                target,
                kind: FindingKind::Panic,
                message,
                signature: format!("panic at {location}"),
            });
        }
    };
    check_bound(target, input.len(), stats)?;
    Ok(outcome)
}

fn check_bound(target: Target, len: usize, stats: AllocStats) -> Result<(), Finding> {
    let bound = target.alloc_bound().for_len(len);
    if stats.peak_bytes <= bound {
        return Ok(());
    }
    Err(Finding {
        target,
        kind: FindingKind::AllocBound {
            peak_bytes: stats.peak_bytes,
            bound_bytes: bound,
        },
        message: format!(
            "held {} heap bytes at once (largest request {}) for a {len}-byte input; the bound is {bound}",
            stats.peak_bytes, stats.largest_request
        ),
        signature: "allocation bound".to_string(),
    })
}

/// [`run_one`] for tests: a finding panics with its description, so a
/// proptest shrinks the input and a plain test fails.
pub fn check(target: Target, input: &[u8]) -> Outcome {
    match run_one(target, input) {
        Ok(outcome) => outcome,
        Err(finding) => panic!("finding: {finding}"),
    }
}

/// [`check`], except that a finding of a [`KNOWN_BUGS`](crate::known::KNOWN_BUGS)
/// entry is returned instead of failing: for property tests, whose random
/// inputs may hit a known bug at any time. Call
/// [`record_panic_locations`] first, or signatures have no locations and
/// nothing matches.
pub fn check_allowing_known(
    target: Target,
    input: &[u8],
) -> Result<Outcome, &'static crate::known::KnownBug> {
    match run_one(target, input) {
        Ok(outcome) => Ok(outcome),
        Err(finding) => match crate::known::known_bug(&finding) {
            Some(bug) => Err(bug),
            None => panic!("finding: {finding}"),
        },
    }
}

/// The peak heap of the last [`run_one`] on this thread.
pub fn last_stats() -> AllocStats {
    current_stats()
}

/// Cuts `input` down to a shorter one with the same finding signature:
/// removes chunks (halving their size down to one byte) while the finding
/// stays, each candidate also tried with the target's checksum repair so
/// removals inside checksummed formats can succeed. At most `max_runs`
/// target runs.
///
/// A snapshot that decodes is first cut record by record (decode, drop one
/// resource, lease or operation, re-encode), since removing bytes from it
/// only breaks its counts.
pub fn minimise(target: Target, input: &[u8], signature: &str, max_runs: u64) -> Vec<u8> {
    let mut runs = 0u64;
    let still_fails = |candidate: &[u8], runs: &mut u64| {
        *runs += 1;
        matches!(run_one(target, candidate), Err(f) if f.signature == signature)
    };
    let mut best = input.to_vec();
    if target == Target::Snapshot {
        best = minimise_snapshot_records(input, max_runs, |candidate| {
            still_fails(candidate, &mut runs)
        });
    }
    let mut chunk = best.len().div_ceil(2).max(1);
    loop {
        let mut at = 0;
        while at < best.len() && runs < max_runs {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if still_fails(&candidate, &mut runs) {
                best = candidate;
                continue;
            }
            let mut repaired = candidate;
            fixup(target, &mut repaired);
            if runs < max_runs && still_fails(&repaired, &mut runs) && repaired.len() < best.len() {
                best = repaired;
                continue;
            }
            at += chunk;
        }
        if chunk == 1 || runs >= max_runs {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    best
}

/// Drops snapshot records one at a time while `still_fails`; the input
/// unchanged when it does not decode.
fn minimise_snapshot_records(
    input: &[u8],
    max_runs: u64,
    mut still_fails: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    use allocdb_core::snapshot::format::{decode, encode};
    let Ok(mut image) = decode(&FUZZ_CONFIG, input) else {
        return input.to_vec();
    };
    let mut runs = 0u64;
    loop {
        let mut progress = false;
        for table in 0..3 {
            let mut at = 0;
            loop {
                let mut candidate = image.clone();
                let removed = match table {
                    0 => (at < candidate.resources.len())
                        .then(|| candidate.resources.remove(at))
                        .is_some(),
                    1 => (at < candidate.leases.len())
                        .then(|| candidate.leases.remove(at))
                        .is_some(),
                    _ => (at < candidate.operations.len())
                        .then(|| candidate.operations.remove(at))
                        .is_some(),
                };
                if !removed || runs >= max_runs {
                    break;
                }
                runs += 1;
                if still_fails(&encode(FUZZ_CONFIG.shard_id, &candidate)) {
                    image = candidate;
                    progress = true;
                } else {
                    at += 1;
                }
            }
        }
        if !progress || runs >= max_runs {
            break;
        }
    }
    encode(FUZZ_CONFIG.shard_id, &image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::known::KNOWN_BUGS;
    use crate::seeds::workspace_root;

    #[test]
    fn a_finding_is_signed_by_where_it_panicked_and_minimises_to_itself() {
        record_panic_locations();
        for bug in KNOWN_BUGS {
            let path = crate::regressions_dir(&workspace_root(), bug.target).join(bug.file);
            let input = std::fs::read(&path).unwrap();
            let Err(finding) = run_one(bug.target, &input) else {
                // Fixed: known.rs is out of date, which its own tests say.
                continue;
            };
            assert_eq!(finding.kind, FindingKind::Panic);
            assert_eq!(finding.signature, bug.signature);
            // The stored inputs are already minimal record-wise.
            let smaller = minimise(bug.target, &input, &finding.signature, 500);
            assert!(smaller.len() <= input.len());
            assert!(
                matches!(run_one(bug.target, &smaller), Err(f) if f.signature == bug.signature)
            );
        }
    }

    #[test]
    fn accepted_inputs_are_not_findings() {
        assert_eq!(
            run_one(Target::Payload, &[]),
            Ok(Outcome::Rejected("payload: empty"))
        );
        assert_eq!(last_stats().peak_bytes, 0);
    }
}
