//! The promotion stages (`infra/stages.yaml`): for each stage, in order, the
//! endpoint and how a new model reaches it. Parsed and validated at cold start;
//! every problem is reported at once, each with where it is.

use super::fleet::{Autoscaling, Serverless};
use super::schedule::Active;
use super::shadow::ShadowTest;
use crate::config::{Env, Problems};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The stages file bundled into the function: `infra/stages.yaml`.
pub const BUNDLED: &str = include_str!("../../../infra/stages.yaml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    /// Quality gate: a candidate's validation RMSE may exceed the serving
    /// model's by at most this fraction (0.02 = 2 %).
    pub rmse_tolerance: f64,
    /// In promotion order: an approval deploys to the first. Read through
    /// [`Stages::iter`], [`Stages::get`], [`Stages::next`] and friends.
    stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    /// The SageMaker endpoint this stage serves from.
    pub endpoint: String,
    #[serde(default = "default_variant")]
    pub variant: String,
    /// The instances the variant runs on (with `instance_count`); absent on a
    /// serverless stage. Read through [`Stage::fleet`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// How many instances a new endpoint starts with (within `autoscaling`'s
    /// range when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<u32>,
    /// Target-tracking autoscaling of the instances (Application Auto Scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// A serverless endpoint instead of instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless: Option<Serverless>,
    /// Share of requests captured to S3 (0 turns capture off).
    #[serde(default)]
    pub data_capture_percent: u32,
    pub deployment: Deployment,
    /// CloudWatch alarms that roll a deployment back while it shifts traffic.
    #[serde(default)]
    pub alarms: Vec<String>,
    /// `true`: only a `PromoteModel` command reaches this stage. `false`: the
    /// package is also promoted here when the previous stage reports InService.
    #[serde(default)]
    pub manual_gate: bool,
    /// How long the old fleet stays after the shift, for a fast rollback
    /// (SageMaker's `TerminationWaitInSeconds`, 0-3600; default 0).
    #[serde(default)]
    pub termination_wait_seconds: u32,
    /// The whole deployment's time limit (`MaximumExecutionTimeoutInSeconds`,
    /// 600-28800, above every wait); by default the waits plus an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deployment_seconds: Option<u32>,
    /// When the stage serves; outside it, its endpoint sleeps (deleted, and
    /// recreated when the window opens). Never on the last stage (prod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<Active>,
    /// A candidate runs beside the serving model on a copy of the stage's
    /// requests, and is judged against these limits, before it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowTest>,
}

/// SageMaker's limits on a blue/green deployment's duration.
const MIN_DEPLOYMENT_SECONDS: u32 = 600;
const MAX_DEPLOYMENT_SECONDS: u32 = 28_800;
const MAX_TERMINATION_WAIT_SECONDS: u32 = 3600;
/// What a deployment's default time limit allows beyond its waits (new fleet up).
const PROVISIONING_SECONDS: u32 = 3600;

impl Stage {
    /// Every wait of a deployment to this stage: the baking after each traffic
    /// shift, and the old fleet's termination wait.
    pub fn total_wait_seconds(&self) -> u32 {
        self.deployment.shifts() * self.deployment.wait_seconds() + self.termination_wait_seconds
    }

    /// The deployment's time limit: as configured, or the waits plus an hour
    /// (within SageMaker's 600-28800 s).
    pub fn deployment_timeout_seconds(&self) -> u32 {
        self.max_deployment_seconds.unwrap_or_else(|| {
            (self.total_wait_seconds() + PROVISIONING_SECONDS)
                .clamp(MIN_DEPLOYMENT_SECONDS, MAX_DEPLOYMENT_SECONDS)
        })
    }
}

fn default_variant() -> String {
    "AllTraffic".into()
}

/// How traffic moves to the new fleet (SageMaker blue/green deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Deployment {
    /// All traffic at once, then `wait_seconds` of baking with the alarms watched.
    AllAtOnce { wait_seconds: u32 },
    /// `percent` of capacity first, `wait_seconds` of baking, then the rest.
    Canary { percent: u32, wait_seconds: u32 },
    /// `step_percent` of capacity at a time, `wait_seconds` between steps.
    Linear {
        step_percent: u32,
        wait_seconds: u32,
    },
}

impl Deployment {
    /// How many times traffic moves (each followed by `wait_seconds` of baking).
    pub fn shifts(&self) -> u32 {
        match *self {
            Deployment::AllAtOnce { .. } => 1,
            Deployment::Canary { .. } => 2,
            Deployment::Linear { step_percent, .. } => 100u32.div_ceil(step_percent.max(1)),
        }
    }

