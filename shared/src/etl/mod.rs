//! The ETL core: a housing CSV file in, a directory of outputs out. No AWS: the
//! CLI and the Lambda service ([`service`]) bring the file and take the outputs.
//!
//! The stages, each in its own module, run by [`run`] in this order:
//! 1. [`input`]: whole-file checks: [`scan`] streams the bytes (empty, binary, UTF-8,
//!    line ends, line and quoted-field bounds), then the header (delimiter, columns).
//! 2. [`rows`]: every row parsed against the contract: kept (in compact columns),
//!    quarantined (written to [`quarantine`] at once) or duplicate, streamed from the
//!    file; each kept row's split ([`split`], a stable hash of the row) is set here.
//! 3. [`clean`]: `total_bedrooms` imputed from group medians.
//!    [`profile`] profiles the contract columns now (the report's statistics, the
//!    drift profile), and the ratio features once the batches have made them.
//! 4. [`features`]: engineered features, 5. the split outputs, 6. the XGBoost
//!    channels: [`batches`] does the three a batch of rows at a time (their
//!    columns are in [`schema`]).
//! 7. [`outputs`]: the report, `profile.json`, and the profile as Model Monitor's
//!    `statistics.json` and `constraints.json` (the thresholds of the drift
//!    policy in [`EtlOptions`]).
//!
//! Around them: [`options`] (what a run is asked to do), [`error`] (how it ends
//! without outputs), [`limits`] (the memory and storage a file needs), [`config`]
//! (the Lambda's environment). A dataset's identity is [`crate::dataset::identity`].
//!
//! Memory is the compact kept columns (about 100 bytes a row) plus one batch; the
//! input is read from disk three times (checks, header, rows) and never held.

pub mod batches;
pub mod clean;
pub mod config;
pub mod error;
pub mod features;
pub mod input;
pub mod limits;
pub mod options;
pub mod outputs;
pub mod profile;
pub mod quarantine;
pub mod rows;
pub mod scan;
pub mod schema;
pub mod service;
pub mod split;
pub mod stats;

pub use error::{EtlError, Rejection, RejectionCode};
pub use options::{CappedPolicy, EtlOptions};
pub use outputs::EtlOutput;
pub use split::SplitRatios;

use crate::dataset::{DatasetId, InputIdentity, OutputKind, COMPLETION_MARKER};
use outputs::Tally;
use profile::Profiler;
use rows::ParsedRows;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

/// Runs the whole ETL on the file at `input` (already identified, see
/// [`crate::dataset::identify`]), writing every output into `out_dir`. The
/// completion marker is left to the caller.
pub fn run(
    input: &Path,
    dataset_id: DatasetId,
    identity: InputIdentity,
    options: &EtlOptions,
    out_dir: &Path,
) -> Result<EtlOutput, EtlError> {
    let io = |e: std::io::Error| EtlError::Internal(format!("reading {}: {e}", input.display()));
    let mut file = File::open(input).map_err(io)?;
    // 1. Whole-file checks, and the row limit.
    let inspected = input::inspect(&mut file)?;
    if let Some(max) = options.max_rows.filter(|max| inspected.rows_bound > *max) {
        return Err(Rejection::new(
            RejectionCode::TooLarge,
            format!(
                "too many rows: {} lines after the header, over the limit of {max} rows (MAX_ROWS, --max-rows)",
                inspected.rows_bound
            ),
        )
        .into());
    }
    file.seek(SeekFrom::Start(inspected.skip)).map_err(io)?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| EtlError::io(format_args!("creating {}", out_dir.display()), &e))?;
    // A rerun into the same directory is complete only when it says so again.
    let _ = std::fs::remove_file(out_dir.join(COMPLETION_MARKER));
    let quarantine_path = out_dir.join(OutputKind::Quarantine.file_name());
    // 2. Every row against the contract: kept, quarantined (at once) or duplicate.
    let mut quarantine = quarantine::Quarantine::create(&quarantine_path, &inspected.header)?;
    let parsed = match rows::parse(file, &inspected, options, &mut quarantine) {
        Ok(parsed) => parsed,
        Err(e) => {
            // Refused (or failed) after all: no partial quarantine is left behind.
            drop(quarantine);
            let _ = std::fs::remove_file(&quarantine_path);
            return Err(e);
        }
    };
    let quarantined = quarantine.finish()?;
    let ParsedRows {
        rows_in,
        rows_duplicate,
        mut kept,
    } = parsed;

    // 3. Cleaning: a missing total_bedrooms takes its group's median.
    let (imputed, imputation) = clean::impute(&mut kept);
    // The contract columns' statistics and drift profile, while they are here.
    let mut profiler = Profiler::of_kept(&kept)?;
    // 4-6. Features, split and the split outputs, a batch at a time.
    let written = batches::write(out_dir, &kept, &imputed, options)?;
    let rows_out = kept.len() as u64;
    drop(kept);
    // The ratio features' statistics and drift profile, from the batches' values.
    profiler.add_ratios(written.ratios)?;
    let (columns, profile) = profiler.finish(dataset_id.clone(), rows_out);

    // 7. The report, the drift profile and its Model Monitor forms.
    let tally = Tally {
        rows_in,
        rows_duplicate,
        rows_out,
        quarantined,
        splits: written.splits,
        ignored_columns: inspected.ignored_columns,
        imputation,
        capped: written.capped,
        columns,
    };
    let report = outputs::report(&dataset_id, identity, options, tally)?;
    outputs::write_documents(out_dir, &report, &profile, &options.drift_policy)?;
    Ok(EtlOutput {
        dataset_id,
        report,
        dir: out_dir.to_path_buf(),
        table_columns: written.table_columns,
    })
}
