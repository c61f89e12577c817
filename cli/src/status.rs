//! `housing-mlops status`: per stage, what promote-model wants it to serve (the desired-state
//! record), what its endpoint is and serves (state, config, package, dataset), what it runs
//! on (serverless settings, or instances and their autoscaling), and its traffic's latest
//! drift verdict; then the latest new dataset's drift verdict and the latest batch scoring.
//!
//! A stage whose parts cannot be read says so on its line and the others are still shown: a
//! corrupt record is exactly what an operator runs `status` to find.

use crate::drift::{latest_dataset, latest_traffic, verdict, Found};
use crate::when;
use shared::aws::{s3, S3Location};
use shared::events::endpoint::EndpointState;
use shared::promotion::desired::{Cause, Desired, DesiredStates, Status};
use shared::promotion::scaling;
use shared::scoring::layout::{REPORT, SCORES};
use shared::scoring::run::{Ending, ScoreReport};
use shared::stages::{serving, Serving, Stage};
use std::fmt::Write;

/// Each stage's desired state, endpoint, model, fleet and latest drift verdicts.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    target: crate::stack::Target,
}

pub async fn run(args: Args) -> Result<String, String> {
    let stack = crate::stack::connect(&args.target).await?;
    let sagemaker = aws_sdk_sagemaker::Client::new(&stack.sdk);
    let autoscaling = aws_sdk_applicationautoscaling::Client::new(&stack.sdk);
    let records = DesiredStates {
        s3: stack.s3.clone(),
        root: stack.promotion_state.clone(),
    };
    let mut out = format!("stack {} in {}\n", stack.name, stack.region);
    for stage in stack.stages.iter() {
        let _ = writeln!(out, "\n{} (endpoint {})", stage.name, stage.endpoint);
        let live = serving(&sagemaker, &stage.endpoint)
            .await
            .map_err(|e| e.to_string());
        let serving = live.as_ref().ok().and_then(Option::as_ref);
        // A deployment of the config it serves InService, with none under way, is done.
        let settled = serving
            .filter(|s| s.state == EndpointState::InService && s.pending_config.is_none())
            .map(|s| s.endpoint_config.as_str());
        let _ = writeln!(
            out,
            "  desired   {}",
            desired(&records, &stage.name, settled).await
        );
        let _ = writeln!(out, "  endpoint  {}", endpoint(&live));
        let _ = writeln!(out, "  serves    {}", serves(serving));
        let _ = writeln!(
            out,
            "  fleet     {}",
            fleet(&autoscaling, stage, serving).await
        );
        let traffic = match latest_traffic(&stack, &stage.endpoint).await {
            Ok(Some(found)) => seen(&found),
            Ok(None) => "no report yet".into(),
            Err(e) => format!("unreadable: {e}"),
        };
        let _ = writeln!(out, "  traffic   {traffic}");
    }
    let dataset = match latest_dataset(&stack).await {
        Ok(Some(found)) => format!("{}: {}", found.report.current, seen(&found)),
        Ok(None) => "none yet".into(),
        Err(e) => format!("unreadable: {e}"),
    };
    let _ = writeln!(out, "\nlatest dataset drift check  {dataset}");
    let scoring = match latest_scoring(&stack).await {
        Ok(Some(line)) => line,
        Ok(None) => "none yet".into(),
        Err(e) => format!("unreadable: {e}"),
    };
    let _ = writeln!(out, "latest batch scoring        {scoring}");
    Ok(out)
}

/// The newest scoring run's report, in a line: what was scored by which model, the file's
/// errors when it had targets, or why it failed.
async fn latest_scoring(stack: &crate::stack::Stack) -> Result<Option<String>, String> {
    let suffix = format!("/{REPORT}");
    let Some((key, ms)) = crate::drift::newest(stack, SCORES, &suffix).await? else {
        return Ok(None);
    };
    let at = S3Location::new(&stack.processed_bucket, &key);
    let Some((bytes, _)) = s3::read(&stack.s3, &at).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let report: ScoreReport = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a scoring report ({e})", at.uri()))?;
    Ok(Some(format!(
        "{}: {} ({}; {})",
        report.score_id,
        scoring(&report),
        when(ms),
        report.source
    )))
}

