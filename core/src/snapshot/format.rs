//! The snapshot file format: an [`Image`] in an explicit little-endian
//! layout with a CRC32C over the whole file.
//!
//! ```text
//! magic u32 "ADBS" | version u16 | flags u16 (0) | shard_id u64
//! | last_applied_lsn u64 | last_request_slot u64 | retired_watermark u64
//! | resource_count u32 | lease_count u32 | operation_count u32
//! | resources | leases | operations        (each strictly sorted by id)
//! | crc32c u32                             (over every byte before it)
//! resource  = id u128 | state u8 | has_lease u8 | lease_id u128 | version u64
//! lease     = id u128 | holder u128 | state u8 | epoch u64 | created_lsn u64
//!             | deadline u64 | has_retire u8 | retire_after u64
//!             | member_count u8 | member u128 * member_count
//! operation = id u128 | command_hash u64 | applied_lsn u64 | retire_after u64
//!             | outcome_tag u8 | code u8 | lease_id u128 | epoch u64 | deadline u64
//! ```
//!
//! Decoding validates the checksum first, then every field, and checks the
//! counts against the configuration before allocating for them. Strict id
//! order makes the encoding canonical: an accepted file re-encodes to the
//! same bytes.

use crate::codec::{Reader, ShortRead, Writer};

use crate::command::Bundle;
use crate::config::{Config, BUNDLE_SIZE_LIMIT};
use crate::ids::{HolderId, LeaseEpoch, LeaseId, Lsn, OperationId, ResourceId, Slot};
use crate::machine::Image;
use crate::outcome::{Outcome, OutcomeParts, ResultCode};
use crate::record::{Lease, LeaseState, Operation, Resource, ResourceState};

