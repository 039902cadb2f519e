//! The mix: selections parse, draws stay in range and depend on the seed alone.

use super::*;

#[test]
fn parse_all_none_and_lists() {
    assert_eq!(FaultSelection::parse("all"), Ok(FaultSelection::All));
    assert_eq!(FaultSelection::parse(" none "), Ok(FaultSelection::None));
    assert_eq!(
        FaultSelection::parse("crash, flip_wal_bit,crash"),
        Ok(FaultSelection::Only(BTreeSet::from([
            FaultKind::Crash,
            FaultKind::FlipWalBit
        ])))
    );
    for kind in FaultKind::ALL {
        assert_eq!(
            FaultSelection::parse(kind.name()),
            Ok(FaultSelection::Only(BTreeSet::from([kind])))
        );
        assert_eq!(
            kind.name().parse::<FaultSelection>().unwrap().kinds(),
            vec![kind]
        );
    }
    let every = FaultKind::ALL.map(FaultKind::name).join(",");
    assert_eq!(
        FaultSelection::parse(&every).unwrap().kinds(),
        FaultSelection::All.kinds()
    );
    assert_eq!(
        FaultSelection::parse("tear_last_frame,arm_crash")
            .unwrap()
            .to_string(),
        "arm_crash,tear_last_frame"
    );
    assert!(FaultSelection::None.kinds().is_empty());
}

#[test]
fn parse_rejects_unknown_and_empty_names() {
    let error = FaultSelection::parse("crash,explode").unwrap_err();
    assert_eq!(
        error,
        FaultSelectionError::UnknownKind {
            name: "explode".to_owned()
        }
    );
    let message = error.to_string();
    assert!(message.contains("`explode`"), "{message}");
    for kind in FaultKind::ALL {
        assert!(message.contains(kind.name()), "{message}");
    }
    assert!(message.contains("`all`") && message.contains("`none`"));
    assert!(matches!(
        FaultSelection::parse("crash,,tear_last_frame"),
        Err(FaultSelectionError::Empty { .. })
    ));
    assert!(matches!(
        FaultSelection::parse(""),
        Err(FaultSelectionError::Empty { .. })
    ));
    assert!(matches!(
        FaultSelection::parse("all,crash"),
        Err(FaultSelectionError::UnknownKind { .. })
    ));
}

#[test]
fn same_seed_same_mix_and_description() {
    for seed in 0..50 {
        let a = Mix::swarm(&mut SimRng::new(seed), &FaultSelection::All);
        let b = Mix::swarm(&mut SimRng::new(seed), &FaultSelection::All);
        assert_eq!(a, b);
        assert_eq!(a.describe(), b.describe());
    }
    let distinct: BTreeSet<String> = (0..50)
        .map(|seed| Mix::swarm(&mut SimRng::new(seed), &FaultSelection::All).describe())
        .collect();
    assert!(distinct.len() > 40, "seeds should give different mixes");
}

#[test]
fn describe_is_pinned() {
    let mix = Mix::swarm(&mut SimRng::new(1), &FaultSelection::All);
    let text = mix.describe();
    assert!(text.starts_with("pressure="), "{text}");
    assert!(text.contains(" commands[create="), "{text}");
    assert!(
        text.contains(" burst=") && text.contains(" burst_max="),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(" faults_per_mille["), "{text}");
    let none = Mix::swarm(&mut SimRng::new(1), &FaultSelection::None);
    assert!(none.describe().ends_with(" faults=none"));
}

#[test]
fn a_selection_that_leaves_a_kind_idle_says_what_it_needs() {
    let idle = |text: &str| FaultSelection::parse(text).unwrap().idle_kinds();
    assert!(idle("all").is_empty());
    assert!(idle("none").is_empty());
    assert!(idle("arm_crash,crash,lose_entries,tear_last_frame").is_empty());
    assert_eq!(
        idle("crash,tear_last_frame,flip_wal_bit"),
        ["tear_last_frame never fires without arm_crash: only a process killed after an append leaves a tail to tear"]
    );
    let alone = idle("read_fault,lose_file_data");
    assert_eq!(alone.len(), 2, "{alone:?}");
    assert!(alone[0].starts_with("read_fault never fires without arm_crash or crash"));
    assert!(alone[1].starts_with("lose_file_data never fires without arm_crash and crash"));
}

#[test]
fn selection_bounds_the_faults() {
    for seed in 0..200 {
        let none = Mix::swarm(&mut SimRng::new(seed), &FaultSelection::None);
        assert!(!none.has_faults());
        assert!(none.crash_points.is_empty() && none.persist_failures.is_empty());
        assert!(none.weight(ClientOp::Create) > 0 && none.weight(ClientOp::Reserve) > 0);
        for kind in ActionKind::FAULTS {
            assert!(!none.reachable_kinds().contains(&kind));
        }

        let only = FaultSelection::Only(BTreeSet::from([FaultKind::TearLastFrame]));
        let mix = Mix::swarm(&mut SimRng::new(seed), &only);
        assert_eq!(
            mix.faults.keys().copied().collect::<Vec<_>>(),
            vec![FaultKind::TearLastFrame]
        );

        let all = Mix::swarm(&mut SimRng::new(seed), &FaultSelection::All);
        assert!(all.has_faults());
        assert_eq!(
            all.faults.contains_key(&FaultKind::ArmCrash),
            !all.crash_points.is_empty()
        );
        assert_eq!(
            all.faults.contains_key(&FaultKind::PersistFailure),
            !all.persist_failures.is_empty()
        );
    }
}
