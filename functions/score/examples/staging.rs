//! The score function's data side on a large file, for its memory and `/tmp`
//! (BENCHMARKS.md): FILE's data rows repeated until the file has ROWS rows,
//! prepared as a run prepares it, answered as the built-in XGBoost container
//! answers a transform job (mini-batches of 6 MB; every score 1.0), and joined
//! back. Prints the rows, the files' sizes and the seconds as JSON; run it
//! under `/usr/bin/time -v` for the peak memory.
//!   cargo run --release -p score --example staging -- FILE ROWS

use shared::features::{BedroomFills, FALLBACK_GROUP};
use shared::scoring::join::join;
use shared::scoring::prepare::prepare;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).expect("a file of the run").len()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (source, rows) = match (args.next(), args.next().and_then(|n| n.parse().ok())) {
        (Some(source), Some(rows)) => (source, rows),
        _ => panic!("usage: staging FILE ROWS (a housing CSV, the rows to score)"),
    };
    let work = tempfile::tempdir().expect("a working directory");
    let path = |name: &str| work.path().join(name);

    // The file: the source's header, then its data rows again and again.
    let text = std::fs::read_to_string(&source).expect("the source reads");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let data: Vec<&str> = lines.collect();
    let mut file = BufWriter::new(File::create(path("input.csv")).unwrap());
    writeln!(file, "{header}").unwrap();
    for i in 0..rows {
        writeln!(file, "{}", data[i % data.len()]).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();

    let fills = BedroomFills {
        values: [(FALLBACK_GROUP.to_string(), 435.0)].into(),
    };
    let started = Instant::now();
    let prepared = prepare(
        BufReader::new(File::open(path("input.csv")).unwrap()),
        &fills,
        BufWriter::new(File::create(path("features.csv")).unwrap()),
        BufWriter::new(File::create(path("rows.csv")).unwrap()),
        BufWriter::new(File::create(path("quarantine.csv")).unwrap()),
    )
    .expect("the file prepares");
    let prepare_seconds = started.elapsed().as_secs_f64();

    // The container's answers: one JSON document per 6 MB mini-batch of lines.
    let mut output = BufWriter::new(File::create(path("output")).unwrap());
    let (mut batch, mut bytes) = (0usize, 0usize);
    let answer = |n: usize, out: &mut BufWriter<File>| {
        let scores = vec![r#"{"score": 1.0}"#; n].join(", ");
        writeln!(out, r#"{{"predictions": [{scores}]}}"#).unwrap();
    };
    for line in BufReader::new(File::open(path("features.csv")).unwrap()).lines() {
        let cost = line.unwrap().len() + 1;
        if batch > 0 && bytes + cost > 6 * 1024 * 1024 {
            answer(batch, &mut output);
            (batch, bytes) = (0, 0);
        }
        batch += 1;
        bytes += cost;
    }
    if batch > 0 {
        answer(batch, &mut output);
    }
    output.flush().unwrap();
    drop(output);

    let started = Instant::now();
    let joined = join(
        BufReader::new(File::open(path("rows.csv")).unwrap()),
        BufReader::new(File::open(path("output")).unwrap()),
        BufWriter::new(File::create(path("predictions.csv")).unwrap()),
        BufWriter::new(File::create(path("predictions.parquet")).unwrap()),
    )
    .expect("the answers join");
    let join_seconds = started.elapsed().as_secs_f64();

    let files = [
        "input.csv",
        "features.csv",
        "rows.csv",
        "quarantine.csv",
        "output",
        "predictions.csv",
        "predictions.parquet",
    ]
    .map(|name| (name, size(&path(name))));
    let input = files[0].1 as f64;
    let start = files[..4].iter().map(|(_, s)| *s).sum::<u64>() as f64;
    let end = files[2..].iter().filter(|(n, _)| *n != "quarantine.csv");
    let end = end.map(|(_, s)| *s).sum::<u64>() as f64;
    let report = serde_json::json!({
        "rows_in": prepared.rows_in,
        "rows_scored": joined.rows,
        "rows_quarantined": prepared.rows_quarantined,
        "bytes": files.iter().map(|(n, s)| (n.to_string(), *s)).collect::<std::collections::BTreeMap<_, _>>(),
        "staged_at_start_times_input": start / input,
        "staged_at_end_times_input": end / input,
        "prepare_seconds": prepare_seconds,
        "join_seconds": join_seconds,
    });
    println!("{report:#}");
}