    pub fn wait_seconds(&self) -> u32 {
        match *self {
            Deployment::AllAtOnce { wait_seconds }
            | Deployment::Canary { wait_seconds, .. }
            | Deployment::Linear { wait_seconds, .. } => wait_seconds,
        }
    }
}

impl fmt::Display for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deployment::AllAtOnce { wait_seconds } => {
                write!(f, "all-at-once, {wait_seconds}s baking")
            }
            Deployment::Canary {
                percent,
                wait_seconds,
            } => write!(f, "canary {percent}%, {wait_seconds}s baking"),
            Deployment::Linear {
                step_percent,
                wait_seconds,
            } => write!(f, "linear {step_percent}% steps, {wait_seconds}s apart"),
        }
    }
}

/// Every problem in a stages file.
fn invalid(list: Vec<String>) -> Problems {
    Problems::new("stages file", list)
}

/// SageMaker's limit on endpoint, endpoint-config and model names.
pub const MAX_NAME_LEN: usize = 63;
/// SageMaker's limits on blue/green traffic shifting.
const MAX_WAIT_SECONDS: u32 = 3600;

/// A SageMaker resource name: letters, digits and single or repeated hyphens,
/// starting and ending with a letter or digit, at most 63 characters.
/// `STAGES_FILE` (unset: the bundled `infra/stages.yaml`), read and validated;
/// `None` when it cannot be, every problem reported to `env`.
pub fn read_stages<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Stages> {
    env.file("STAGES_FILE", ("infra/stages.yaml", BUNDLED), |yaml| {
        Stages::parse(yaml).map_err(|e| e.list)
    })
}

