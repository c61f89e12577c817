//! The unit tests of `file`.

use super::*;

#[test]
fn the_bundled_stages_file_is_valid() {
    let stages = Stages::parse(BUNDLED).unwrap();
    assert_eq!(stages.names(), ["dev", "pre-prod", "prod"]);
    assert_eq!(stages.next(0).unwrap().name, "pre-prod");
    assert!(stages.next(2).is_none());
    assert_eq!(stages.get("prod"), Some(stages.at(2)));
    assert!(stages.get("staging").is_none());
    assert!(
        stages.find("prod").unwrap().1.manual_gate,
        "prod needs the manual gate"
    );
}

#[test]
fn every_problem_is_named_with_its_stage() {
    let yaml = r#"
rmse_tolerance: 1.5
stages:
  - name: dev
    endpoint: bad_name
    instance_type: m5.large
    instance_count: 0
    data_capture_percent: 101
    deployment: { strategy: canary, percent: 60, wait_seconds: 4000 }
    manual_gate: true
  - name: dev
    endpoint: ok-endpoint
    instance_type: ml.m5.large
    instance_count: 2
    deployment: { strategy: linear, step_percent: 5, wait_seconds: 60 }
    alarms: [""]
    termination_wait_seconds: 4000
  - name: prod
    endpoint: prod-endpoint
    instance_type: ml.m5.large
    instance_count: 2
    deployment: { strategy: linear, step_percent: 25, wait_seconds: 900 }
    alarms: [prod-5xx]
    max_deployment_seconds: 3600
  - name: slow
    endpoint: slow-endpoint
    instance_type: ml.m5.large
    instance_count: 2
    deployment: { strategy: all-at-once, wait_seconds: 0 }
    max_deployment_seconds: 100
"#;
    let err = Stages::parse(yaml).unwrap_err();
    let text = err.to_string();
    for expected in [
        "rmse_tolerance: 1.5",
        "stages[0] (dev): endpoint: \"bad_name\"",
        "stages[0] (dev): instance_type",
        "stages[0] (dev): instance_count",
        "stages[0] (dev): data_capture_percent: 101",
        "stages[0] (dev): deployment.percent: 60",
        "stages[0] (dev): deployment.wait_seconds: 4000",
        "stages[0] (dev): alarms: a canary",
        "stages[0] (dev): manual_gate",
        "stages[1] (dev): name: used by an earlier stage",
        "stages[1] (dev): deployment.step_percent: 5",
        "stages[1] (dev): alarms: \"\"",
        "stages[1] (dev): termination_wait_seconds: 4000",
        "stages[2] (prod): deployment.step_percent: 25 % of 2 instance(s) (the smallest fleet) is less than one instance",
        "stages[2] (prod): max_deployment_seconds: 3600 does not exceed the deployment's waits (3600 s",
        "stages[3] (slow): max_deployment_seconds: 100 is outside",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    assert_eq!(err.list.len(), 16, "{text}");
}

#[test]
fn a_deployment_is_limited_to_its_waits_and_an_hour_by_default() {
    let stages = Stages::parse(BUNDLED).unwrap();
    let stage = |name: &str| stages.find(name).unwrap().1.clone();
    // dev: all at once, no baking, no termination wait: an hour for the new fleet.
    assert_eq!(stage("dev").deployment_timeout_seconds(), 3600);
    // prod: 2 linear steps of 900 s baking, the old fleet kept 600 s, plus an hour.
    let prod = stage("prod");
    assert_eq!(prod.deployment.shifts(), 2);
    assert_eq!(
        prod.total_wait_seconds(),
        2 * 900 + prod.termination_wait_seconds
    );
    assert_eq!(
        prod.deployment_timeout_seconds(),
        prod.total_wait_seconds() + 3600
    );
    let mut set = prod.clone();
    set.max_deployment_seconds = Some(20_000);
    assert_eq!(set.deployment_timeout_seconds(), 20_000);
}

#[test]
fn only_a_stage_before_the_last_may_sleep() {
    let stages = Stages::parse(BUNDLED).unwrap();
    assert!(stages.get("pre-prod").unwrap().active.is_some());
    assert!(stages
        .clone()
        .always_awake()
        .iter()
        .all(|s| s.active.is_none()));
    let sleepy_prod = BUNDLED.replace(
        "    manual_gate: true\n",
        "    manual_gate: true\n    active: { days: [mon], hours: \"08:00-09:00\", timezone: Mars/Base }\n",
    );
    let err = Stages::parse(&sleepy_prod).unwrap_err().to_string();
    assert!(
        err.contains(
            "stages[2] (prod): active: the last stage serves production; it may not sleep"
        ),
        "{err}"
    );
    #[cfg(feature = "schedule")]
    assert!(
        err.contains("stages[2] (prod): active.timezone: \"Mars/Base\""),
        "{err}"
    );
}

/// prod has a shadow test; one on serverless instances or a sleeping stage is refused.
#[test]
fn a_shadow_test_runs_on_an_awake_stage_on_instances() {
    let stages = Stages::parse(BUNDLED).unwrap();
    let prod = stages.get("prod").unwrap().shadow.unwrap();
    assert_eq!((prod.sample_percent, prod.duration_seconds), (20, 86_400));
    assert!(stages.get("pre-prod").unwrap().shadow.is_none());
    let shadow = "    shadow: { sample_percent: 0, duration_seconds: 600, max_latency_ratio: 1.5, max_error_rate: 0.01, max_prediction_delta: 0.2 }\n";
    let on_dev_and_pre_prod = BUNDLED.replace(
        "    manual_gate: false\n",
        &format!("    manual_gate: false\n{shadow}"),
    );
    let err = Stages::parse(&on_dev_and_pre_prod).unwrap_err().to_string();
    for expected in [
        "stages[0] (dev): shadow: a shadow test runs on instances",
        "stages[1] (pre-prod): shadow: a stage that sleeps would end its shadow tests",
        "stages[1] (pre-prod): shadow.sample_percent: 0 is outside 1-100",
    ] {
        assert!(err.contains(expected), "{expected:?} in {err}");
    }
}

#[test]
fn yaml_errors_say_where() {
    let err = Stages::parse("rmse_tolerance: 0.1\nstages:\n  - name: dev\n    colour: blue\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `colour`"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    let err = Stages::parse(
        "rmse_tolerance: 0.1\nstages:\n  - name: dev\n    endpoint: e\n    instance_type: ml.m5.large\n    instance_count: 1\n    deployment: { strategy: blue-green, wait_seconds: 0 }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown variant `blue-green`"), "{err}");
    assert!(Stages::parse("rmse_tolerance: 0.1\nstages: []\n").is_err());
}
