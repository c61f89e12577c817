//! Step 6: batch scoring. A file of held-out rows lands under `score/`, the
//! score function starts its transform job, the job runs here as SageMaker
//! would, and its end joins every prediction back to its row.

use super::{held_out, read_response};
use anyhow::{ensure, Context, Result};
use local_stack::{Clients, Stack};
use serde_json::{json, Value};
use shared::scoring::layout::{ScoreId, ScoreLayout};
use shared::scoring::run::{Ending, ScoreReport};
use std::path::{Path, PathBuf};

/// The rows made bad on purpose: the field replaced, its value.
const BAD: [(&str, &str); 2] = [("longitude", "far west"), ("median_income", "")];

/// Writes the test split of the dataset `stage` serves (its raw lines, the
/// target kept) and two rows made bad to `out`, and uploads it as `key`.
pub async fn score_file(
    stack: &Stack,
    clients: &Clients,
    stage: &str,
    key: &str,
    out: &Path,
) -> Result<()> {
    let stages = shared::stages::Stages::parse(shared::stages::BUNDLED)?;
    let endpoint = &stages.get(stage).context("no such stage")?.endpoint;
    let serving = shared::stages::serving(&clients.sagemaker, endpoint)
        .await?
        .with_context(|| format!("{stage} serves nothing"))?;
    let dataset = serving
        .lineage
        .and_then(|l| l.dataset_id)
        .with_context(|| format!("{stage}'s model names no dataset"))?;
    let id: shared::dataset::DatasetId = dataset
        .parse()
        .map_err(|e| anyhow::anyhow!("the dataset id {dataset:?}: {e}"))?;
    let (source, held) = held_out(stack, clients, &id).await?;
    let raw = stack.get(clients, &source.bucket, &source.key).await?;
    let raw = String::from_utf8(raw).context("the dataset's source is not UTF-8")?;
    let lines: Vec<&str> = raw.lines().collect();
    let header = lines.first().context("an empty source")?;
    let mut file = format!("{header}\n");
    for row in &held {
        file.push_str(lines[row.line as usize - 1]);
        file.push('\n');
    }
    let columns: Vec<&str> = header.split(',').collect();
    let first: Vec<&str> = lines[held[0].line as usize - 1].split(',').collect();
    for (column, value) in BAD {
        let at = columns.iter().position(|c| *c == column).context(column)?;
        let mut bad = first.clone();
        bad[at] = value;
        file.push_str(&bad.join(","));
        file.push('\n');
    }
    std::fs::write(out, &file).with_context(|| format!("writing {}", out.display()))?;
    stack.upload(clients, key, file.into_bytes()).await?;
    println!(
        "  {} held-out rows of dataset {dataset} (what {stage} serves was trained on), with their \
         true values, and {} made bad ({}): s3://{}/{key}",
        held.len(),
        BAD.len(),
        BAD.map(|(c, v)| format!("{c} {v:?}")).join(", "),
        stack.raw_bucket
    );
    Ok(())
}

/// Runs the transform job the score function's `response` started (moto runs
/// none), and writes SageMaker's state-change event of its end to `event`.
pub fn transform(moto: &str, response: &Path, event: &Path) -> Result<()> {
    let r = read_response(response)?;
    let job = r["outcomes"][0]["started"]["job"]
        .as_str()
        .with_context(|| format!("no job started: {r}"))?;
    let ran = local_stack::transform::run(moto, job)?;
    println!(
        "  transform job {job}: {} lines of {} object(s) in {} mini-batches, the model's XGBoost",
        ran.lines, ran.objects, ran.batches
    );
    let sample = local_stack::repo_root().join("events/score/transform-job-completed.json");
    let mut ended: Value = serde_json::from_str(&std::fs::read_to_string(sample)?)?;
    let arn = format!("arn:aws:sagemaker:us-east-1:123456789012:transform-job/{job}");
    ended["resources"] = json!([arn]);
    ended["detail"]["TransformJobName"] = json!(job);
    ended["detail"]["TransformJobArn"] = json!(arn);
    std::fs::write(event, serde_json::to_vec_pretty(&ended)?)?;
    Ok(())
}