pub fn is_valid_sagemaker_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Stages {
    /// Parses and validates a stages file.
    pub fn parse(yaml: &str) -> Result<Stages, Problems> {
        let stages: Stages =
            serde_norway::from_str(yaml).map_err(|e| invalid(vec![e.to_string()]))?;
        stages.validate()?;
        Ok(stages)
    }

    pub fn validate(&self) -> Result<(), Problems> {
        let mut errors = Vec::new();
        if !(0.0..=1.0).contains(&self.rmse_tolerance) {
            errors.push(format!(
                "rmse_tolerance: {} must be between 0 and 1 (a fraction of the serving model's RMSE)",
                self.rmse_tolerance
            ));
        }
        if self.stages.is_empty() {
            errors.push("stages: at least one stage is needed".into());
        }
        let mut names = BTreeSet::new();
        let mut endpoints = BTreeSet::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let mut problem =
                |what: String| errors.push(format!("stages[{i}] ({}): {what}", stage.name));
            if stage.name.is_empty()
                || !stage
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                problem("name: use lower-case letters, digits and '-'".into());
            }
            if !names.insert(stage.name.as_str()) {
                problem("name: used by an earlier stage".into());
            }
            if !is_valid_sagemaker_name(&stage.endpoint) {
                problem(format!(
                    "endpoint: {:?} is not a SageMaker endpoint name (1-63 letters, digits, '-')",
                    stage.endpoint
                ));
            }
            if !endpoints.insert(stage.endpoint.as_str()) {
                problem(format!(
                    "endpoint: {} is used by an earlier stage",
                    stage.endpoint
                ));
            }
            if !is_valid_sagemaker_name(&stage.variant) {
                problem(format!(
                    "variant: {:?} is not a valid variant name",
                    stage.variant
                ));
            }
            for what in super::fleet::problems(stage) {
                problem(what);
            }
            if stage.data_capture_percent > 100 {
                problem(format!(
                    "data_capture_percent: {} is above 100",
                    stage.data_capture_percent
                ));
            }
            match stage.deployment {
                Deployment::Canary { percent, .. } if !(1..=50).contains(&percent) => problem(
                    format!("deployment.percent: {percent} is outside 1-50 (SageMaker's canary limit)"),
                ),
                Deployment::Linear { step_percent, .. } if !(10..=50).contains(&step_percent) => {
                    problem(format!(
                        "deployment.step_percent: {step_percent} is outside 10-50 (SageMaker's linear limit)"
                    ))
                }
                _ => {}
            }
            if stage.deployment.wait_seconds() > MAX_WAIT_SECONDS {
                problem(format!(
                    "deployment.wait_seconds: {} is above SageMaker's {MAX_WAIT_SECONDS}",
                    stage.deployment.wait_seconds()
                ));
            }
            let shifts_gradually = !matches!(stage.deployment, Deployment::AllAtOnce { .. });
            if shifts_gradually && stage.alarms.is_empty() {
                problem("alarms: a canary or linear deployment needs at least one alarm to roll back on".into());
            }
            for alarm in &stage.alarms {
                if alarm.is_empty() || alarm.len() > 255 {
                    problem(format!(
                        "alarms: {alarm:?} is not a CloudWatch alarm name (1-255 characters)"
                    ));
                }
            }
            if stage.termination_wait_seconds > MAX_TERMINATION_WAIT_SECONDS {
                problem(format!(
                    "termination_wait_seconds: {} is above SageMaker's {MAX_TERMINATION_WAIT_SECONDS}",
                    stage.termination_wait_seconds
                ));
            }
            let timeout = stage.deployment_timeout_seconds();
            if !(MIN_DEPLOYMENT_SECONDS..=MAX_DEPLOYMENT_SECONDS).contains(&timeout) {
                problem(format!(
                    "max_deployment_seconds: {timeout} is outside SageMaker's {MIN_DEPLOYMENT_SECONDS}-{MAX_DEPLOYMENT_SECONDS}"
                ));
            } else if timeout <= stage.total_wait_seconds() {
                problem(format!(
                    "max_deployment_seconds: {timeout} does not exceed the deployment's waits ({} s: baking after each of {} shifts, and the termination wait)",
                    stage.total_wait_seconds(),
                    stage.deployment.shifts()
                ));
            }
            if stage.active.is_some() && i + 1 == self.stages.len() {
                problem("active: the last stage serves production; it may not sleep".into());
            }
            // The window itself where it is acted on (`schedule`).
            #[cfg(feature = "schedule")]
            if let Some(Err(list)) = stage.active.as_ref().map(Active::window) {
                for what in list {
                    problem(what);
                }
            }
            if let Some(shadow) = &stage.shadow {
                for what in shadow.problems() {
                    problem(what);
                }
                if stage.is_serverless() {
                    problem("shadow: a shadow test runs on instances (serverless endpoints capture no requests to compare)".into());
                }
                if stage.active.is_some() {
                    problem("shadow: a stage that sleeps would end its shadow tests; remove active or shadow".into());
                }
            }
            if i == 0 && stage.manual_gate {
                problem("manual_gate: the first stage is deployed by registry approval; its gate is the approval".into());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(errors))
        }
    }

    pub fn first(&self) -> &Stage {
        &self.stages[0]
    }

    /// Every stage, in promotion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Stage> {
        self.stages.iter()
    }

    /// How many stages there are (at least one).
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Never: a valid stages file has at least one stage.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// The stage at `index` in promotion order.
    ///
    /// # Panics
    /// When `index` is not a stage's (indices come from [`Stages::find`]).
    pub fn at(&self, index: usize) -> &Stage {
        &self.stages[index]
    }

    /// The stage called `name`.
    pub fn get(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// A stage and its position, by name.
    pub fn find(&self, name: &str) -> Option<(usize, &Stage)> {
        self.stages.iter().enumerate().find(|(_, s)| s.name == name)
    }

    /// The stage after the one at `index`, if any.
    pub fn next(&self, index: usize) -> Option<&Stage> {
        self.stages.get(index + 1)
    }

    /// The stages' names, in promotion order.
    pub fn names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name.as_str()).collect()
    }

    /// The stage served by an endpoint (SageMaker compares names without case).
    pub fn by_endpoint(&self, endpoint: &str) -> Option<(usize, &Stage)> {
        self.stages
            .iter()
            .enumerate()
            .find(|(_, s)| s.endpoint.eq_ignore_ascii_case(endpoint))
    }

    /// The same stages with each endpoint renamed by `name` (a local stack
    /// names them after itself), validated again.
    pub fn with_endpoints(mut self, name: impl Fn(&Stage) -> String) -> Result<Stages, Problems> {
        for stage in &mut self.stages {
            stage.endpoint = name(stage);
        }
        self.validate()?;
        Ok(self)
    }

    /// The same stages, none of them ever asleep (`active` removed): the
    /// local stack and the tests run the chain at any hour this way.
    pub fn always_awake(mut self) -> Stages {
        for stage in &mut self.stages {
            stage.active = None;
        }
        self
    }

    /// Every alarm any stage names (the template creates them).
    pub fn alarms(&self) -> BTreeSet<&str> {
        self.stages
            .iter()
            .flat_map(|s| s.alarms.iter().map(String::as_str))
            .collect()
    }
}

#[cfg(test)]
mod tests;
