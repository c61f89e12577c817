#!/usr/bin/env python3
"""Runs our ETL (the release `housing-etl`) and the references (bench/reference/: DuckDB SQL,
idiomatic Python Polars, and the exact Python Polars and pandas ports) on the same files,
interleaved, several times each, measures the machine's ceiling on each file (`cat`, and
the `ceiling` example: line splitting, UTF-8, a bare CSV parse), and writes BENCHMARKS.md
(median wall time, throughput, peak RSS, ratios) and bench/chart.png.

Each implementation runs in each training format asked for (`--formats`): `csv` writes the
XGBoost channels as CSV (the default), `parquet` writes the train and validation channels as
label-first Parquet (`housing-etl --training-format parquet`, and the same in the references).
Ratios compare runs of the same format: the same work.

usage: benchmark.py --etl PATH --ceiling PATH [--rows 20640,1000000,10000000] [--reps 3]
                    [--formats csv,parquet] [--parquet-implementations rust,duckdb,...]
       benchmark.py --report-only [--bin-dir DIR]   (BENCHMARKS.md again from bench/results/
                    results.json, with the profiles and package sizes there are now)
(bench/run builds the ETL, prepares the venv and calls this.)
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "bench", "data")
PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
REAL = os.path.join(ROOT, "data", "housing.csv")
REAL_ROWS = 20640
sys.path.insert(0, os.path.join(ROOT, "infra", "checks"))
from package_budgets import BUDGETS, sizes as package_sizes  # noqa: E402  (one definition, CI's)


def etl_memory_mb() -> int:
    """The ETL function's MemorySize in infra/template.yaml."""
    template = open(os.path.join(ROOT, "infra", "template.yaml")).read()
    return int(re.search(r"\n  EtlFunction:\n(?:    .*\n|\n)*?      MemorySize: (\d+)", template).group(1))


LAMBDA_MEMORY_MB = etl_memory_mb()


def data_file(rows: int) -> str:
    if rows == REAL_ROWS:
        return REAL
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, f"housing-{rows}.csv")
    if not os.path.exists(path):
        subprocess.run([PYTHON, os.path.join(ROOT, "bench", "generate.py"), str(rows), path + ".tmp"], check=True, cwd=ROOT)
        os.replace(path + ".tmp", path)
    return path


