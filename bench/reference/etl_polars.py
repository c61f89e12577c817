#!/usr/bin/env python3
"""The housing ETL in Python Polars, doing the same work as the Rust ETL and the pandas
reference (see etl_pandas.py): contract validation with reasons, duplicates, imputation,
top-code flags, features, the reproducible split, and the same outputs.

usage: etl_polars.py INPUT.csv OUT_DIR [--training-format csv|parquet]   (prints the summary as JSON)
"""

import json
import os
import sys

import numpy as np
import polars as pl

sys.path.insert(0, os.path.dirname(__file__))
from contract import (  # noqa: E402
    cli, channel_file, channel_parquet,
    CAPPED, CATEGORIES, CATEGORY, MISSING_TOKENS, NUMERIC, NUMERIC_NAMES, PARQUET_COLUMNS,
    QUANTILES, RATIOS, XGBOOST_COLUMNS, capped_flag, one_hot, splits,
)


def run(path: str, out: str, training_format: str = "csv") -> dict:
    with open(path, newline="") as f:
        header = [h.strip().lower().lstrip("\ufeff") for h in f.readline().rstrip("\r\n").split(",")]
    width = len(header)
    raw = pl.read_csv(
        path, has_header=False, skip_rows=1, new_columns=header, infer_schema=False,
        empty_string_is_null=False, truncate_ragged_lines=True,
    )
    # Field counts from each line's text (the housing feed has no quoted commas).
    lines = pl.read_csv(path, has_header=False, skip_rows=1, separator="\x01", quote_char=None,
                        infer_schema=False, new_columns=["line"])
    raw = raw.with_columns(
        source_line=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
        field_count_ok=(lines["line"].str.count_matches(",", literal=True) + 1 == width),
        duplicate=pl.struct(header).is_first_distinct().not_(),
    )

    # Stage 1: each field once — stripped, missing or not, as a number.
    stage1 = []
    for name in NUMERIC_NAMES:
        text = pl.col(name).str.strip_chars()
        stage1 += [
            text.str.to_lowercase().is_in(list(MISSING_TOKENS)).alias(f"_missing_{name}"),
            text.cast(pl.Float64, strict=False).alias(f"_number_{name}"),
        ]
    category_text = pl.col(CATEGORY).str.strip_chars()
    stage1 += [
        category_text.str.to_lowercase().is_in(list(MISSING_TOKENS)).alias("_missing_category"),
        category_text.str.replace_all(r"\s+", " ").str.to_uppercase().alias("_category"),
    ]
    # Stage 2: the checks, in the order the ETL makes them, and the parsed values.
    checks, parsed = [], []  # checks: (reason, condition)
    for name, lo, hi, imputable, _ in NUMERIC:
        missing, number = pl.col(f"_missing_{name}"), pl.col(f"_number_{name}")
        not_a_number = missing.not_() & number.is_null()
        out_of_range = missing.not_() & number.is_not_null() & (number.is_infinite() | (number < lo) | (number > hi))
        if not imputable:
            checks.append((f"missing_value:{name}", missing))
        checks.append((f"not_a_number:{name}", not_a_number))
        checks.append((f"out_of_range:{name}", out_of_range))
        parsed.append(pl.when(missing | not_a_number | out_of_range).then(None).otherwise(number).alias(f"_{name}"))
    checks.append((f"missing_value:{CATEGORY}", pl.col("_missing_category")))
    checks.append((f"unknown_category:{CATEGORY}", pl.col("_missing_category").not_() & pl.col("_category").is_in(CATEGORIES).not_()))
    flags = [(pl.col("field_count_ok") & condition.fill_null(False)).alias(f"_r{i}") for i, (_, condition) in enumerate(checks)]
    exceed = len(checks)
    # Stage 3: bedrooms against rooms (parsed values); any reason at all. A row with the
    # wrong number of fields has that one reason only.
    checked = (
        raw.lazy()
        .with_columns(stage1)
        .with_columns(parsed + flags)
        .with_columns(
            (pl.col("field_count_ok") & (pl.col("_total_bedrooms") > pl.col("_total_rooms")).fill_null(False)).alias(f"_r{exceed}")
        )
        .with_columns(
            has_reason=pl.col("field_count_ok").not_() | pl.any_horizontal([f"_r{i}" for i in range(exceed + 1)])
        )
        .collect()
    )
    reason_names = [r for r, _ in checks] + ["bedrooms_exceed_rooms"]
    quarantined_mask = pl.col("duplicate").not_() & pl.col("has_reason")
    keep = checked.filter(pl.col("duplicate").not_() & pl.col("has_reason").not_()).select(
        ["source_line"] + [pl.col(f"_{n}").alias(n) for n in NUMERIC_NAMES] + [pl.col("_category").alias(CATEGORY)]
    )
    values = keep.select(NUMERIC_NAMES).to_numpy().astype(float)
    keep = keep.with_columns(split=pl.Series(splits(values, keep[CATEGORY].to_list())))

    medians = keep.group_by(CATEGORY).agg(pl.col("total_bedrooms").median().alias("_median"))
    overall = keep["total_bedrooms"].median()
    frame = (
        keep.lazy()
        .join(medians.lazy(), on=CATEGORY, how="left")
        .with_columns(
            total_bedrooms_imputed=pl.col("total_bedrooms").is_null(),
            total_bedrooms=pl.col("total_bedrooms").fill_null(
                pl.min_horizontal(pl.col("_median").fill_null(overall), pl.col("total_rooms"))
            ),
            **{capped_flag(n): pl.col(n) >= cap for n, _, _, _, cap in NUMERIC if cap is not None},
        )
        .with_columns(
            rooms_per_household=pl.col("total_rooms") / pl.col("households"),
            bedrooms_per_room=pl.col("total_bedrooms") / pl.col("total_rooms"),
            population_per_household=pl.col("population") / pl.col("households"),
            **{one_hot(c): (pl.col(CATEGORY) == c).cast(pl.Int32) for c in CATEGORIES},
        )
        .select(PARQUET_COLUMNS)
        .collect()
    )

    os.makedirs(out, exist_ok=True)
    split_counts = {}
    for split in ("train", "validation", "test"):
        part = frame.filter(pl.col("split") == split)
        split_counts[split] = part.height
        part.write_parquet(os.path.join(out, f"{split}.parquet"), compression="zstd")
        channel = os.path.join(out, channel_file(split, training_format))
        if channel_parquet(split, training_format):
            part.select(pl.col(XGBOOST_COLUMNS).cast(pl.Float64)).write_parquet(channel, compression="zstd")
        else:
            part.select(XGBOOST_COLUMNS).write_csv(channel, include_header=False)

    quarantined = checked.filter(quarantined_mask).with_columns(
        reasons=pl.when(pl.col("field_count_ok").not_())
        .then(pl.lit("field_count"))
        .otherwise(pl.concat_str([pl.when(pl.col(f"_r{i}")).then(pl.lit(r)) for i, r in enumerate(reason_names)],
                                 separator=";", ignore_nulls=True))
    )
    raw_q = quarantined.select([pl.col("source_line").alias("line"), "reasons"] + header)
    raw_q.write_csv(os.path.join(out, "quarantine.csv"))

    stats = {}
    for name in NUMERIC_NAMES + RATIOS:
        column = frame[name]
        stats[name] = {
            "min": column.min(), "max": column.max(), "mean": column.mean(), "null_count": column.null_count(),
            "quantiles": {k: column.quantile(p, interpolation="linear") for k, p in QUANTILES},
        }
    reasons = quarantined["reasons"].str.split(";").explode().value_counts()
    summary = {
        "rows_in": raw.height,
        "rows_out": frame.height,
        "rows_quarantined": quarantined.height,
        "rows_duplicate": int(checked["duplicate"].sum()),
        "splits": split_counts,
        "imputed": int(frame["total_bedrooms_imputed"].sum()),
        "capped": {c: int(frame[capped_flag(c)].sum()) for c in CAPPED},
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"summary": summary, "reasons": dict(zip(reasons[:, 0].to_list(), reasons[:, 1].to_list())),
                   "columns": stats, "imputation": dict(medians.iter_rows())}, f, indent=2)
    return summary


if __name__ == "__main__":
    np.seterr(all="ignore")
    cli(run, __doc__)
