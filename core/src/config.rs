//! Start-up configuration. Every table, queue and bucket takes its bound from
//! here, once; nothing grows afterwards.

use thiserror::Error;

/// Hard ceiling on `max_bundle_size`: a reserve carries its members inline in
/// a fixed array, so commands stay `Copy` and apply never allocates.
pub const BUNDLE_SIZE_LIMIT: usize = 16;

/// Hard ceiling on any single table's record bound. Table slot indexes are
/// `u32`, and open addressing doubles the slot count.
pub const TABLE_CAPACITY_LIMIT: u32 = 1 << 30;

/// Hard ceiling on the timing wheel's preallocated entries
/// (`(max_ttl_slots + 1) * max_expiration_bucket_len`), so a large TTL
/// cannot ask for an absurd allocation at start-up.
pub const WHEEL_ENTRIES_LIMIT: u64 = 1 << 28;

/// Hard ceiling on every slot window (ttl, retry, history), so that
/// `slot + window` arithmetic has a large, explicit headroom.
pub const SLOT_WINDOW_LIMIT: u64 = 1 << 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// High 64 bits of every lease id this shard creates.
    pub shard_id: u64,
    pub max_resources: u32,
    pub max_leases: u32,
    /// Most resources one reserve may bundle (`1..=BUNDLE_SIZE_LIMIT`).
    pub max_bundle_size: u32,
    /// Bound of the members of all stored leases (live and not yet retired).
    pub max_lease_members: u32,
    pub max_operations: u32,
    pub max_ttl_slots: u64,
    pub max_client_retry_window_slots: u64,
    /// How long a terminal lease stays readable before its records are reused.
    pub history_window_slots: u64,
    /// Most leases per timing-wheel bucket.
    pub max_expiration_bucket_len: u32,
    pub max_expirations_per_tick: u32,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid config: `{field}` {reason}")]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl Config {
    /// A small configuration for tests and simulation; every bound is tight
    /// enough that workloads hit the capacity edges.
    pub const fn small() -> Config {
        Config {
            shard_id: 0,
            max_resources: 64,
            max_leases: 64,
            max_bundle_size: 4,
            max_lease_members: 128,
            max_operations: 256,
            max_ttl_slots: 32,
            max_client_retry_window_slots: 16,
            history_window_slots: 8,
            max_expiration_bucket_len: 8,
            max_expirations_per_tick: 8,
        }
    }

    /// Slots an operation record is retained for: `max_ttl_slots +
    /// max_client_retry_window_slots`.
    pub const fn dedupe_window_slots(&self) -> u64 {
        self.max_ttl_slots + self.max_client_retry_window_slots
    }

    /// Buckets in the timing wheel: one per possible deadline offset
    /// `1..=max_ttl_slots` plus the current slot, so live deadlines never
    /// share a bucket while expiry keeps up.
    pub const fn wheel_slots(&self) -> u64 {
        self.max_ttl_slots + 1
    }

    /// The largest request slot a command may carry: beyond it, adding the
    /// longest window could overflow `u64`.
    pub const fn max_request_slot(&self) -> u64 {
        let ttl = self.max_ttl_slots;
        let dedupe = self.dedupe_window_slots();
        let history = self.history_window_slots;
        let widest = if ttl > dedupe { ttl } else { dedupe };
        let widest = if widest > history { widest } else { history };
        u64::MAX - widest
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        fn bound(field: &'static str, value: u32) -> Result<(), ConfigError> {
            if value == 0 {
                return Err(ConfigError {
                    field,
                    reason: "must be at least 1",
                });
            }
            if value > TABLE_CAPACITY_LIMIT {
                return Err(ConfigError {
                    field,
                    reason: "exceeds TABLE_CAPACITY_LIMIT (2^30)",
                });
            }
            Ok(())
        }
        fn window(field: &'static str, value: u64) -> Result<(), ConfigError> {
            if value > SLOT_WINDOW_LIMIT {
                return Err(ConfigError {
                    field,
                    reason: "exceeds SLOT_WINDOW_LIMIT (2^40)",
                });
            }
            Ok(())
        }

        bound("max_resources", self.max_resources)?;
        bound("max_leases", self.max_leases)?;
        bound("max_bundle_size", self.max_bundle_size)?;
        bound("max_lease_members", self.max_lease_members)?;
        bound("max_operations", self.max_operations)?;
        bound("max_expiration_bucket_len", self.max_expiration_bucket_len)?;
        bound("max_expirations_per_tick", self.max_expirations_per_tick)?;
        if self.max_bundle_size as usize > BUNDLE_SIZE_LIMIT {
            return Err(ConfigError {
                field: "max_bundle_size",
                reason: "exceeds BUNDLE_SIZE_LIMIT (16)",
            });
        }
        if self.max_lease_members < self.max_bundle_size {
            return Err(ConfigError {
                field: "max_lease_members",
                reason: "must be at least max_bundle_size",
            });
        }
        if self.max_ttl_slots == 0 {
            return Err(ConfigError {
                field: "max_ttl_slots",
                reason: "must be at least 1",
            });
        }
        window("max_ttl_slots", self.max_ttl_slots)?;
        window(
            "max_client_retry_window_slots",
            self.max_client_retry_window_slots,
        )?;
        // With no history window a terminal lease would be gone before any
        // read could see it, and the retention audit could not tell a
        // just-ended lease from an overdue one.
        if self.history_window_slots == 0 {
            return Err(ConfigError {
                field: "history_window_slots",
                reason: "must be at least 1",
            });
        }
        window("history_window_slots", self.history_window_slots)?;
        let wheel_entries = self.wheel_slots() * u64::from(self.max_expiration_bucket_len);
        if wheel_entries > WHEEL_ENTRIES_LIMIT {
            return Err(ConfigError {
                field: "max_ttl_slots",
                reason: "(max_ttl_slots + 1) * max_expiration_bucket_len exceeds WHEEL_ENTRIES_LIMIT (2^28)",
            });
        }
        Ok(())
    }
}
