//! The windows and bounds the model works out from the `Config` fields
//! itself, as `docs/semantics.md` states them (never through the core's
//! helpers, so a wrong helper in the core cannot be shared). Configs are
//! validated before a model exists; the arithmetic saturates anyway, so a
//! bad one is a disagreement, never a panic.

use allocdb_core::Config;

/// Slots an operation record is kept: the longest lease plus the longest
/// a client may keep retrying.
pub fn dedupe_window(config: &Config) -> u64 {
    config
        .max_ttl_slots
        .saturating_add(config.max_client_retry_window_slots)
}

/// The last slot a request may carry: every window opened at it must end
/// at a slot that exists.
pub fn last_request_slot(config: &Config) -> u64 {
    let widest = config
        .max_ttl_slots
        .max(dedupe_window(config))
        .max(config.history_window_slots);
    u64::MAX - widest
}

/// Deadlines that share an expiry bucket are those equal modulo this:
/// one bucket per deadline offset 1..=max_ttl and one for the current slot.
pub fn expiry_buckets(config: &Config) -> u64 {
    config.max_ttl_slots.saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_of_the_small_config() {
        // Config::small(): max_ttl 32, retry window 16, history 8.
        let config = Config::small();
        assert_eq!(dedupe_window(&config), 48);
        assert_eq!(last_request_slot(&config), u64::MAX - 48);
        assert_eq!(expiry_buckets(&config), 33);
    }

    #[test]
    fn the_history_window_can_be_the_widest() {
        let config = Config {
            history_window_slots: 1_000,
            ..Config::small()
        };
        assert_eq!(last_request_slot(&config), u64::MAX - 1_000);
    }
}