/// What the score function did: started once (a duplicate found the run),
/// scored on the job's end, nothing left for the check; the predictions
/// joined back, the file's RMSE, the bad rows quarantined, `BatchScored` once.
pub async fn scoring(stack: &Stack, clients: &Clients, responses: &[PathBuf]) -> Result<()> {
    ensure!(responses.len() == 4, "four responses expected");
    let r: Vec<Value> = responses
        .iter()
        .map(|p| read_response(p))
        .collect::<Result<_>>()?;
    let started = &r[0]["outcomes"][0]["started"];
    let id: ScoreId = started["id"]
        .as_str()
        .with_context(|| format!("the file was not started: {}", r[0]))?
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(
        r[1]["outcomes"][0]["already_started"] == *started,
        "the second delivery should find the run under way: {}",
        r[1]
    );
    let scored = &r[2]["outcomes"][0]["scored"];
    ensure!(scored.is_object(), "the job's end did not score: {}", r[2]);
    let checked = r[3]["outcomes"]
        .as_array()
        .context("the check's outcomes")?;
    ensure!(
        !checked.is_empty() && checked.iter().all(|o| o.get("already_done").is_some()),
        "the check should find every run over: {}",
        r[3]
    );
    println!(
        "  #1 started run {id} (job {}); #2 the same file again: already under way; #3 the job's \
         end: scored; #4 the check: {} run(s), all over",
        started["job"].as_str().unwrap_or("?"),
        checked.len()
    );

    let layout = ScoreLayout {
        bucket: stack.processed_bucket.clone(),
        id,
    };
    let at = layout.report();
    let report: ScoreReport =
        serde_json::from_slice(&stack.get(clients, &at.bucket, &at.key).await?)?;
    let rows = report.rows.as_ref().context("the report has no rows")?;
    let Ending::Scored {
        evaluation: Some(evaluation),
        ..
    } = report.ending
    else {
        anyhow::bail!("the report is not a scored file's with targets: {report:?}");
    };
    ensure!(
        rows.rows_quarantined == BAD.len() as u64
            && rows.rows_scored + rows.rows_quarantined == rows.rows_in,
        "{} rows in, {} scored, {} quarantined: the {} bad rows alone should be",
        rows.rows_in,
        rows.rows_scored,
        rows.rows_quarantined,
        BAD.len()
    );
    let model = report.model.as_ref().context("no model")?;
    println!(
        "  {} rows in, {} scored by {} v{} (pre-prod's model), {} quarantined {:?}: {}",
        rows.rows_in,
        rows.rows_scored,
        model.model_package_group,
        model.model_package_version,
        rows.rows_quarantined,
        rows.reasons,
        report.quarantine.as_deref().unwrap_or("-")
    );

    // The predictions joined back: a few rows, and the RMSE recomputed from them.
    let at = layout.predictions_csv();
    let csv = stack.get(clients, &at.bucket, &at.key).await?;
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers()?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .context(name.to_string())
    };
    let shown = [
        "line",
        "longitude",
        "latitude",
        "median_income",
        "median_house_value",
        "prediction",
    ];
    let at_shown: Vec<usize> = shown.iter().map(|c| column(c)).collect::<Result<_>>()?;
    let (target, prediction) = (column("median_house_value")?, column("prediction")?);
    println!("  {}", at.uri());
    println!("    {}", shown.map(|c| format!("{c:>19}")).join(""));
    let (mut n, mut squared) = (0u64, 0.0f64);
    for (i, record) in reader.records().enumerate() {
        let record = record?;
        let value = |at: usize| -> Result<f64> { Ok(record.get(at).unwrap_or_default().parse()?) };
        let error = value(target)? - value(prediction)?;
        n += 1;
        squared += error * error;
        if i < 5 {
            let cells: Vec<String> = at_shown
                .iter()
                .map(|at| format!("{:>19}", record.get(*at).unwrap_or_default()))
                .collect();
            println!("    {}", cells.join(""));
        }
    }
    let rmse = (squared / n as f64).sqrt();
    ensure!(
        n == rows.rows_scored && n == evaluation.rows,
        "{n} predictions for {} rows",
        rows.rows_scored
    );
    ensure!(
        (rmse - evaluation.rmse).abs() <= 1e-9 * rmse.max(1.0),
        "the report's RMSE {} is not the predictions' {rmse}",
        evaluation.rmse
    );
    println!(
        "  the file's RMSE {:.4}, MAE {:.4} on its {} targets (recomputed from predictions.csv: {rmse:.4})",
        evaluation.rmse, evaluation.mae, evaluation.rows
    );

    let events: Vec<Value> = stack
        .received_events(clients)
        .await?
        .into_iter()
        .filter(|e| e["detail-type"] == shared::events::scoring::BATCH_SCORED)
        .collect();
    ensure!(
        events.len() == 1,
        "one BatchScored expected on the bus, got {}",
        events.len()
    );
    println!(
        "  BatchScored on bus {}: {} rows, report {}",
        stack.bus, events[0]["detail"]["rows_scored"], events[0]["detail"]["report"]
    );
    Ok(())
}
