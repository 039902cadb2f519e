//! Subprocesses: run in the workspace root with inherited output, status
//! checked.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// A command line to run from the workspace root.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: OsString,
    /// How the program is shown in messages (`cargo`, not the full path).
    shown: &'static str,
    args: Vec<String>,
    /// Variables set for this command only, shown before it.
    env: Vec<(&'static str, &'static str)>,
    /// Variables removed from its environment, shown as `env -u NAME`.
    unset: Vec<&'static str>,
}

impl Cmd {
    /// `cargo <args>`, using the cargo that runs xtask when there is one.
    pub fn cargo(args: &[&str]) -> Cmd {
        Cmd {
            program: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            shown: "cargo",
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            unset: Vec::new(),
        }
    }

    /// A system program (`apt-get`, a browser) with `args`.
    pub fn program(program: &'static str, args: &[&str]) -> Cmd {
        Cmd {
            program: program.into(),
            shown: program,
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            unset: Vec::new(),
        }
    }

    /// This xtask binary again with `args` (shown as `cargo xtask ...`).
    pub fn xtask(args: &[&str]) -> Cmd {
        Cmd {
            program: std::env::current_exe()
                .map(OsString::from)
                .unwrap_or_else(|_| "xtask".into()),
            shown: "cargo xtask",
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            unset: Vec::new(),
        }
    }

    /// The same command with `key=value` in its environment.
    pub fn with_env(mut self, key: &'static str, value: &'static str) -> Cmd {
        self.env.push((key, value));
        self
    }

    /// The same command with `key` removed from its environment.
    pub fn without_env(mut self, key: &'static str) -> Cmd {
        self.unset.push(key);
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        for key in &self.unset {
            command.env_remove(key);
        }
        command
            .args(&self.args)
            .envs(self.env.iter().copied())
            .current_dir(workspace_root());
        command
    }

    /// Runs to completion with inherited stdio; a non-zero exit is an error.
    pub fn run(&self) -> Result<(), Error> {
        let status = self.command().status().map_err(|source| Error::Spawn {
            command: self.to_string(),
            source,
        })?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Status {
                command: self.to_string(),
                status,
            })
        }
    }

    /// True when it starts and exits 0; all output discarded. For probes
    /// such as `cargo nextest --version`.
    pub fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.unset.is_empty() {
            f.write_str("env")?;
            for key in &self.unset {
                write!(f, " -u {key}")?;
            }
            f.write_str(" ")?;
        }
        for (key, value) in &self.env {
            write!(f, "{key}={value:?} ")?;
        }
        f.write_str(self.shown)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_cargo_not_its_path() {
        let cmd = Cmd::cargo(&["fmt", "--all", "--", "--check"]);
        assert_eq!(cmd.to_string(), "cargo fmt --all -- --check");
    }

    #[test]
    fn shows_what_it_removes_and_sets() {
        let cmd = Cmd::cargo(&["test"])
            .without_env("A")
            .without_env("B")
            .with_env("C", "no");
        assert_eq!(cmd.to_string(), "env -u A -u B C=\"no\" cargo test");
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
