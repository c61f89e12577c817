#!/usr/bin/env python3
"""Runs our ETL (the release `housing-etl`), the pandas reference and the Python Polars
reference on the same files, interleaved, several times each, and writes BENCHMARKS.md
(median wall time, throughput, peak RSS, ratios) and bench/chart.png.

usage: benchmark.py --etl PATH [--rows 20640,1000000,10000000] [--reps 3]
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


def commands(etl: str, input_path: str, out_dir: str) -> dict:
    return {
        "rust": [etl, "--input", input_path, "--output", out_dir],
        "polars": [PYTHON, os.path.join(ROOT, "bench", "reference", "etl_polars.py"), input_path, out_dir],
        "pandas": [PYTHON, os.path.join(ROOT, "bench", "reference", "etl_pandas.py"), input_path, out_dir],
    }


def chart(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    implementations = ["rust", "polars", "pandas"]
    labels = {"rust": "housing-mlops (Rust, Polars)", "polars": "Python Polars", "pandas": "pandas"}
    fig, (wall, rss) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.27
    for i, implementation in enumerate(implementations):
        xs = [j + (i - 1) * width for j in range(len(sizes))]
        wall.bar(xs, [results[s][implementation]["wall_median"] for s in sizes], width, label=labels[implementation])
        rss.bar(xs, [results[s][implementation]["rss_median"] / 2**20 for s in sizes], width, label=labels[implementation])
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
    parser.add_argument("--etl", required=True)
    parser.add_argument("--rows", default=f"{REAL_ROWS},1000000,10000000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--bin-dir", help="release Lambda binaries: measure their cold starts too")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    inputs = {rows: data_file(rows) for rows in sizes}
    runs = {rows: {impl: [] for impl in ("rust", "polars", "pandas")} for rows in sizes}
    for rep in range(args.reps):
        for rows in sizes:
            order = ["rust", "polars", "pandas"]
            order = order[rep % 3:] + order[:rep % 3]  # interleaved: no implementation always goes first
            for implementation in order:
                with tempfile.TemporaryDirectory() as out_dir:
                    command = commands(args.etl, inputs[rows], out_dir)[implementation]
                    wall, rss, stdout = measure(command)
                    runs[rows][implementation].append({"wall": wall, "rss": rss, "rows_out": rows_out(implementation, out_dir, stdout)})
                print(f"benchmark: rep {rep + 1}/{args.reps} {rows:>10,} rows {implementation:<6} {wall:8.2f} s {rss / 2**20:8.0f} MiB", file=sys.stderr)

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
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    chart(results, os.path.join(ROOT, "bench", "chart.png"))
    cold = None
    if args.bin_dir:
        out = subprocess.run([PYTHON, os.path.join(ROOT, "bench", "coldstart.py"), "--bin-dir", args.bin_dir],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        cold = json.loads(out.stdout)
    write_markdown(results, sizes, args.reps, cold)
    return 0


def write_markdown(results: dict, sizes: list, reps: int, cold: dict | None) -> None:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run` (do not edit by hand). The same ETL — contract validation with",
        "reasons, duplicates, imputation, top-code flags, features, the reproducible split, Parquet per",
        "split, XGBoost CSV channels, quarantine CSV, report — in three implementations, on the same",
        "files, same machine, one run: ours (`housing-etl`, release build), the pandas reference and the",
        "Python Polars reference (`bench/reference/`, pinned in `bench/requirements.txt`; the tests check",
        "that all three give the same counts and the same cleaned values). Each cell is the median of",
        f"{reps} runs, interleaved; wall time is the whole process (start-up, read, work, write); peak RSS",
        "from GNU time.",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}; "
        f"{datetime.date.today().isoformat()}. Inputs: `data/housing.csv` (20,640 rows) and files made",
        "from it by `bench/generate.py` (seeded: resampled rows with jitter, ~1 % missing bedrooms,",
        "~0.1 % bad rows, ~0.5 % duplicates).",
        "",
        "| rows | file | implementation | wall (s) | rows/s | MB/s | peak RSS (MiB) | vs pandas (time) | vs Python Polars (time) | RSS vs pandas |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"rust": "**housing-mlops**", "polars": "Python Polars", "pandas": "pandas"}
    for rows in sizes:
        size_mb = os.path.getsize(data_file(rows)) / 1e6
        r = results[rows]
        for implementation in ("rust", "polars", "pandas"):
            x = r[implementation]
            lines.append(
                f"| {rows:,} | {size_mb:,.1f} MB | {names[implementation]} | {x['wall_median']:.2f} | "
                f"{rows / x['wall_median']:,.0f} | {size_mb / x['wall_median']:,.1f} | {x['rss_median'] / 2**20:,.0f} | "
                f"{r['pandas']['wall_median'] / x['wall_median']:.1f}× | {r['polars']['wall_median'] / x['wall_median']:.2f}× | "
                f"{x['rss_median'] / r['pandas']['rss_median']:.2f} |"
            )
    lines += ["", "![wall time and peak RSS](bench/chart.png)", ""]
    targets = []
    for rows in sizes:
        r = results[rows]
        targets.append(
            f"- {rows:,} rows: {r['pandas']['wall_median'] / r['rust']['wall_median']:.1f}× pandas (target ≥ 10×), "
            f"{r['polars']['wall_median'] / r['rust']['wall_median']:.2f}× Python Polars (target ≥ 1.0×), "
            f"peak RSS {r['rust']['rss_median'] / r['pandas']['rss_median']:.2f} of pandas' (target ≤ 0.5)."
        )
    largest = max(sizes)
    rss_mb = results[largest]["rust"]["rss_median"] / 1e6
    targets.append(
        f"- Lambda memory: {largest:,} rows ({os.path.getsize(data_file(largest)) / 1e6:,.0f} MB of CSV) peak at "
        f"{rss_mb:,.0f} MB, {'inside' if rss_mb <= LAMBDA_MEMORY_MB else 'OVER'} the ETL function's {LAMBDA_MEMORY_MB:,} MB "
        "(`infra/template.yaml`; the README's \"Limits of one ETL run\")."
    )
    lines += ["## Against the targets", ""] + targets + [""]
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
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
