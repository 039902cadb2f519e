//! Resolving what a step names by reference (a lease by the operation
//! that reserved it, a read fence by the applied LSN, a WAL frame or a
//! snapshot byte counted from the end)
//! to the literal form, as the state stands when the step runs. Dispatch
//! and the transcript see only literal forms, so a step written either
//! way runs and reads the same.

use super::{RunError, Simulator};
use crate::action::{Action, FlipTarget, SimCommand};
use crate::fence::Fence;
use crate::lease_ref::{no_such_lease, LeaseRef};
use std::borrow::Cow;

/// A step with its references resolved (most steps have none, and are
/// borrowed as they are).
pub(super) enum Resolved<'a> {
    Ready(Cow<'a, Action>),
    /// The reference names nothing there is (a frame before the first);
    /// the step can have no effect, for this reason.
    Nothing(String),
}

impl Simulator {
    pub(super) fn resolve<'a>(&self, action: &'a Action) -> Result<Resolved<'a>, RunError> {
        if !names_by_reference(action) {
            return Ok(Resolved::Ready(Cow::Borrowed(action)));
        }
        let resolved = match action {
            Action::Submit {
                client,
                operation,
                command,
                behind,
            } => Action::Submit {
                client: *client,
                operation: *operation,
                command: self.resolve_command(command)?,
                behind: *behind,
            },
            Action::Burst(requests) => Action::Burst(
                requests
                    .iter()
                    .map(|request| match self.resolve(request)? {
                        Resolved::Ready(request) => Ok(request.into_owned()),
                        Resolved::Nothing(reason) => Err(self.invalid(reason)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Action::ReadLease {
                lease,
                required_lsn,
            } => Action::ReadLease {
                lease: self.resolve_lease(*lease)?,
                required_lsn: self.resolve_fence(*required_lsn),
            },
            Action::ReadResource {
                resource,
                required_lsn,
            } => Action::ReadResource {
                resource: *resource,
                required_lsn: self.resolve_fence(*required_lsn),
            },
            Action::FlipBit { target, bit } => match self.resolve_flip(*target) {
                Ok(target) => Action::FlipBit { target, bit: *bit },
                Err(reason) => return Ok(Resolved::Nothing(reason)),
            },
            other => other.clone(),
        };
        Ok(Resolved::Ready(Cow::Owned(resolved)))
    }

    /// A fence relative to the applied LSN, at the model's (which the
    /// per-step oracles hold equal to the engine's).
    fn resolve_fence(&self, fence: Option<Fence>) -> Option<Fence> {
        let applied = self.model.last_applied_lsn().map_or(0, |lsn| lsn.0);
        fence.map(|fence| fence.resolve(applied))
    }

    fn resolve_command(&self, command: &SimCommand) -> Result<SimCommand, RunError> {
        let mut command = command.clone();
        if let Some(lease) = command.lease_mut() {
            *lease = self.resolve_lease(*lease)?;
        }
        Ok(command)
    }

    /// A lease by id. A reference to an operation that made no lease is an
    /// author's mistake in a strict run and a lease that does not exist in
    /// a generated one.
    fn resolve_lease(&self, lease: LeaseRef) -> Result<LeaseRef, RunError> {
        match (self.model.lease_names().id_of(lease), lease) {
            (Some(id), _) => Ok(LeaseRef::Id(id)),
            (None, LeaseRef::Of { op }) if self.config.strict => {
                Err(self.invalid(format!("lease `{lease}`: operation {op} has made no lease")))
            }
            (None, _) => Ok(LeaseRef::Id(
                no_such_lease(self.config.engine.core.shard_id).0,
            )),
        }
    }

    fn resolve_flip(&self, target: FlipTarget) -> Result<FlipTarget, String> {
        match target {
            FlipTarget::WalFrameFromEnd { back, byte } => {
                let frames = self.books.wal().frames().len();
                frames
                    .checked_sub(1 + back as usize)
                    .and_then(|frame| u32::try_from(frame).ok())
                    .map(|frame| FlipTarget::WalFrame { frame, byte })
                    .ok_or_else(|| format!("ignored: the WAL has {frames} frames"))
            }
            FlipTarget::WalFrameTail { back, from_end } => {
                let frames = self.books.wal().frames();
                let Some(frame) = frames.len().checked_sub(1 + back as usize) else {
                    return Err(format!("ignored: the WAL has {} frames", frames.len()));
                };
                let len = frames[frame].len;
                len.checked_sub(1 + u64::from(from_end))
                    .and_then(|byte| u32::try_from(byte).ok())
                    .map(|byte| FlipTarget::WalFrame {
                        frame: frame as u32,
                        byte,
                    })
                    .ok_or_else(|| format!("ignored: frame {frame} has {len} bytes"))
            }
            FlipTarget::SnapshotFromEnd { back } => {
                let Some(snapshot) = self.books.snapshot() else {
                    return Err("ignored: no snapshot".to_string());
                };
                snapshot
                    .len
                    .checked_sub(1 + u64::from(back))
                    .and_then(|byte| u32::try_from(byte).ok())
                    .map(|byte| FlipTarget::Snapshot { byte })
                    .ok_or_else(|| format!("ignored: the snapshot has {} bytes", snapshot.len))
            }
            literal => Ok(literal),
        }
    }
}

/// True when `action` names something by reference.
fn names_by_reference(action: &Action) -> bool {
    let by_reference = |lease: Option<LeaseRef>| matches!(lease, Some(LeaseRef::Of { .. }));
    let relative = |fence: Option<Fence>| matches!(fence, Some(Fence::Applied { .. }));
    match action {
        Action::Submit { command, .. } => by_reference(command.lease()),
        Action::Burst(requests) => requests.iter().any(names_by_reference),
        Action::ReadLease {
            lease,
            required_lsn,
        } => by_reference(Some(*lease)) || relative(*required_lsn),
        Action::ReadResource { required_lsn, .. } => relative(*required_lsn),
        Action::FlipBit { target, .. } => matches!(
            target,
            FlipTarget::WalFrameFromEnd { .. }
                | FlipTarget::WalFrameTail { .. }
                | FlipTarget::SnapshotFromEnd { .. }
        ),
        _ => false,
    }
}
