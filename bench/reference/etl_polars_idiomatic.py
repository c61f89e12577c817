#!/usr/bin/env python3
"""The housing ETL as a competent Python Polars user would write it: one lazy plan of
vectorised expressions, no per-row Python. The same steps and rules as our ETL (the data
contract in contract.py: missing tokens, ranges, categories, bedrooms against rooms;
exact duplicates of the raw fields; total_bedrooms imputed from the kept rows' group
medians; top-code flags; features; Parquet per split; the XGBoost CSV channels; the
quarantine CSV), with what such a script leaves out:

- one reason per quarantined row (the first check it fails), not all of them;
- the split is Polars' own row hash modulo 100, not our xxh3 of the parsed values (the
  same proportions, other rows);
- a row with too few fields reads as missing values; one with too many is cut short;
- no column statistics or drift profile in the report (counts and reasons only).

usage: etl_polars_idiomatic.py INPUT.csv OUT_DIR [--training-format csv|parquet]   (prints the summary as JSON)
"""

import json
import os
import sys

import polars as pl

sys.path.insert(0, os.path.dirname(__file__))
from contract import (  # noqa: E402
    cli, channel_file, channel_parquet,
    CAPPED, CATEGORIES, CATEGORY, MISSING_TOKENS, NUMERIC, NUMERIC_NAMES, PARQUET_COLUMNS,
    RATIOS, SPLITS, XGBOOST_COLUMNS, capped_flag, one_hot,
)

SEED = 20261123


def run(path: str, out: str, training_format: str = "csv") -> dict:
    raw = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    raw = raw.rename({c: c.strip().lower().lstrip("\ufeff") for c in raw.columns})
    rows = raw.height
    unique = raw.lazy().with_row_index("source_line", offset=2).unique(subset=NUMERIC_NAMES + [CATEGORY], keep="first", maintain_order=True)

    def missing(name):
        return pl.col(name).is_null() | pl.col(name).str.strip_chars().str.to_lowercase().is_in(list(MISSING_TOKENS))

    numbers = {name: pl.col(name).str.strip_chars().cast(pl.Float64, strict=False) for name in NUMERIC_NAMES}
    category = pl.col(CATEGORY).str.strip_chars().str.replace_all(r"\s+", " ").str.to_uppercase()
    reasons = []
    for name, lo, hi, imputable, _ in NUMERIC:
        if not imputable:
            reasons.append(pl.when(missing(name)).then(pl.lit(f"missing_value:{name}")))
        reasons.append(pl.when(~missing(name) & numbers[name].is_null()).then(pl.lit(f"not_a_number:{name}")))
        reasons.append(pl.when(~missing(name) & ~numbers[name].is_between(lo, hi)).then(pl.lit(f"out_of_range:{name}")))
    reasons.append(pl.when(missing(CATEGORY)).then(pl.lit(f"missing_value:{CATEGORY}")))
    reasons.append(pl.when(~category.is_in(CATEGORIES)).then(pl.lit(f"unknown_category:{CATEGORY}")))
    reasons.append(pl.when(numbers["total_bedrooms"] > numbers["total_rooms"]).then(pl.lit("bedrooms_exceed_rooms")))
    checked = unique.with_columns(reason=pl.coalesce(reasons)).collect()

    edges = [sum(p for _, p in SPLITS[: i + 1]) for i in range(len(SPLITS))]
    bucket = pl.struct(NUMERIC_NAMES + [CATEGORY]).hash(SEED) % 100
    split = pl.when(bucket < edges[0]).then(pl.lit(SPLITS[0][0]))
    for (name, _), edge in zip(SPLITS[1:-1], edges[1:-1]):
        split = split.when(bucket < edge).then(pl.lit(name))
    split = split.otherwise(pl.lit(SPLITS[-1][0]))
    bedrooms = pl.col("total_bedrooms")
    frame = (
        checked.lazy()
        .filter(pl.col("reason").is_null())
        .with_columns(**{name: numbers[name] for name in NUMERIC_NAMES}, **{CATEGORY: category})
        .with_columns(
            split=split,
            total_bedrooms_imputed=bedrooms.is_null(),
            total_bedrooms=bedrooms.fill_null(
                pl.min_horizontal(bedrooms.median().over(CATEGORY).fill_null(bedrooms.median()), pl.col("total_rooms"))
            ),
            **{capped_flag(n): pl.col(n) >= cap for n, _, _, _, cap in NUMERIC if cap is not None},
        )
        .with_columns(
            rooms_per_household=pl.col("total_rooms") / pl.col("households"),
            bedrooms_per_room=bedrooms / pl.col("total_rooms"),
            population_per_household=pl.col("population") / pl.col("households"),
            **{one_hot(c): (pl.col(CATEGORY) == c).cast(pl.Int32) for c in CATEGORIES},
        )
        .select(PARQUET_COLUMNS)
        .collect()
    )

    os.makedirs(out, exist_ok=True)
    split_counts = {}
    for name, part in frame.partition_by("split", as_dict=True).items():
        split_counts[name[0]] = part.height
        part.write_parquet(os.path.join(out, f"{name[0]}.parquet"), compression="zstd")
        channel = os.path.join(out, channel_file(name[0], training_format))
        if channel_parquet(name[0], training_format):
            part.select(pl.col(XGBOOST_COLUMNS).cast(pl.Float64)).write_parquet(channel, compression="zstd")
        else:
            part.select(XGBOOST_COLUMNS).write_csv(channel, include_header=False)
    quarantined = checked.filter(pl.col("reason").is_not_null())
    quarantined.select(pl.col("source_line").alias("line"), pl.col("reason").alias("reasons"), pl.exclude("source_line", "reason")).write_csv(
        os.path.join(out, "quarantine.csv"))
    summary = {
        "rows_in": rows,
        "rows_out": frame.height,
        "rows_quarantined": quarantined.height,
        "rows_duplicate": rows - checked.height,
        "splits": split_counts,
        "imputed": int(frame["total_bedrooms_imputed"].sum()),
        "capped": {c: int(frame[capped_flag(c)].sum()) for c in CAPPED},
    }
    counts = quarantined["reason"].value_counts()
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"summary": summary, "reasons": dict(counts.iter_rows())}, f, indent=2)
    return summary


if __name__ == "__main__":
    cli(run, __doc__)