pub const SNAPSHOT_MAGIC: u32 = u32::from_le_bytes(*b"ADBS");
pub const SNAPSHOT_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 4 + 2 + 2 + 8 * 4 + 4 * 3;
pub const TRAILER_LEN: usize = 4;
const RESOURCE_LEN: usize = 16 + 1 + 1 + 16 + 8;
const LEASE_FIXED_LEN: usize = 16 + 16 + 1 + 8 * 3 + 1 + 8 + 1;
const OPERATION_LEN: usize = 16 + 8 * 3 + 1 + 1 + 16 + 8 + 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot is {len} bytes, shorter than header and trailer")]
    TooShort { len: usize },
    #[error("snapshot checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("bad snapshot magic {found:#010x}")]
    Magic { found: u32 },
    #[error("unsupported snapshot version {found}")]
    Version { found: u16 },
    #[error("snapshot field `{field}` at byte {offset} is invalid")]
    Field { field: &'static str, offset: usize },
    #[error("snapshot holds {count} {table} records, more than the configured {bound}")]
    OverBound {
        table: &'static str,
        count: u32,
        bound: u32,
    },
    #[error("{table} records out of order or duplicated at byte {offset}")]
    Order { table: &'static str, offset: usize },
    #[error("snapshot body ends early: {0}")]
    Truncated(#[from] ShortRead),
    #[error("{extra} unexpected bytes after the last record")]
    TrailingBytes { extra: usize },
}

/// The fewest bytes any record takes.
const MIN_RECORD_LEN: usize = {
    let smaller = if RESOURCE_LEN < LEASE_FIXED_LEN {
        RESOURCE_LEN
    } else {
        LEASE_FIXED_LEN
    };
    if smaller < OPERATION_LEN {
        smaller
    } else {
        OPERATION_LEN
    }
};

pub fn encoded_len(image: &Image) -> usize {
    let members: usize = image.leases.iter().map(|l| l.members.len()).sum();
    HEADER_LEN
        + image.resources.len() * RESOURCE_LEN
        + image.leases.len() * LEASE_FIXED_LEN
        + members * 16
        + image.operations.len() * OPERATION_LEN
        + TRAILER_LEN
}

/// Encodes `image` canonically. Records must already be sorted by id, as
/// [`crate::StateMachine::export`] returns them.
pub fn encode(shard_id: u64, image: &Image) -> Vec<u8> {
    let mut bytes = vec![0u8; encoded_len(image)];
    let mut w = Writer::new(&mut bytes);
    w.u32(SNAPSHOT_MAGIC);
    w.u16(SNAPSHOT_VERSION);
    w.u16(0);
    w.u64(shard_id);
    w.u64(image.last_applied_lsn.0);
    w.u64(image.last_request_slot.0);
    w.u64(image.retired_watermark.0);
    w.u32(image.resources.len() as u32);
    w.u32(image.leases.len() as u32);
    w.u32(image.operations.len() as u32);
    for r in &image.resources {
        w.u128(r.resource_id.0);
        w.u8(r.state as u8);
        w.u8(r.current_lease_id.is_some() as u8);
        w.u128(r.current_lease_id.map_or(0, |l| l.0));
        w.u64(r.version);
    }
    for l in &image.leases {
        w.u128(l.lease_id.0);
        w.u128(l.holder_id.0);
        w.u8(l.state as u8);
        w.u64(l.lease_epoch.0);
        w.u64(l.created_lsn.0);
        w.u64(l.deadline_slot.0);
        w.u8(l.retire_after_slot.is_some() as u8);
        w.u64(l.retire_after_slot.map_or(0, |s| s.0));
        w.u8(l.members.len() as u8);
        for m in l.members.as_slice() {
            w.u128(m.0);
        }
    }
    for o in &image.operations {
        w.u128(o.operation_id.0);
        w.u64(o.command_hash);
        w.u64(o.applied_lsn.0);
        w.u64(o.retire_after_slot.0);
        encode_outcome(&mut w, &o.outcome);
    }
    let body_end = w.position();
    let crc = crc32c::crc32c(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn encode_outcome(w: &mut Writer<'_>, outcome: &Outcome) {
    let parts = outcome.parts();
    w.u8(parts.tag);
    w.u8(parts.code as u8);
    w.u128(parts.lease_id.0);
    w.u64(parts.lease_epoch.0);
    w.u64(parts.deadline_slot.0);
}

/// Decodes and validates a snapshot for `config`. The result still goes
/// through [`crate::StateMachine::restore`], which checks the invariants.
pub fn decode(config: &Config, bytes: &[u8]) -> Result<Image, SnapshotError> {
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        return Err(SnapshotError::TooShort { len: bytes.len() });
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    let stored = u32::from_le_bytes(trailer.try_into().expect("trailer is 4 bytes"));
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(SnapshotError::Checksum { stored, computed });
    }

    let mut r = Reader::new(body);
    let magic = r.u32()?;
    if magic != SNAPSHOT_MAGIC {
        return Err(SnapshotError::Magic { found: magic });
    }
    let version = r.u16()?;
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::Version { found: version });
    }
    let field = |field, r: &Reader<'_>| SnapshotError::Field {
        field,
        offset: r.position(),
    };
    if r.u16()? != 0 {
        return Err(field("flags", &r));
    }
    if r.u64()? != config.shard_id {
        return Err(field("shard_id", &r));
    }
    let last_applied_lsn = Lsn(r.u64()?);
    let last_request_slot = Slot(r.u64()?);
    let retired_watermark = Lsn(r.u64()?);
    let bounded = |table, count: u32, bound: u32| {
        if count > bound {
            Err(SnapshotError::OverBound {
                table,
                count,
                bound,
            })
        } else {
            Ok(count as usize)
        }
    };
    let resource_count = bounded("resource", r.u32()?, config.max_resources)?;
    let lease_count = bounded("lease", r.u32()?, config.max_leases)?;
    let operation_count = bounded("operation", r.u32()?, config.max_operations)?;

    // Capacity follows the bytes present, not just the claimed counts: a
    // short file with a valid checksum claiming a million records must not
    // allocate for them before it turns out to be short.
    let fits = |count: usize, r: &Reader| count.min(r.remaining() / MIN_RECORD_LEN);
    let mut resources = Vec::with_capacity(fits(resource_count, &r));
    for _ in 0..resource_count {
        let start = r.position();
        let resource_id = ResourceId(r.u128()?);
        let state = resource_state(r.u8()?).ok_or_else(|| field("resource.state", &r))?;
        let has_lease = flag(r.u8()?).ok_or_else(|| field("resource.has_lease", &r))?;
        let lease = LeaseId(r.u128()?);
        if !has_lease && lease.0 != 0 {
            return Err(field("resource.lease_id", &r));
        }
        let version = r.u64()?;
        if resources
            .last()
            .is_some_and(|p: &Resource| p.resource_id >= resource_id)
        {
            return Err(SnapshotError::Order {
                table: "resource",
                offset: start,
            });
        }
        resources.push(Resource {
            resource_id,
            state,
            current_lease_id: has_lease.then_some(lease),
            version,
        });
    }

    let mut leases = Vec::with_capacity(fits(lease_count, &r));
    for _ in 0..lease_count {
        let start = r.position();
        let lease_id = LeaseId(r.u128()?);
        let holder_id = HolderId(r.u128()?);
        let state = lease_state(r.u8()?).ok_or_else(|| field("lease.state", &r))?;
        let lease_epoch = LeaseEpoch(r.u64()?);
        let created_lsn = Lsn(r.u64()?);
        let deadline_slot = Slot(r.u64()?);
        let has_retire = flag(r.u8()?).ok_or_else(|| field("lease.has_retire", &r))?;
        let retire = r.u64()?;
        if !has_retire && retire != 0 {
            return Err(field("lease.retire_after_slot", &r));
        }
        let member_count = usize::from(r.u8()?);
        if member_count > BUNDLE_SIZE_LIMIT {
            return Err(field("lease.member_count", &r));
        }
        let mut members = Bundle::EMPTY;
        for _ in 0..member_count {
            members
                .push(ResourceId(r.u128()?))
                .expect("count checked against the bundle limit");
        }
        if leases
            .last()
            .is_some_and(|p: &Lease| p.lease_id >= lease_id)
        {
            return Err(SnapshotError::Order {
                table: "lease",
                offset: start,
            });
        }
        leases.push(Lease {
            lease_id,
            holder_id,
            state,
            lease_epoch,
            created_lsn,
            deadline_slot,
            retire_after_slot: has_retire.then_some(Slot(retire)),
            members,
        });
    }

    let mut operations = Vec::with_capacity(fits(operation_count, &r));
    for _ in 0..operation_count {
        let start = r.position();
        let operation_id = OperationId(r.u128()?);
        let command_hash = r.u64()?;
        let applied_lsn = Lsn(r.u64()?);
        let retire_after_slot = Slot(r.u64()?);
        let outcome = decode_outcome(&mut r)?.ok_or_else(|| field("operation.outcome", &r))?;
        if operations
            .last()
            .is_some_and(|p: &Operation| p.operation_id >= operation_id)
        {
            return Err(SnapshotError::Order {
                table: "operation",
                offset: start,
            });
        }
        operations.push(Operation {
            operation_id,
            command_hash,
            outcome,
            applied_lsn,
            retire_after_slot,
        });
    }
    if r.remaining() != 0 {
        return Err(SnapshotError::TrailingBytes {
            extra: r.remaining(),
        });
    }
    Ok(Image {
        last_applied_lsn,
        last_request_slot,
        retired_watermark,
        resources,
        leases,
        operations,
    })
}

