//! A drift check as a page people read: one self-contained HTML file (inline
//! CSS and SVG; no script, no font, no request to anywhere) written next to
//! the report's JSON. A summary first (the verdict, the drifted columns, what
//! was compared with what, the model's errors when labels were there), then the
//! drifted columns before the others, each with the baseline's and the current
//! distribution drawn over each other on the baseline's bins (the bins the
//! scores were computed on) and its scores against their thresholds, a crossed
//! one marked.

use super::profile::{CategoryProfile, DatasetProfile, NumericProfile};
use super::report::{ColumnDrift, DriftReport};
use crate::aws::S3Location;
use std::fmt::Write;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 160.0;
const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2433;padding:0 1rem}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:0}.verdict{font-weight:600;padding:.2rem .6rem;border-radius:.3rem}\
.verdict.drift{background:#fde2e1;color:#8f1d18}.verdict.stable{background:#dff3e4;color:#1b5e2a}\
section.column{border:1px solid #d9dde5;border-radius:.5rem;padding:1rem;margin:1rem 0}\
section.column.drifted{border-color:#d93025;border-width:2px}table{border-collapse:collapse}\
td,th{padding:.15rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}\
td.crossed{color:#8f1d18;font-weight:700}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}\
.baseline{fill:#5b7fbf}.current{fill:#e8833a}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#5a6272}";

/// Where a report's page goes: beside its JSON, `.html` for `.json`.
pub fn beside(json: &S3Location) -> S3Location {
    let stem = json.key.strip_suffix(".json").unwrap_or(&json.key);
    S3Location::new(&json.bucket, &format!("{stem}.html"))
}

/// `<`, `>`, `&`, quotes: text from files and events is never markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn number(value: f64) -> String {
    match value.abs() {
        a if a >= 1000.0 => format!("{value:.0}"),
        a if a >= 100.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

/// Two distributions over the same labelled bins, as bars side by side.
fn bars(labels: &[String], baseline: &[f64], current: &[f64], title: &str) -> String {
    let n = labels.len().max(1) as f64;
    let top = baseline
        .iter()
        .chain(current)
        .fold(0.0_f64, |m, v| m.max(*v))
        .max(1e-9);
    let slot = WIDTH / n;
    let bar = (slot * 0.4).max(1.0);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {}\" width=\"100%\">",
        escape(title),
        HEIGHT + 18.0
    );
    for (i, label) in labels.iter().enumerate() {
        let x = i as f64 * slot;
        for (k, (values, class)) in [(baseline, "baseline"), (current, "current")]
            .into_iter()
            .enumerate()
        {
            let share = values.get(i).copied().unwrap_or(0.0);
            let h = share / top * HEIGHT;
            let _ = write!(
                svg,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\"><title>{}: {} {:.1} %</title></rect>",
                x + slot * 0.1 + k as f64 * bar,
                HEIGHT - h,
                escape(label),
                class,
                share * 100.0
            );
        }
        if labels.len() <= 12 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
                x + slot / 2.0,
                HEIGHT + 13.0,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn numeric_chart(name: &str, base: &NumericProfile, current: &NumericProfile) -> String {
    let edges = &base.edges;
    let labels: Vec<String> = (0..=edges.len())
        .map(|i| match i {
            0 => format!("≤ {}", number(edges.first().copied().unwrap_or_default())),
            i if i == edges.len() => format!("> {}", number(edges[i - 1])),
            i => format!("≤ {}", number(edges[i])),
        })
        .collect();
    bars(
        &labels,
        &base.shares_on(edges),
        &current.shares_on(edges),
        name,
    )
}

fn category_chart(name: &str, base: &CategoryProfile, current: &CategoryProfile) -> String {
    let mut labels: Vec<String> = base.frequencies.keys().cloned().collect();
    for key in current.frequencies.keys() {
        if !labels.contains(key) {
            labels.push(key.clone());
        }
    }
    let shares = |p: &CategoryProfile| -> Vec<f64> {
        let total = p.count.max(1) as f64;
        labels
            .iter()
            .map(|l| p.frequencies.get(l).copied().unwrap_or(0) as f64 / total)
            .collect()
    };
    bars(&labels, &shares(base), &shares(current), name)
}

fn scores_table(column: &ColumnDrift) -> String {
    let mut rows = String::new();
    let scores = [
        ("psi", Some(column.scores.psi), column.thresholds.psi),
        ("js", Some(column.scores.js), column.thresholds.js),
        ("ks", column.scores.ks, column.thresholds.ks),
    ];
    for (name, score, threshold) in scores {
        let Some(score) = score else { continue };
        let crossed = column.crossed.iter().any(|c| c == name);
        let _ = write!(
            rows,
            "<tr><td>{}</td><td class=\"{}\">{score:.4}</td><td>{threshold}</td></tr>",
            name.to_uppercase(),
            if crossed { "crossed" } else { "within" }
        );
    }
    format!("<table><tr><th>score</th><th>value</th><th>threshold</th></tr>{rows}</table>")
}

/// The page for `report`, `baseline` and `current` being the profiles it compared.
pub fn render(report: &DriftReport, baseline: &DatasetProfile, current: &DatasetProfile) -> String {
    let drifted = !report.drifted.is_empty();
    let title = format!("Drift: {} against {}", report.current, report.baseline);
    let mut page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>",
        escape(&title),
        escape(&title)
    );
    let _ = write!(
        page,
        "<p><span id=\"verdict\" class=\"verdict {}\">{}</span></p><dl>",
        if drifted { "drift" } else { "stable" },
        if drifted {
            format!(
                "{} of {} columns drifted",
                report.drifted.len(),
                report.columns.len()
            )
        } else {
            format!("no drift in {} columns", report.columns.len())
        }
    );
    let mut facts = vec![
        (
            "baseline",
            format!("{} ({} rows)", report.baseline, baseline.rows),
        ),
        (
            "current",
            format!("{} ({} rows)", report.current, report.rows),
        ),
    ];
    if drifted {
        facts.push(("drifted", report.drifted.join(", ")));
    }
    if let Some(model) = &report.model {
        facts.push((
            "model",
            format!(
                "{} on {} ({})",
                model.model_package_arn, model.stage, model.endpoint
            ),
        ));
    }
    if let Some(q) = &report.quality {
        let mut text = format!(
            "RMSE {} · MAE {} on {} labelled rows",
            number(q.rmse),
            number(q.mae),
            q.rows
        );
        if let (Some(registered), Some(ratio)) = (q.registered_test_rmse, q.rmse_ratio) {
            let _ = write!(
                text,
                " (its own test RMSE {}: ×{ratio:.2})",
                number(registered)
            );
        }
        facts.push(("model quality", text));
    } else if let Some(e) = &report.quality_error {
        facts.push(("model quality", format!("not measured: {e}")));
    }
    if !report.not_compared.is_empty() {
        facts.push(("not compared", report.not_compared.join(", ")));
    }
    for (k, v) in facts {
        let _ = write!(page, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    page.push_str("</dl><p class=\"legend\"><span class=\"baseline\" style=\"background:#5b7fbf\"></span>baseline<span class=\"current\" style=\"background:#e8833a\"></span>current</p>");

    let mut names: Vec<&String> = report.columns.keys().collect();
    names.sort_by_key(|n| (!report.drifted.contains(n), n.to_string()));
    for name in names {
        let column = &report.columns[name];
        let is_drifted = report.drifted.contains(name);
        let chart = match (
            baseline.numeric.get(name).zip(current.numeric.get(name)),
            baseline
                .categories
                .get(name)
                .zip(current.categories.get(name)),
        ) {
            (Some((b, c)), _) => numeric_chart(name, b, c),
            (_, Some((b, c))) => category_chart(name, b, c),
            _ => String::new(),
        };
        let _ = write!(
            page,
            "<section class=\"column{}\" id=\"column-{}\" data-column=\"{}\"><h2>{}{}</h2>{chart}{}</section>",
            if is_drifted { " drifted" } else { "" },
            escape(name),
            escape(name),
            escape(name),
            if is_drifted { " — drifted" } else { "" },
            scores_table(column)
        );
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_never_markup() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn bars_are_drawn_on_a_common_scale() {
        let svg = bars(&["a".into(), "b".into()], &[0.5, 0.5], &[1.0, 0.0], "x");
        assert_eq!(svg.matches("<rect").count(), 4);
        // The tallest bar fills the height.
        assert!(svg.contains(&format!("height=\"{HEIGHT:.1}\"")), "{svg}");
    }
}
