//! What names a scoring run and where its files live. A run is named by the
//! content of the file it scores, as a dataset is: the same bytes, however
//! often or under whatever key they arrive, are the same run, the same objects
//! and the same transform job, so a duplicate delivery finds the work done.

use crate::aws::S3Location;
use crate::dataset::{content_name, is_content_name};
use std::fmt;

/// How a run's id begins.
const PREFIX: &str = "sc-";

/// The longest stack name a transform job's name carries whole: SageMaker's
/// 63 characters, less the hyphen and the id (`sc-` and 32 hex digits). The
/// function's role may create only `<stack>-sc-*` jobs, so a longer name is
/// refused by the configuration.
pub const MAX_STACK_NAME: usize = 63 - 1 - 35;

/// `sc-` and the first 128 bits of the scored file's SHA-256, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScoreId(String);

impl ScoreId {
    pub fn from_sha256(sha256_hex: &str) -> Self {
        ScoreId(content_name(PREFIX, sha256_hex))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The transform job's name: SageMaker's rule (letters, digits and
    /// hyphens, at most 63) holds for every id, and one id is one job.
    pub fn transform_job_name(&self, stack: &str) -> String {
        let stack: String = stack
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(63 - 1 - self.0.len())
            .collect();
        let stack = stack.trim_matches('-');
        if stack.is_empty() {
            self.0.clone()
        } else {
            format!("{stack}-{}", self.0)
        }
    }
}

/// Parses an id as the scoring names runs: `sc-` and 32 lower-case hex digits.
impl std::str::FromStr for ScoreId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_content_name(s, PREFIX) {
            Ok(ScoreId(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a scoring run's id (`sc-` and 32 lower-case hex digits)"
            ))
        }
    }
}

impl ScoreId {
    /// The run a transform job of ours is for (its name ends with the id).
    pub fn of_job(job: &str) -> Option<ScoreId> {
        let at = job.rfind(PREFIX)?;
        job[at..].parse().ok()
    }
}

impl fmt::Display for ScoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where every run is: `scores/` at the processed bucket's root, beside the
/// datasets' prefix and `monitoring/`.
pub const SCORES: &str = "scores/";

/// The objects of one run, under `scores/<id>/` of the processed bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreLayout {
    pub bucket: String,
    pub id: ScoreId,
}

/// The transform job's input object's name (its output is this name + `.out`).
pub const TRANSFORM_INPUT: &str = "input.csv";
/// A run's report's name: written last, so its presence means the run is done.
pub const REPORT: &str = "report.json";

impl ScoreLayout {
    fn at(&self, name: &str) -> S3Location {
        S3Location::new(&self.bucket, &format!("{SCORES}{}/{name}", self.id))
    }

    /// The transform job's input: feature rows, no header, no target.
    pub fn transform_input(&self) -> S3Location {
        self.at(&format!("transform/{TRANSFORM_INPUT}"))
    }

    /// Where the transform job writes (`S3OutputPath`).
    pub fn transform_output_prefix(&self) -> S3Location {
        self.at("transform/output/")
    }

    /// The job's answers: SageMaker names them after the input, `.out` added.
    pub fn transform_output(&self) -> S3Location {
        self.at(&format!("transform/output/{TRANSFORM_INPUT}.out"))
    }

    /// The kept rows, in the transform input's order.
    pub fn rows(&self) -> S3Location {
        self.at("rows.csv")
    }

    pub fn quarantine(&self) -> S3Location {
        self.at("quarantine.csv")
    }

    pub fn predictions_parquet(&self) -> S3Location {
        self.at("predictions.parquet")
    }

    pub fn predictions_csv(&self) -> S3Location {
        self.at("predictions.csv")
    }

    /// The run's record: written before the job starts (what the job's end
    /// needs to finish the run: the file, the model, the counts).
    pub fn run(&self) -> S3Location {
        self.at("run.json")
    }

    /// The run's report ([`REPORT`]).
    pub fn report(&self) -> S3Location {
        self.at(REPORT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_run_is_named_by_its_content_and_its_job_fits_sagemakers_rule() {
        let id = ScoreId::from_sha256(SHA);
        assert_eq!(id.as_str(), "sc-0123456789abcdef0123456789abcdef");
        let layout = ScoreLayout {
            bucket: "processed".into(),
            id: id.clone(),
        };
        assert_eq!(
            layout.transform_output().key,
            "scores/sc-0123456789abcdef0123456789abcdef/transform/output/input.csv.out"
        );
        assert!(layout
            .transform_output()
            .key
            .starts_with(&layout.transform_output_prefix().key));
        for stack in ["housing-mlops", "a_b.c", "x".repeat(80).as_str(), "--", ""] {
            let name = id.transform_job_name(stack);
            assert!(name.len() <= 63, "{name}");
            assert!(name.ends_with(id.as_str()), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !name.starts_with('-'),
                "{name}"
            );
        }
        assert_eq!(
            id.transform_job_name("housing-mlops"),
            "housing-mlops-sc-0123456789abcdef0123456789abcdef"
        );
        assert_eq!(
            ScoreId::of_job(&id.transform_job_name("sc-stack")),
            Some(id)
        );
        assert_eq!(ScoreId::of_job("someone-elses-job"), None);
        assert_eq!(ScoreId::of_job("x-sc-0123"), None);
    }
}
