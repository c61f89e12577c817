//! `housing-mlops etl --input <csv> --output <dir>` (also `housing-etl`): the ETL core on a
//! local file.
//!
//! Exit 0: processed (quarantined rows included), outputs and `report.json` in `<dir>`.
//! Exit 2: the file was rejected whole; one line on stderr, `rejection.json` in `<dir>`.
//! Exit 1: anything else (unreadable input, unwritable output).

use shared::dataset::{identify, Source, TrainParts, TrainingFormat, REJECTION_REPORT};
use shared::drift::policy::DriftPolicy;
use shared::etl::{self, CappedPolicy, EtlError, EtlOptions, SplitRatios};
use std::path::PathBuf;
use std::process::ExitCode;

/// Validate, clean, feature and split a California-housing CSV.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The CSV file to process.
    #[arg(long)]
    input: PathBuf,
    /// Directory for the outputs (created if missing).
    #[arg(long)]
    output: PathBuf,
    /// Rows at a census top-code: `flag` (keep, with a flag column) or `quarantine`.
    #[arg(long, default_value = "flag")]
    capped_policy: CappedPolicy,
    /// Train/validation/test percentages.
    #[arg(long, default_value = "80/10/10")]
    split: SplitRatios,
    /// Kept rows per batch written: lower it to use less memory, at the cost of
    /// smaller Parquet row groups.
    #[arg(long, default_value_t = etl::options::BATCH_ROWS)]
    batch_rows: usize,
    /// The train and validation channels for SageMaker's XGBoost: `csv` (label
    /// first, no header) or `parquet` (the same columns, label first, as doubles).
    #[arg(long, default_value = "csv")]
    training_format: TrainingFormat,
    /// The train channel as this many files (1 to 64), rows dealt to them in
    /// turn: one per training instance, for SageMaker's `ShardedByS3Key`.
    #[arg(long, default_value = "1")]
    train_parts: TrainParts,
    /// Refuse (exit 2, `too_large`) a file with more lines after the header
    /// (the Lambda's MAX_ROWS); no limit by default.
    #[arg(long)]
    max_rows: Option<usize>,
    /// The drift policy (YAML, as `infra/drift.yaml`) whose thresholds
    /// `constraints.json` states: the one the deployment's checks run with (the
    /// Lambda's DRIFT_POLICY_FILE). The bundled `infra/drift.yaml` by default.
    #[arg(long)]
    drift_policy: Option<PathBuf>,
}

/// Runs the ETL as `args` say; `name` is the command's name in messages.
pub fn run(args: Args, name: &str) -> ExitCode {
    let fail = |message: String| {
        eprintln!("{name}: {message}");
        ExitCode::from(1)
    };
    let source = Source {
        source: args.input.display().to_string(),
        ..Default::default()
    };
    let (dataset_id, input) = match identify(&args.input, &source) {
        Ok(identified) => identified,
        Err(e) => return fail(format!("cannot read {}: {e}", args.input.display())),
    };
    let drift_policy = match &args.drift_policy {
        None => EtlOptions::default().drift_policy,
        Some(path) => {
            let parsed = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|yaml| {
                    DriftPolicy::parse(&yaml).map_err(|e| format!("{}: {e}", path.display()))
                });
            match parsed {
                Ok(policy) => policy,
                Err(message) => return fail(message),
            }
        }
    };
    let options = EtlOptions {
        capped_policy: args.capped_policy,
        split: args.split,
        batch_rows: args.batch_rows.max(1),
        training_format: args.training_format,
        train_parts: args.train_parts,
        max_rows: args.max_rows,
        drift_policy,
    };
    match etl::run(
        &args.input,
        dataset_id.clone(),
        input.clone(),
        &options,
        &args.output,
    ) {
        Ok(output) => {
            if let Err(e) = output.write_marker() {
                return fail(format!("cannot write to {}: {e}", args.output.display()));
            }
            let r = &output.report;
            println!(
                "{}: {} rows in, {} out, {} quarantined, {} duplicate; dataset {} written to {}",
                args.input.display(),
                r.rows_in,
                r.rows_out,
                r.rows_quarantined,
                r.rows_duplicate,
                output.dataset_id,
                args.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(EtlError::Rejected(rejection)) => {
            let report = rejection.report(dataset_id, input);
            let written = std::fs::create_dir_all(&args.output).and_then(|_| {
                let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
                std::fs::write(args.output.join(REJECTION_REPORT), json)
            });
            eprintln!("{name}: {}: {rejection}", args.input.display());
            if let Err(e) = written {
                eprintln!("{name}: cannot write {}: {e}", REJECTION_REPORT);
            }
            ExitCode::from(2)
        }
        Err(e @ (EtlError::Internal(_) | EtlError::DiskFull(_))) => fail(e.to_string()),
    }
}
