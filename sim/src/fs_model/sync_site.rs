//! The call sites whose syncs a self-test can make the model ignore.

use allocdb_core::fs::Site;

/// A call site whose sync a self-test can make the model ignore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SyncSite {
    WalOpen,
    WalSync,
    WalTruncate,
    WalRewriteTemp,
    WalDirectory,
    SnapshotTemp,
    SnapshotDirectory,
}

impl SyncSite {
    pub const ALL: [SyncSite; 7] = [
        SyncSite::WalOpen,
        SyncSite::WalSync,
        SyncSite::WalTruncate,
        SyncSite::WalRewriteTemp,
        SyncSite::WalDirectory,
        SyncSite::SnapshotTemp,
        SyncSite::SnapshotDirectory,
    ];

    pub const fn site(self) -> Site {
        match self {
            SyncSite::WalOpen => Site::WalOpen,
            SyncSite::WalSync => Site::WalSync,
            SyncSite::WalTruncate => Site::WalTruncate,
            SyncSite::WalRewriteTemp => Site::WalRewriteTemp,
            SyncSite::WalDirectory => Site::WalDirectory,
            SyncSite::SnapshotTemp => Site::SnapshotTemp,
            SyncSite::SnapshotDirectory => Site::SnapshotDirectory,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            SyncSite::WalOpen => "wal_open",
            SyncSite::WalSync => "wal_sync",
            SyncSite::WalTruncate => "wal_truncate",
            SyncSite::WalRewriteTemp => "wal_rewrite_temp",
            SyncSite::WalDirectory => "wal_directory",
            SyncSite::SnapshotTemp => "snapshot_temp",
            SyncSite::SnapshotDirectory => "snapshot_directory",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sync_site_names_a_distinct_core_site() {
        for (i, a) in SyncSite::ALL.iter().enumerate() {
            for b in &SyncSite::ALL[i + 1..] {
                assert_ne!(a.site(), b.site());
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
