//! The sizing model of one run: what memory and ephemeral storage a file needs,
//! and the default limits that keep a run inside the function's 2,048 MB.
//! `tests/tests/infra.rs` holds the template to it.

/// Default object-size limit: 768 MiB (about 14 million rows of `housing.csv`'s
/// length). The object is streamed to `WORK_DIR`, never held in memory; with its
/// outputs it needs [`storage_needed_mb`] there.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 768 * 1024 * 1024;
/// Default row limit: what [`memory_needed_mb`] fits in the function's 2,048 MB.
pub const DEFAULT_MAX_ROWS: usize = 14_000_000;

/// Peak memory of a run, from the CLI's peak RSS on generated files (BENCHMARKS.md:
/// about 170 MB plus 118 bytes a row), rounded up: a fixed part (code, Polars'
/// thread pool, one batch of frames) and, per row, the compact kept columns, the
/// duplicate check's hash and the ratio features kept for their statistics.
pub const MEMORY_BASE_MB: u64 = 200;
pub const MEMORY_PER_ROW_BYTES: u64 = 120;
/// What a run writes to `WORK_DIR` per kept row (Parquet and XGBoost CSV together:
/// 1.52 GB for 10 million rows), rounded up.
pub const OUTPUT_PER_ROW_BYTES: u64 = 160;

/// Memory (MB) for a file of `rows` rows.
pub const fn memory_needed_mb(rows: u64) -> u64 {
    MEMORY_BASE_MB + (rows * MEMORY_PER_ROW_BYTES).div_ceil(1_000_000)
}

/// Ephemeral storage (MB) for an object of `bytes` bytes and `rows` rows: the
/// object and the outputs are there together at the end of a run.
pub const fn storage_needed_mb(bytes: u64, rows: u64) -> u64 {
    (bytes + rows * OUTPUT_PER_ROW_BYTES).div_ceil(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_limits_fit_the_function() {
        assert!(memory_needed_mb(DEFAULT_MAX_ROWS as u64) <= 2_048);
        assert!(storage_needed_mb(DEFAULT_MAX_OBJECT_BYTES, DEFAULT_MAX_ROWS as u64) <= 4_096);
    }
}