/// `None` when the bytes are not a canonical encoding of an outcome.
fn decode_outcome(r: &mut Reader<'_>) -> Result<Option<Outcome>, ShortRead> {
    let tag = r.u8()?;
    let code = ResultCode::from_u8(r.u8()?);
    let lease_id = LeaseId(r.u128()?);
    let lease_epoch = LeaseEpoch(r.u64()?);
    let deadline_slot = Slot(r.u64()?);
    Ok(code.and_then(|code| {
        Outcome::from_parts(OutcomeParts {
            tag,
            code,
            lease_id,
            lease_epoch,
            deadline_slot,
        })
    }))
}

fn flag(byte: u8) -> Option<bool> {
    match byte {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

fn resource_state(byte: u8) -> Option<ResourceState> {
    Some(match byte {
        0 => ResourceState::Available,
        1 => ResourceState::Reserved,
        2 => ResourceState::Active,
        3 => ResourceState::Revoking,
        _ => return None,
    })
}

fn lease_state(byte: u8) -> Option<LeaseState> {
    Some(match byte {
        0 => LeaseState::Reserved,
        1 => LeaseState::Active,
        2 => LeaseState::Revoking,
        3 => LeaseState::Released,
        4 => LeaseState::Expired,
        5 => LeaseState::Revoked,
        _ => return None,
    })
}
