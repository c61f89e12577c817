//! What a stage's endpoint runs on: instances, optionally autoscaled by
//! Application Auto Scaling, or SageMaker Serverless Inference; and the rules
//! SageMaker documents for each, checked at cold start with the stages file.

use super::file::{Deployment, Stage};
use serde::{Deserialize, Serialize};

/// Target tracking on `SageMakerVariantInvocationsPerInstance` for the stage's
/// variant, between `min` and `max` instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    /// The invocations a minute per instance the policy holds the variant at.
    pub target_invocations_per_instance: u32,
    /// After a scale-in, how long before the next (default 300 s: shrink slowly).
    #[serde(default = "default_scale_in_cooldown")]
    pub scale_in_cooldown_seconds: u32,
    /// After a scale-out, how long before the next (default 60 s: grow quickly).
    #[serde(default = "default_scale_out_cooldown")]
    pub scale_out_cooldown_seconds: u32,
}

fn default_scale_in_cooldown() -> u32 {
    300
}

fn default_scale_out_cooldown() -> u32 {
    60
}

impl Autoscaling {
    /// The instance count target tracking settles at when the variant takes
    /// `invocations_per_minute` in all: enough instances that each takes at
    /// most the target, within `min..=max`.
    pub fn desired_count(&self, invocations_per_minute: f64) -> u32 {
        let needed = (invocations_per_minute.max(0.0)
            / f64::from(self.target_invocations_per_instance.max(1)))
        .ceil();
        (needed.min(f64::from(u32::MAX)) as u32).clamp(self.min, self.max)
    }
}

/// A serverless endpoint (`ServerlessConfig`): SageMaker provisions compute per
/// request, up to `max_concurrency` at once; idle, it costs nothing unless
/// `provisioned_concurrency` keeps some warm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serverless {
    pub memory_mb: u32,
    pub max_concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<u32>,
}

/// SageMaker's serverless limits: memory 1024-6144 MB in 1 GB steps, 1-200
/// concurrent invocations (Developer Guide, "serverless-endpoints").
pub const SERVERLESS_MEMORY_MB: [u32; 6] = [1024, 2048, 3072, 4096, 5120, 6144];
pub const SERVERLESS_MAX_CONCURRENCY: u32 = 200;

/// A stage's fleet, as validated: one of the two forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fleet<'a> {
    Instances {
        instance_type: &'a str,
        count: u32,
        autoscaling: Option<&'a Autoscaling>,
    },
    Serverless(&'a Serverless),
}

impl Stage {
    /// What the stage's endpoint runs on. For a stage that passed validation
    /// (every stage a function holds), exactly one form is set.
    pub fn fleet(&self) -> Fleet<'_> {
        match &self.serverless {
            Some(serverless) => Fleet::Serverless(serverless),
            None => Fleet::Instances {
                instance_type: self.instance_type.as_deref().unwrap_or_default(),
                count: self.instance_count.unwrap_or_default(),
                autoscaling: self.autoscaling.as_ref(),
            },
        }
    }

    pub fn is_serverless(&self) -> bool {
        self.serverless.is_some()
    }
}

/// Every problem with a stage's fleet, each as `field: what is wrong`.
pub(super) fn problems(stage: &Stage) -> Vec<String> {
    let mut problems = Vec::new();
    match &stage.serverless {
        Some(serverless) => serverless_problems(stage, serverless, &mut problems),
        None => instance_problems(stage, &mut problems),
    }
    problems
}

