#!/usr/bin/env python3
"""The housing ETL in pandas — what a Python Glue/pandas job does — doing the same work
as the Rust ETL: read, validate every row against the contract (quarantining with
reasons), drop exact duplicates, impute bedrooms by ocean_proximity median, flag
census top-codes, engineer features, split reproducibly, and write Parquet per split,
the XGBoost CSV channels, quarantine.csv and report.json.

usage: etl_pandas.py INPUT.csv OUT_DIR [--training-format csv|parquet]   (prints the summary as JSON)
"""

import json
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from contract import (  # noqa: E402
    cli, channel_file, channel_parquet,
    CAPPED, CATEGORIES, CATEGORY, MISSING_TOKENS, NUMERIC, NUMERIC_NAMES, PARQUET_COLUMNS,
    QUANTILES, RATIOS, XGBOOST_COLUMNS, capped_flag, one_hot, splits,
)

MAX_EXTRA_FIELDS = 16


def run(path: str, out: str, training_format: str = "csv") -> dict:
    with open(path, newline="") as f:
        header = [h.strip().lower().lstrip("\ufeff") for h in f.readline().rstrip("\r\n").split(",")]
    width = len(header)
    # Every field as text (rows with too many fields fill the spare columns).
    raw = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_values=[], header=None, skiprows=1,
        names=list(range(width + MAX_EXTRA_FIELDS)), engine="c",
    )
    rows_in = len(raw)
    line = np.arange(rows_in) + 2
    # Absent fields read as "" like empty ones: count each line's fields from its text
    # (the housing feed has no quoted commas).
    lines = pd.read_csv(path, sep="\x01", header=None, skiprows=1, dtype=str, quoting=3,
                        keep_default_na=False, engine="c")[0]
    field_count_ok = (lines.str.count(",") + 1 == width).to_numpy()
    raw = raw.iloc[:, :width]
    raw.columns = header

    duplicate = raw.duplicated(keep="first").to_numpy()
    masks = {}  # reason -> rows carrying it, in the order the ETL checks them

    def flag(mask, reason):
        masks[reason] = np.asarray(mask, dtype=bool)

    ok_rows = field_count_ok
    flag(~ok_rows, "field_count")
    values = {}
    for name, lo, hi, imputable, _ in NUMERIC:
        text = raw[name].fillna("").str.strip()
        missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
        number = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
        not_a_number = ~missing & np.isnan(number)
        out_of_range = ~missing & ~not_a_number & (~np.isfinite(number) | (number < lo) | (number > hi))
        if not imputable:
            flag(ok_rows & missing, f"missing_value:{name}")
        flag(ok_rows & not_a_number, f"not_a_number:{name}")
        flag(ok_rows & out_of_range, f"out_of_range:{name}")
        number[missing | not_a_number | out_of_range] = np.nan
        values[name] = number
    category_text = raw[CATEGORY].fillna("")
    category_missing = category_text.str.strip().str.lower().isin(MISSING_TOKENS).to_numpy()
    normalised = category_text.str.split().str.join(" ").str.upper()
    known = normalised.isin(CATEGORIES).to_numpy()
    flag(ok_rows & category_missing, f"missing_value:{CATEGORY}")
    flag(ok_rows & ~category_missing & ~known, f"unknown_category:{CATEGORY}")
    flag(ok_rows & (values["total_bedrooms"] > values["total_rooms"]), "bedrooms_exceed_rooms")

    has_reason = np.logical_or.reduce(list(masks.values()))
    quarantined = ~duplicate & has_reason
    keep = ~duplicate & ~has_reason
    rows_q = np.flatnonzero(quarantined)
    reasons_q = [";".join(r for r, m in masks.items() if m[i]) for i in rows_q]

    frame = pd.DataFrame({name: values[name][keep] for name in NUMERIC_NAMES})
    frame.insert(0, "source_line", line[keep])
    frame[CATEGORY] = normalised.to_numpy()[keep]
    frame.insert(1, "split", splits(frame[NUMERIC_NAMES].to_numpy(), frame[CATEGORY].tolist()))

    # Impute bedrooms: the row's ocean_proximity median, never above its total_rooms.
    medians = frame.groupby(CATEGORY)["total_bedrooms"].median()
    overall = frame["total_bedrooms"].median()
    fill = frame[CATEGORY].map(medians).fillna(overall)
    fill = np.minimum(fill, frame["total_rooms"])
    frame["total_bedrooms_imputed"] = frame["total_bedrooms"].isna()
    frame["total_bedrooms"] = frame["total_bedrooms"].fillna(fill)
    for name, _, _, _, cap in NUMERIC:
        if cap is not None:
            frame[capped_flag(name)] = frame[name] >= cap

    frame["rooms_per_household"] = frame["total_rooms"] / frame["households"]
    frame["bedrooms_per_room"] = frame["total_bedrooms"] / frame["total_rooms"]
    frame["population_per_household"] = frame["population"] / frame["households"]
    for category in CATEGORIES:
        frame[one_hot(category)] = (frame[CATEGORY] == category).astype("int32")
    frame = frame[PARQUET_COLUMNS]

    os.makedirs(out, exist_ok=True)
    split_counts = {}
    for split in ("train", "validation", "test"):
        part = frame[frame["split"] == split]
        split_counts[split] = len(part)
        part.to_parquet(os.path.join(out, f"{split}.parquet"), compression="zstd", index=False)
        channel = os.path.join(out, channel_file(split, training_format))
        if channel_parquet(split, training_format):
            part[XGBOOST_COLUMNS].astype("float64").to_parquet(channel, compression="zstd", index=False)
        else:
            part[XGBOOST_COLUMNS].to_csv(channel, header=False, index=False)

    q = raw[quarantined].copy()
    q.insert(0, "reasons", reasons_q)
    q.insert(0, "line", line[quarantined])
    q.to_csv(os.path.join(out, "quarantine.csv"), index=False)

    stats = {}
    for name in NUMERIC_NAMES + RATIOS:
        column = frame[name]
        stats[name] = {
            "min": float(column.min()), "max": float(column.max()), "mean": float(column.mean()),
            "null_count": int(column.isna().sum()),
            "quantiles": {k: float(column.quantile(p, interpolation="linear")) for k, p in QUANTILES},
        }
    reason_counts = {r: int((m & quarantined).sum()) for r, m in masks.items() if (m & quarantined).any()}
    summary = {
        "rows_in": rows_in,
        "rows_out": int(keep.sum()),
        "rows_quarantined": int(quarantined.sum()),
        "rows_duplicate": int(duplicate.sum()),
        "splits": split_counts,
        "imputed": int(frame["total_bedrooms_imputed"].sum()),
        "capped": {c: int(frame[capped_flag(c)].sum()) for c in CAPPED},
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"summary": summary, "reasons": reason_counts, "columns": stats,
                   "imputation": {k: float(v) for k, v in medians.items()}}, f, indent=2)
    return summary


if __name__ == "__main__":
    cli(run, __doc__)
