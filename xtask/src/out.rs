//! Printing to stdout that survives a reader going away
//! (`cargo xtask sweep | head`): the process ends quietly with the status a
//! shell gives a broken pipe (141) instead of panicking in `println!`.

use std::fmt;
use std::io::{self, Write};

/// The shell's status for a process ended by a broken pipe: 128 + SIGPIPE.
const BROKEN_PIPE_STATUS: i32 = 141;

/// `println!` for xtask output.
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for xtask output.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

pub fn write(args: fmt::Arguments) {
    if let Err(error) = io::stdout().lock().write_fmt(args) {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}
