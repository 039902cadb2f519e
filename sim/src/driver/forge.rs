//! A forged snapshot: files a log kept elsewhere would leave, written with
//! the core's own snapshot writer while the engine is down over a
//! directory that holds nothing yet. The file-system model learns of it
//! from the writer's reports like any of the engine's files; the books
//! take it as the snapshot recovery must start from. How a scenario
//! reaches what no run of 2^64 commands can: the end of the LSN space.

use super::{Simulator, StepLine, StepResult};
use crate::oracle::model::Model;
use crate::view::EngineStatus;
use allocdb_core::fs::Directory;
use allocdb_core::machine::Image;
use allocdb_core::snapshot::write_snapshot;
use allocdb_core::{Lsn, Slot};

impl Simulator {
    pub(super) fn forge_snapshot(&mut self, lsn: u64) -> StepResult {
        if self.process.status() != EngineStatus::Down {
            return Err(self.invalid("forge_snapshot needs the engine down (crash first)"));
        }
        if self.model.last_applied_lsn().is_some()
            || self.books.snapshot().is_some()
            || self.books.wal().file_len() > 0
        {
            return Err(self.invalid(
                "forge_snapshot needs files that hold nothing: no command committed, no snapshot",
            ));
        }
        if lsn == 0 {
            return Err(self.invalid("a snapshot as of lsn 0 is no snapshot: give lsn 1 or more"));
        }
        let config = self.config.engine.core;
        let image = Image {
            last_applied_lsn: Lsn(lsn),
            last_request_slot: Slot(0),
            retired_watermark: Lsn(0),
            resources: Vec::new(),
            leases: Vec::new(),
            operations: Vec::new(),
        };
        let replaced = self.named_files();
        let dir = Directory::open(self.disk.path()).map_err(|e| self.io(e))?;
        write_snapshot(&dir, config.shard_id, &image, |_| {
            Ok::<(), std::io::Error>(())
        })
        .map_err(|e| self.io(e))?;
        self.absorb_fs()?;
        let model = Model::empty_at(config, Lsn(lsn));
        let len = self.disk.snapshot_len().map_err(|e| self.io(e))?;
        self.books
            .checkpointed(Lsn(lsn), model.clone(), len, false, replaced);
        self.model = model;
        Ok(StepLine::new(self.say(|| {
            format!("a snapshot of nothing as of lsn {lsn}, {len} bytes")
        })))
    }
}
