//! A run that keeps only its transcript's digest writes, byte for byte,
//! what the same run keeping the text writes: its digest is
//! `transcript_digest` of that text, for passing seeds, seeds with every
//! fault kind, and seeds that fail (the failing step's line and the
//! failure's note included). A run that writes none (a sweep's) runs the
//! same steps to the same end.

use allocdb_sim::driver::SelfTest;
use allocdb_sim::run::{run_seed, SeedReport, SeedSpec};
use allocdb_sim::transcript::{transcript_digest, TranscriptMode};
use allocdb_sim::workload::mix::FaultSelection;

fn run(spec: &SeedSpec, transcript: TranscriptMode) -> SeedReport {
    run_seed(&SeedSpec {
        transcript,
        ..spec.clone()
    })
}

/// The digest-mode run of `spec` reports the digest of the text the
/// text-mode run writes, and runs the same steps to the same end.
fn digests_the_text(spec: &SeedSpec) -> SeedReport {
    let digest = run(spec, TranscriptMode::Digest);
    let text = run(spec, TranscriptMode::Text);
    let written = text.transcript.text().expect("asked for the text");
    // Only a run without a transcript leaves an outcome unsaid.
    assert!(!written.contains("(unsaid)"), "{spec:?}");
    assert_eq!(digest.transcript.text(), None, "{spec:?}");
    assert_eq!(
        digest.transcript.digest(),
        Some(transcript_digest(written)),
        "{spec:?}"
    );
    assert_eq!(text.transcript.digest(), Some(transcript_digest(written)));
    assert_eq!(digest.actions, text.actions, "{spec:?}");
    assert_eq!(
        digest.failure.as_ref().map(ToString::to_string),
        text.failure.as_ref().map(ToString::to_string),
        "{spec:?}"
    );
    // A sweep's run writes nothing, and runs the same steps to the same end.
    let off = run(spec, TranscriptMode::Off);
    assert_eq!(
        (off.transcript.text(), off.transcript.digest()),
        (None, None)
    );
    assert_eq!(off.actions, text.actions, "{spec:?}");
    assert_eq!(
        off.failure.as_ref().map(ToString::to_string),
        text.failure.as_ref().map(ToString::to_string),
        "{spec:?}"
    );
    text
}

#[test]
fn passing_seeds_with_and_without_faults_digest_the_text() {
    let mut fault_lines = 0;
    for seed in [0, 1, 2, 3, 7] {
        for faults in [FaultSelection::All, FaultSelection::None] {
            let text = digests_the_text(&SeedSpec {
                faults,
                ..SeedSpec::new(seed, 1000)
            });
            assert!(text.failure.is_none(), "seed {seed}: {:?}", text.failure);
            let written = text.transcript.text().unwrap_or_default();
            fault_lines += written
                .lines()
                .filter(|l| l.contains(" crash ") || l.contains(" flip "))
                .count();
        }
    }
    assert!(fault_lines > 10, "{fault_lines} crash and flip lines");
}

#[test]
fn failing_seeds_digest_the_text_up_to_the_failure() {
    for selftest in [
        SelfTest::WrongModel,
        SelfTest::SkewRecord,
        SelfTest::MisplaceDamage,
    ] {
        let failed = (0..20)
            .map(|seed| {
                digests_the_text(&SeedSpec {
                    selftest: Some(selftest),
                    ..SeedSpec::new(seed, 1000)
                })
            })
            .filter(|text| text.failure.is_some())
            .inspect(|text| {
                let written = text.transcript.text().unwrap_or_default();
                assert!(written.contains("=> FAILED"), "{selftest:?}");
                assert!(written.contains("\n      failed: oracle"), "{selftest:?}");
            })
            .count();
        assert!(failed > 0, "{selftest:?}: 20 seeds passed");
    }
}