/// A scoring report's outcome, in words.
fn scoring(report: &ScoreReport) -> String {
    let model = report.model.as_ref().map_or(String::new(), |m| {
        format!(
            " by {} v{} ({})",
            m.model_package_group, m.model_package_version, m.stage
        )
    });
    match &report.ending {
        Ending::Failed { reason, message } => format!("failed ({reason}): {message}"),
        Ending::Scored { evaluation, .. } => {
            let rows = report.rows.as_ref();
            let mut out = format!(
                "scored {} of {} rows{model}, {} quarantined",
                rows.map_or(0, |r| r.rows_scored),
                rows.map_or(0, |r| r.rows_in),
                rows.map_or(0, |r| r.rows_quarantined),
            );
            if let Some(e) = evaluation {
                let _ = write!(
                    out,
                    "; RMSE {:.4}, MAE {:.4} on {} targets",
                    e.rmse, e.mae, e.rows
                );
            }
            out
        }
    }
}

/// The stage's desired-state record, in a line; `in_service` is the config the endpoint
/// serves InService with no deployment under way (a deployment of it is done).
async fn desired(records: &DesiredStates, stage: &str, in_service: Option<&str>) -> String {
    match records.read(stage).await {
        Ok(Some(read)) => record(&read.desired, in_service),
        Ok(None) => "none (nothing requested yet)".into(),
        Err(e) => format!("unreadable: {e}"),
    }
}

/// A record in a line: the package, where it stands, why and when.
fn record(d: &Desired, in_service: Option<&str>) -> String {
    let state = match &d.status {
        Status::Pending => "pending".to_string(),
        Status::Deploying {
            endpoint_config,
            started_at_ms,
        } if in_service == Some(endpoint_config.as_str()) => format!(
            "deployed: the endpoint serves {endpoint_config} (since {})",
            when(*started_at_ms)
        ),
        Status::Deploying {
            endpoint_config,
            started_at_ms,
        } => format!("deploying {endpoint_config} since {}", when(*started_at_ms)),
        Status::Shadowing {
            endpoint_config,
            started_at_ms,
        } => format!(
            "shadow test on {endpoint_config} since {} (beside the serving model, answering nobody)",
            when(*started_at_ms)
        ),
        Status::Halted {
            reason,
            message,
            at_ms,
        } => format!("HALTED {reason} at {}: {message}", when(*at_ms)),
    };
    let by = d
        .requested_by
        .as_deref()
        .map(|who| format!(" by {who}"))
        .unwrap_or_default();
    let cause = match d.cause {
        Cause::Approval => "approval",
        Cause::Promote => "PromoteModel",
        Cause::Advance => "advanced from the previous stage",
        Cause::Rollback => "rollback",
    };
    format!(
        "{} v{}: {state} ({cause}{by}, {})",
        d.model_package_group,
        d.model_package_version,
        when(d.recorded_at_ms)
    )
}

/// The endpoint's state, its config and any deployment under way.
fn endpoint(live: &Result<Option<Serving>, String>) -> String {
    match live {
        Err(e) => format!("unreadable: {e}"),
        Ok(None) => "none (not deployed, or asleep)".into(),
        Ok(Some(s)) => {
            let moving = s
                .pending_config
                .as_deref()
                .map(|c| format!(", moving to {c}"))
                .unwrap_or_default();
            format!("{}, config {}{moving}", s.state, s.endpoint_config)
        }
    }
}

