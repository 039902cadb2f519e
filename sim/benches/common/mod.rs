//! What the hand-rolled benches (`floor`, `phases`) share: their flags.
//! `cargo bench` adds flags of its own (`--bench`), so others are let be.

/// The value given after `flag`, if the flag is given; a flag given
/// without a value is an error.
pub fn flag_value(flag: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|arg| arg != flag);
    args.next()?;
    Some(
        args.next()
            .unwrap_or_else(|| fail(&format!("{flag} takes a value"))),
    )
}

/// Says why the bench cannot run, and exits 2 (bad input).
pub fn fail(why: &str) -> ! {
    eprintln!("error: {why}");
    std::process::exit(2)
}