fn serverless_problems(stage: &Stage, s: &Serverless, problems: &mut Vec<String>) {
    let set: Vec<&str> = [
        ("instance_type", stage.instance_type.is_some()),
        ("instance_count", stage.instance_count.is_some()),
        ("autoscaling", stage.autoscaling.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    if !set.is_empty() {
        problems.push(format!(
            "serverless: a serverless stage has no {} (SageMaker scales it up to max_concurrency)",
            set.join(", ")
        ));
    }
    if !SERVERLESS_MEMORY_MB.contains(&s.memory_mb) {
        problems.push(format!(
            "serverless.memory_mb: {} is not one of SageMaker's sizes (1024-6144 in steps of 1024)",
            s.memory_mb
        ));
    }
    if !(1..=SERVERLESS_MAX_CONCURRENCY).contains(&s.max_concurrency) {
        problems.push(format!(
            "serverless.max_concurrency: {} is outside SageMaker's 1-{SERVERLESS_MAX_CONCURRENCY}",
            s.max_concurrency
        ));
    }
    if let Some(provisioned) = s.provisioned_concurrency {
        if provisioned == 0 || provisioned > s.max_concurrency {
            problems.push(format!(
                "serverless.provisioned_concurrency: {provisioned} must be between 1 and max_concurrency ({})",
                s.max_concurrency
            ));
        }
    }
    if stage.data_capture_percent > 0 {
        problems.push(format!(
            "data_capture_percent: {}: SageMaker serverless endpoints do not capture data (set 0; the traffic monitor skips such a stage)",
            stage.data_capture_percent
        ));
    }
    if !matches!(stage.deployment, Deployment::AllAtOnce { .. }) {
        problems.push(
            "deployment: a serverless stage deploys all-at-once (canary and linear steps are shares of the new fleet's instances; a serverless endpoint has none)".into(),
        );
    }
}

fn instance_problems(stage: &Stage, problems: &mut Vec<String>) {
    match stage.instance_type.as_deref() {
        None => problems.push("instance_type: required (or serverless: {...})".into()),
        Some(t) if !t.starts_with("ml.") => problems.push(format!(
            "instance_type: {t:?} is not a SageMaker instance type (ml.*)"
        )),
        Some(_) => {}
    }
    let count = match stage.instance_count {
        None => {
            problems.push("instance_count: required (or serverless: {...})".into());
            return;
        }
        Some(0) => {
            problems.push("instance_count: at least 1".into());
            return;
        }
        Some(count) => count,
    };
    // The smallest fleet a deployment may meet: autoscaling's floor, or the count.
    let mut smallest = count;
    if let Some(a) = &stage.autoscaling {
        if a.min == 0 {
            problems
                .push("autoscaling.min: at least 1 (an endpoint variant keeps an instance)".into());
        }
        if a.max < a.min {
            problems.push(format!(
                "autoscaling.max: {} is below min ({})",
                a.max, a.min
            ));
        } else if !(a.min..=a.max).contains(&count) {
            problems.push(format!(
                "instance_count: {count} is outside autoscaling's {}-{}",
                a.min, a.max
            ));
        }
        if a.target_invocations_per_instance == 0 {
            problems.push("autoscaling.target_invocations_per_instance: at least 1".into());
        }
        smallest = a.min.max(1);
    }
    // A canary or linear step is a share of the new fleet; at the smallest
    // fleet it must still be a whole instance, or the step cannot be taken.
    let step = match stage.deployment {
        Deployment::Canary { percent, .. } if (1..=50).contains(&percent) => {
            Some(("percent", percent))
        }
        Deployment::Linear { step_percent, .. } if (10..=50).contains(&step_percent) => {
            Some(("step_percent", step_percent))
        }
        _ => None,
    };
    if let Some((field, percent)) = step {
        if smallest * percent / 100 == 0 {
            problems.push(format!(
                "deployment.{field}: {percent} % of {smallest} instance(s) (the smallest fleet{}) is less than one instance",
                if stage.autoscaling.is_some() { ", autoscaling.min" } else { "" }
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::Stages;

    fn stage(yaml_fields: &str) -> Result<Stages, String> {
        let yaml = format!(
            "rmse_tolerance: 0.02\nstages:\n  - name: s\n    endpoint: e\n    alarms: [a]\n{yaml_fields}"
        );
        Stages::parse(&yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn target_tracking_settles_within_the_range() {
        let a = Autoscaling {
            min: 2,
            max: 6,
            target_invocations_per_instance: 1000,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        };
        assert_eq!(a.desired_count(0.0), 2);
        assert_eq!(a.desired_count(2000.0), 2);
        assert_eq!(a.desired_count(2001.0), 3);
        assert_eq!(a.desired_count(4500.0), 5);
        assert_eq!(a.desired_count(1e12), 6);
        assert_eq!(a.desired_count(f64::NAN), 2);
    }

    #[test]
    fn an_autoscaled_stage_is_checked_against_its_range_and_its_smallest_fleet() {
        let ok = stage(
            "    instance_type: ml.m5.large\n    instance_count: 2\n    autoscaling: { min: 2, max: 6, target_invocations_per_instance: 1000 }\n    deployment: { strategy: linear, step_percent: 50, wait_seconds: 60 }\n",
        )
        .unwrap();
        let s = ok.first();
        let Fleet::Instances {
            autoscaling: Some(a),
            count: 2,
            ..
        } = s.fleet()
        else {
            panic!("{:?}", s.fleet());
        };
        assert_eq!(
            (a.scale_in_cooldown_seconds, a.scale_out_cooldown_seconds),
            (300, 60)
        );

        let err = stage(
            "    instance_type: ml.m5.large\n    instance_count: 8\n    autoscaling: { min: 0, max: 6, target_invocations_per_instance: 0 }\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap_err();
        for expected in [
            "autoscaling.min: at least 1",
            "instance_count: 8 is outside autoscaling's 0-6",
            "autoscaling.target_invocations_per_instance: at least 1",
        ] {
            assert!(err.contains(expected), "{expected:?} not in {err}");
        }
        let err = stage(
            "    instance_type: ml.m5.large\n    instance_count: 2\n    autoscaling: { min: 3, max: 2, target_invocations_per_instance: 10 }\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap_err();
        assert!(err.contains("autoscaling.max: 2 is below min (3)"), "{err}");

        // 25 % of a 2-instance floor is half an instance: the linear step cannot be taken.
        let err = stage(
            "    instance_type: ml.m5.large\n    instance_count: 4\n    autoscaling: { min: 2, max: 8, target_invocations_per_instance: 10 }\n    deployment: { strategy: linear, step_percent: 25, wait_seconds: 60 }\n",
        )
        .unwrap_err();
        assert!(
            err.contains("deployment.step_percent: 25 % of 2 instance(s) (the smallest fleet, autoscaling.min) is less than one instance"),
            "{err}"
        );
        // Without autoscaling the count is the fleet: a canary of one instance needs two.
        let err = stage(
            "    instance_type: ml.m5.large\n    instance_count: 1\n    deployment: { strategy: canary, percent: 50, wait_seconds: 60 }\n",
        )
        .unwrap_err();
        assert!(
            err.contains("deployment.percent: 50 % of 1 instance(s) (the smallest fleet) is less"),
            "{err}"
        );
    }

    #[test]
    fn a_serverless_stage_follows_sagemakers_serverless_rules() {
        let ok = stage(
            "    serverless: { memory_mb: 2048, max_concurrency: 5 }\n    deployment: { strategy: all-at-once, wait_seconds: 0 }\n",
        )
        .unwrap();
        assert!(ok.first().is_serverless());
        assert_eq!(
            ok.first().fleet(),
            Fleet::Serverless(&Serverless {
                memory_mb: 2048,
                max_concurrency: 5,
                provisioned_concurrency: None
            })
        );
        let err = stage(
            "    instance_type: ml.m5.large\n    serverless: { memory_mb: 1500, max_concurrency: 201, provisioned_concurrency: 300 }\n    data_capture_percent: 10\n    deployment: { strategy: canary, percent: 10, wait_seconds: 60 }\n",
        )
        .unwrap_err();
        for expected in [
            "serverless: a serverless stage has no instance_type",
            "serverless.memory_mb: 1500 is not one of SageMaker's sizes",
            "serverless.max_concurrency: 201 is outside SageMaker's 1-200",
            "serverless.provisioned_concurrency: 300 must be between 1 and max_concurrency (201)",
            "data_capture_percent: 10: SageMaker serverless endpoints do not capture data",
            "deployment: a serverless stage deploys all-at-once",
        ] {
            assert!(err.contains(expected), "{expected:?} not in {err}");
        }
        let err =
            stage("    deployment: { strategy: all-at-once, wait_seconds: 0 }\n").unwrap_err();
        assert!(
            err.contains("instance_type: required (or serverless"),
            "{err}"
        );
        assert!(err.contains("instance_count: required"), "{err}");
    }
}