/// The package its config was deployed from, as the config's lineage tags say.
fn serves(live: Option<&Serving>) -> String {
    let Some(s) = live else {
        return "nothing".into();
    };
    let Some(l) = &s.lineage else {
        return "no lineage tags on its config (not deployed by housing-mlops)".into();
    };
    let mut line = format!("{} v{}", l.model_package_group, l.model_package_version);
    if let Some(dataset) = &l.dataset_id {
        let _ = write!(line, ", trained on {dataset}");
    }
    if let Some(rmse) = l.validation_rmse {
        let _ = write!(line, ", validation RMSE {rmse:.4}");
    }
    if let Some(rmse) = l.test_rmse {
        let _ = write!(line, ", test RMSE {rmse:.4}");
    }
    line
}

/// What the serving config runs on, and the autoscaling registered for the stage.
async fn fleet(
    autoscaling: &aws_sdk_applicationautoscaling::Client,
    stage: &Stage,
    live: Option<&Serving>,
) -> String {
    let Some(s) = live else {
        return "none".into();
    };
    if let Some(serverless) = s.serverless {
        return format!(
            "serverless, {} MB, up to {} at once",
            serverless.memory_mb, serverless.max_concurrency
        );
    }
    let Some(instance_type) = &s.instance_type else {
        return "unknown (its config is gone)".into();
    };
    let mut line = format!("{} x {instance_type}", s.instance_count.unwrap_or_default());
    match scaling::registered(autoscaling, stage).await {
        Ok(Some(r)) => {
            let _ = write!(line, ", autoscaled {}-{}", r.min, r.max);
            if let Some(p) = r.policy {
                let _ = write!(line, " at {} invocations per instance a minute", p.target);
            }
        }
        Ok(None) => line.push_str(", not autoscaled"),
        Err(e) => {
            let _ = write!(line, ", autoscaling unreadable: {e}");
        }
    }
    line
}

/// A drift report found, in a line: its verdict, when, and its page.
fn seen(found: &Found) -> String {
    format!(
        "{} ({}; {})",
        verdict(&found.report),
        when(found.modified_ms),
        found.page().uri()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(status: Status) -> Desired {
        Desired {
            stage: "prod".into(),
            model_package_arn: "arn:aws:sagemaker:us-east-1:1:model-package/g/7".into(),
            model_package_group: "g".into(),
            model_package_version: 7,
            cause: Cause::Promote,
            requested_by: Some("alice".into()),
            source_event_id: None,
            recorded_at_ms: 1_796_400_000_000,
            status,
        }
    }

    #[test]
    fn a_record_reads_as_where_it_stands() {
        let deploying = desired(Status::Deploying {
            endpoint_config: "prod-v7".into(),
            started_at_ms: 1_796_400_060_000,
        });
        assert_eq!(
            record(&deploying, None),
            "g v7: deploying prod-v7 since 2026-12-04 16:01:00 UTC (PromoteModel by alice, 2026-12-04 16:00:00 UTC)"
        );
        assert_eq!(
            record(&deploying, Some("prod-v6")),
            record(&deploying, None),
            "another config in service: still deploying"
        );
        assert!(record(&deploying, Some("prod-v7")).starts_with(
            "g v7: deployed: the endpoint serves prod-v7 (since 2026-12-04 16:01:00 UTC)"
        ));
        let halted = desired(Status::Halted {
            reason: "RolledBack".into(),
            message: "alarm prod-5xx".into(),
            at_ms: 1_796_400_120_000,
        });
        assert!(record(&halted, Some("prod-v6"))
            .starts_with("g v7: HALTED RolledBack at 2026-12-04 16:02:00 UTC: alarm prod-5xx"));
        assert!(record(&desired(Status::Pending), None).starts_with("g v7: pending (PromoteModel"));
        let shadowing = desired(Status::Shadowing {
            endpoint_config: "prod-v6-shadow-v7-ab".into(),
            started_at_ms: 1_796_400_180_000,
        });
        assert!(record(&shadowing, Some("prod-v6-shadow-v7-ab")).starts_with(
            "g v7: shadow test on prod-v6-shadow-v7-ab since 2026-12-04 16:03:00 UTC (beside the serving model, answering nobody)"
        ));
    }
}
