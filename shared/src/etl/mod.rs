//! The ETL core: a housing CSV file in, a directory of outputs out. No AWS: the
//! CLI and the Lambda service ([`service`]) bring the file and take the outputs.
//!
//! The stages, each in its own module, run by [`run`]:
//! 1. [`input`]: whole-file checks: [`scan`] streams the bytes (empty, binary, UTF-8,
//!    line ends, line and quoted-field bounds), then the header (delimiter, columns).
//! 2. [`rows`]: every row parsed against the contract: kept (in compact columns),
//!    quarantined (written to [`quarantine`] at once) or duplicate, streamed from the file.
//! 3. [`clean`]: `total_bedrooms` imputed from group medians.
//! 4. [`features`]: engineered features.
//! 5. [`split`]: train/validation/test by a stable hash of each row.
//! 6. [`outputs`]: Polars frames a batch at a time into Parquet and XGBoost CSV,
//!    the quarantine CSV, the report; their columns are in [`schema`].
//!
//! Around them: [`options`] (what a run is asked to do), [`error`] (how it ends
//! without outputs), [`limits`] (the memory and storage a file needs), [`config`]
//! (the Lambda's environment). A dataset's identity is [`crate::dataset::identity`].
//!
//! Memory is the compact kept columns (about 100 bytes a row) plus one batch; the
//! input is read from disk three times (checks, header, rows) and never held.

pub mod clean;
pub mod config;
pub mod error;
pub mod features;
pub mod input;
pub mod limits;
pub mod options;
pub mod outputs;
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
    outputs::write(
        out_dir,
        dataset_id,
        identity,
        &inspected,
        parsed,
        quarantined,
        options,
    )
}
