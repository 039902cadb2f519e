//! Writes a run's timeline where the user asked: the HTML report
//! (`--html`) and the Chrome trace (`--trace`).

use crate::error::Error;
use allocdb_sim::timeline::{render_html, render_trace, Timeline};
use std::path::{Path, PathBuf};

/// Where a run's timeline goes.
#[derive(Clone, Debug, Default)]
pub struct ReportPaths {
    pub html: Option<PathBuf>,
    pub trace: Option<PathBuf>,
}

impl ReportPaths {
    pub fn wanted(&self) -> bool {
        self.html.is_some() || self.trace.is_some()
    }

    /// Writes each file asked for, and says where on stderr.
    pub fn write(&self, timeline: &Timeline) -> Result<(), Error> {
        if let Some(path) = &self.html {
            write_file(path, &render_html(timeline))?;
            eprintln!("report: {}", path.display());
        }
        if let Some(path) = &self.trace {
            write_file(path, &render_trace(timeline))?;
            eprintln!(
                "trace:  {} (open it in https://ui.perfetto.dev)",
                path.display()
            );
        }
        Ok(())
    }
}

/// Writes `text` to `path`, making its directory first.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    let write = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    std::fs::write(path, text).map_err(write)
}