def measure(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes, stdout (GNU time reports the RSS)."""
    with tempfile.NamedTemporaryFile("r") as report:
        out = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name] + command,
                             check=True, capture_output=True, text=True, cwd=ROOT)
        wall, rss_kb = report.read().split()[-2:]
    return float(wall), int(rss_kb) * 1024, out.stdout


def rows_out(implementation: str, out_dir: str, stdout: str) -> int:
    if implementation == "rust":
        with open(os.path.join(out_dir, "report.json")) as f:
            return json.load(f)["rows_out"]
    return json.loads(stdout)["rows_out"]


IMPLEMENTATIONS = ["rust", "duckdb", "polars_idiomatic", "polars", "pandas"]
LABELS = {
    "rust": "**housing-mlops**",
    "duckdb": "DuckDB SQL",
    "polars_idiomatic": "Python Polars, idiomatic",
    "polars": "Python Polars, exact port",
    "pandas": "pandas, exact port",
}
SCRIPTS = {
    "duckdb": "etl_duckdb.py",
    "polars_idiomatic": "etl_polars_idiomatic.py",
    "polars": "etl_polars.py",
    "pandas": "etl_pandas.py",
}


FORMATS = ["csv", "parquet"]
FORMAT_LABELS = {"csv": "CSV channels", "parquet": "Parquet training channels"}


def variant(implementation: str, training_format: str) -> str:
    """A run's key: the implementation, and `:parquet` for the Parquet training channels."""
    return implementation if training_format == "csv" else f"{implementation}:{training_format}"


def command(etl: str, implementation: str, training_format: str, input_path: str, out_dir: str) -> list:
    if implementation == "rust":
        base = [etl, "--input", input_path, "--output", out_dir]
    else:
        base = [PYTHON, os.path.join(ROOT, "bench", "reference", SCRIPTS[implementation]), input_path, out_dir]
    return base + ["--training-format", training_format]


def ceiling(tool: str, input_path: str, reps: int) -> dict:
    """Seconds for the machine's own ceiling on the file, medians of `reps`, warm cache:
    `cat FILE > /dev/null` as a whole process, and the ceiling example's steps (one core)."""
    cats, steps = [], []
    for _ in range(reps):
        with open(os.devnull, "w") as null:
            start = time.perf_counter()
            subprocess.run(["cat", input_path], stdout=null, check=True)
            cats.append(time.perf_counter() - start)
        out = subprocess.run([tool, input_path], check=True, capture_output=True, text=True)
        steps.append(json.loads(out.stdout))
    result = {"cat": statistics.median(cats)}
    for step in ("read", "split_lines", "check_utf8", "csv_records", "csv_numbers"):
        result[step] = statistics.median(s[step] for s in steps)
    return result


def chart(results: dict, path: str) -> None:
    """The CSV-channel runs (every implementation runs them)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, (wall, rss) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.16
    for i, implementation in enumerate(IMPLEMENTATIONS):
        xs = [j + (i - 2) * width for j in range(len(sizes))]
        label = LABELS[implementation].strip("*")
        wall.bar(xs, [results[s][implementation]["wall_median"] for s in sizes], width, label=label)
        rss.bar(xs, [results[s][implementation]["rss_median"] / 2**20 for s in sizes], width, label=label)
    for axis, title in [(wall, "wall time (s, median, log scale)"), (rss, "peak RSS (MiB, median, log scale)")]:
        axis.set_xticks(range(len(sizes)), [f"{s:,} rows" for s in sizes])
        axis.set_yscale("log")
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    wall.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--etl")
    parser.add_argument("--ceiling", help="the release `ceiling` example (functions/etl/examples)")
    parser.add_argument("--report-only", action="store_true", help="write BENCHMARKS.md from the last run's results")
    parser.add_argument("--rows", default=f"{REAL_ROWS},1000000,10000000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--bin-dir", help="release Lambda binaries: measure their cold starts too")
    parser.add_argument("--cold-start-functions", help="only these (comma-separated; default: all)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="training formats to run (comma-separated)")
    parser.add_argument("--parquet-implementations", default=",".join(IMPLEMENTATIONS),
                        help="the implementations run with Parquet training channels (default: all)")
    args = parser.parse_args()
    results_path = os.path.join(ROOT, "bench", "results", "results.json")
    if args.report_only:
        with open(results_path) as f:
            results = {int(rows): r for rows, r in json.load(f).items()}
        sizes = sorted(results)
        formats = [f for f in FORMATS if any(variant("rust", f) in results[rows] for rows in sizes)]
        reps = len(results[sizes[0]]["rust"]["walls"])
        write_markdown(results, sizes, formats, reps, cold_starts(args))
        return 0
    if not (args.etl and args.ceiling):
        parser.error("--etl and --ceiling are required (or --report-only)")
    sizes = [int(r) for r in args.rows.split(",")]
    formats = [f for f in FORMATS if f in args.formats.split(",")]
    parquet_implementations = args.parquet_implementations.split(",")
    variants = [(impl, fmt) for fmt in formats for impl in IMPLEMENTATIONS
                if fmt == "csv" or impl in parquet_implementations]
    inputs = {rows: data_file(rows) for rows in sizes}
    runs = {rows: {variant(*v): [] for v in variants} for rows in sizes}
    for rep in range(args.reps):
        for rows in sizes:
            shift = rep % len(variants)
            order = variants[shift:] + variants[:shift]  # interleaved: no implementation always goes first
            for implementation, training_format in order:
                key = variant(implementation, training_format)
                with tempfile.TemporaryDirectory() as out_dir:
                    wall, rss, stdout = measure(command(args.etl, implementation, training_format, inputs[rows], out_dir))
                    runs[rows][key].append({"wall": wall, "rss": rss, "rows_out": rows_out(implementation, out_dir, stdout)})
                print(f"benchmark: rep {rep + 1}/{args.reps} {rows:>10,} rows {key:<24} {wall:8.2f} s {rss / 2**20:8.0f} MiB", file=sys.stderr)

    results = {}
    for rows in sizes:
        results[rows] = {}
        outs = {r["rows_out"] for impl in runs[rows].values() for r in impl}
        assert len(outs) == 1, f"{rows} rows: the implementations disagree on rows out: {outs}"
        for implementation, reps in runs[rows].items():
            results[rows][implementation] = {
                "wall_median": statistics.median(r["wall"] for r in reps),
                "rss_median": statistics.median(r["rss"] for r in reps),
                "walls": [r["wall"] for r in reps],
                "rows_out": reps[0]["rows_out"],
            }
        results[rows]["ceiling"] = ceiling(args.ceiling, inputs[rows], args.reps)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(results_path, "w") as f:
        json.dump(results, f, indent=2)
    chart(results, os.path.join(ROOT, "bench", "chart.png"))
    write_markdown(results, sizes, formats, args.reps, cold_starts(args))
    return 0


def cold_starts(args) -> dict | None:
    """The release Lambda binaries' cold starts (bench/coldstart.py), when --bin-dir names them."""
    if not args.bin_dir:
        return None
    only = ["--functions", args.cold_start_functions] if args.cold_start_functions else []
    out = subprocess.run([PYTHON, os.path.join(ROOT, "bench", "coldstart.py"), "--bin-dir", args.bin_dir] + only,
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


# Where the hand-measured part of BENCHMARKS.md starts (builds, CI, the main job).
HAND_MEASURED = "<!-- measured by hand: bench/run keeps everything from here on -->"


def write_markdown(results: dict, sizes: list, formats: list, reps: int, cold: dict | None) -> None:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run` (do not edit by hand). Five implementations of the housing ETL on the",
        "same files, same machine, one run, each the median of " f"{reps} runs, interleaved; wall time is the",
        "whole process (start-up, read, work, write), peak RSS from GNU time. Versions are pinned in",
        "`bench/requirements.txt`. Each runs with the XGBoost channels as CSV and, where the table",
        "shows it, with label-first Parquet train and validation channels (`--training-format parquet`;",
        "the test channel stays CSV); ratios compare runs of the same format. What each does:",
        "",
        "| implementation | what it does |",
        "|---|---|",
        "| **housing-mlops** (`housing-etl`, release) | the whole-file checks (UTF-8, line and quote bounds), every contract check with *all* of a row's reasons, exact duplicates, imputation from group medians, top-code flags, features, the xxh3 split, Parquet per split, XGBoost channels, quarantine CSV, and the report: column statistics (min, max, mean, quantiles) and the drift profile (histograms, category shares) |",
        "| DuckDB SQL (`etl_duckdb.py`) | `read_csv` as text, `TRY_CAST` and `CASE` for the same checks with *one* reason a row, duplicates by `GROUP BY ALL`, window median, `hash()` split, `COPY` to the same Parquet, CSV channels and quarantine CSV; counts only in the report |",
        "| Python Polars, idiomatic (`etl_polars_idiomatic.py`) | one lazy plan of expressions doing what the DuckDB script does (one reason a row, Polars' own hash for the split), the same outputs; counts only in the report |",
        "| Python Polars and pandas, exact ports (`etl_polars.py`, `etl_pandas.py`) | ours, step for step: all reasons, the xxh3 split, column statistics (no drift profile) |",
        "",
        "The tests (`tests/tests/bench_reference.rs`) check that all of them give our counts (rows in and",
        "out, quarantined, duplicates, imputed, capped) and our cleaned values; the exact ports also our",
        "splits and reasons.",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}; "
        f"{datetime.date.today().isoformat()}. Inputs: `data/housing.csv` (20,640 rows) and files made",
        "from it by `bench/generate.py` (seeded: resampled rows with jitter, ~1 % missing bedrooms,",
        "~0.1 % bad rows, ~0.5 % duplicates).",
        "",
        "| rows | file | channels | implementation | wall (s) | rows/s | MB/s | peak RSS (MiB) | vs DuckDB | vs Polars, idiomatic | vs pandas |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    file_mb = {rows: os.path.getsize(data_file(rows)) / 1e6 for rows in sizes}
    for rows in sizes:
        size_mb = file_mb[rows]
        r = results[rows]
        for training_format in formats:
            for implementation in IMPLEMENTATIONS:
                x = r.get(variant(implementation, training_format))
                if x is None:
                    continue
                def ratio(other):
                    theirs = r.get(variant(other, training_format))
                    return f"{theirs['wall_median'] / x['wall_median']:.2f}×" if theirs else "not run"
                lines.append(
                    f"| {rows:,} | {size_mb:,.1f} MB | {training_format} | {LABELS[implementation]} | {x['wall_median']:.2f} | "
                    f"{rows / x['wall_median']:,.0f} | {size_mb / x['wall_median']:,.1f} | {x['rss_median'] / 2**20:,.0f} | "
                    f"{ratio('duckdb')} | {ratio('polars_idiomatic')} | {ratio('pandas')} |"
                )
    lines += ["", "![wall time and peak RSS](bench/chart.png)", ""]
    lines += [
        "## The machine's ceiling",
        "",
        "The same files in the same run, warm page cache: `cat FILE > /dev/null` (a whole process), and",
        "`functions/etl/examples/ceiling.rs` on one core: reading the file into memory, finding its lines",
        "(`memchr`), checking UTF-8, splitting it into records with the `csv` crate (as the ETL does), and",
        "the same with every number parsed (`str::parse::<f64>`, as the contract does). Our ETL's MB/s is",
        "for the whole job on two cores.",
        "",
        "| rows | file | `cat` | read | lines | UTF-8 | CSV records | CSV + numbers | housing-mlops (whole ETL, CSV channels) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rows in sizes:
        size_mb = file_mb[rows]
        c = results[rows]["ceiling"]
        speed = lambda seconds: f"{size_mb / seconds:,.0f} MB/s"
        lines.append(
            f"| {rows:,} | {size_mb:,.1f} MB | {speed(c['cat'])} | {speed(c['read'])} | {speed(c['split_lines'])} | "
            f"{speed(c['check_utf8'])} | {speed(c['csv_records'])} | {speed(c['csv_numbers'])} | "
            f"{speed(results[rows]['rust']['wall_median'])} |"
        )
    lines.append("")
    targets = []
    for training_format in formats:
        for rows in sizes:
            r = results[rows]
            ours = r.get(variant("rust", training_format))
            if ours is None:
                continue
            met = lambda value, target: f"{value:.2f}× ({'met' if value >= target else 'NOT met'}: ≥ {target}×)"
            against = []
            for other, label, target in [("polars_idiomatic", "idiomatic Polars", 2), ("duckdb", "DuckDB", 2), ("pandas", "pandas", 15)]:
                theirs = r.get(variant(other, training_format))
                against.append(f"{met(theirs['wall_median'] / ours['wall_median'], target)} {label}" if theirs else f"{label} not run")
            targets.append(
                f"- {FORMAT_LABELS[training_format]}, {rows:,} rows: {', '.join(against)}; "
                f"peak RSS {ours['rss_median'] / 2**20:,.0f} MiB."
            )
        largest = max(sizes)
        ours = results[largest].get(variant("rust", training_format))
        if ours is None:
            continue
        rss_mb = ours["rss_median"] / 1e6
        targets.append(
            f"- {FORMAT_LABELS[training_format]}, {largest:,} rows: peak RSS {rss_mb:,.0f} MB ({'met' if rss_mb <= 1500 else 'NOT met'}: ≤ 1,500 MB), "
            f"{'inside' if rss_mb <= LAMBDA_MEMORY_MB else 'OVER'} the ETL function's {LAMBDA_MEMORY_MB:,} MB "
            "(`infra/template.yaml`; the README's \"Limits of one ETL run\")."
        )
    lines += ["## Against the targets", ""] + targets + [""]
    # By rows, then the plain run before one with options.
    profile_key = lambda f: (int(f[len("profile-"):].split("-")[0].split(".")[0]), len(f))
    profiles = sorted((f for f in os.listdir(os.path.join(ROOT, "bench", "results")) if f.startswith("profile-")), key=profile_key)
    if profiles:
        lines += ["## Where our time goes", "",
                  "`bench/profile ROWS [OPTIONS]` (perf, the `profiling` build): the 20 functions with the most "
                  "samples of their own, all threads, for each run profiled.", ""]
        for name in profiles:
            text = open(os.path.join(ROOT, "bench", "results", name)).read().splitlines()
            title = text[0].lstrip("# ") if text and text[0].startswith("#") else name
            top = [l.strip() for l in text if not l.startswith("#")][:20]
            lines += [f"{title}:", "", "```"] + top + ["```", ""]
    sizes_found = package_sizes()
    lines += ["## Lambda packages (release `bootstrap`, arm64, zipped)", ""]
    if sizes_found:
        lines += ["| function | bootstrap | zipped | budget |", "|---|---:|---:|---:|"]
        for function, (raw, zipped) in sizes_found.items():
            lines.append(f"| {function} | {raw / 1e6:.1f} MB | {zipped / 1e6:.1f} MB | {BUDGETS[function] / 1e6:.0f} MB |")
    else:
        lines.append("Not measured in this run: `scripts/check-infra` (sam build) makes the packages.")
    lines += ["", "## Cold start (process start to ready for the first event; target ≤ 30 ms)", ""]
    if cold:
        lines += ["Release x86_64 builds under `bench/coldstart.py`'s minimal Lambda Runtime API; median of each",
                  "function's fresh starts (configuration read and validated, SDK configuration and clients built).", "",
                  "| function | median | min | max | runs |", "|---|---:|---:|---:|---:|"]
        for function, c in cold.items():
            lines.append(f"| {function} | {c['median_ms']:.1f} ms | {c['min_ms']:.1f} ms | {c['max_ms']:.1f} ms | {c['runs']} |")
    else:
        lines.append("Not measured in this run (`bench/run` measures it; `bench/coldstart.py --bin-dir DIR` alone).")
    lines.append("")
    # The builds, CI and the main job are measured by hand below the marker: kept as they are.
    path = os.path.join(ROOT, "BENCHMARKS.md")
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if HAND_MEASURED in old:
            kept = old[old.index(HAND_MEASURED):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    sys.exit(main())
