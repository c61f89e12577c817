#!/usr/bin/env python3
"""Scales the real data/housing.csv to any number of rows, reproducibly.

Rows are resampled from the real file with small deterministic jitter (coordinates by
up to 0.01 degrees, counts by up to 2 %, income by up to 1 %, ages by a year, values by
up to 1 %, all kept inside the contract's ranges), then, as real feeds do:

- about 1 % of rows have `total_bedrooms` missing (housing.csv: 207 of 20,640);
- about 0.1 % are bad rows the ETL must quarantine: a non-numeric value, a value
  outside its range, an unknown `ocean_proximity`, more bedrooms than rooms, a missing
  field;
- about 0.5 % are exact duplicates of an earlier row.

The same seed and row count always give the same bytes.

usage: generate.py ROWS OUT.csv [--seed N] [--source data/housing.csv]
"""

import argparse
import csv
import sys

import numpy as np
import pandas as pd

COLUMNS = [
    "longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
    "population", "households", "median_income", "median_house_value", "ocean_proximity",
]
MISSING_BEDROOMS = 0.01
BAD_ROWS = 0.001
# Drawn for 1 % of rows; half point back to an earlier row, so about 0.5 % are duplicates.
DUPLICATES = 0.01


def generate(source: str, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    real = pd.read_csv(source)
    real = real[real["total_bedrooms"].notna()].reset_index(drop=True)
    picked = real.iloc[rng.integers(0, len(real), size=rows)].reset_index(drop=True)
    out = pd.DataFrame(index=picked.index)

    def jitter(column, spread, lo, hi, decimals):
        noise = rng.uniform(-spread, spread, size=rows)
        values = picked[column].to_numpy() * (1 + noise) if spread < 1 else picked[column].to_numpy() + noise
        return np.clip(np.round(values, decimals), lo, hi)

    out["longitude"] = np.clip(np.round(picked["longitude"].to_numpy() + rng.uniform(-0.01, 0.01, rows), 2), -124.6, -114.0)
    out["latitude"] = np.clip(np.round(picked["latitude"].to_numpy() + rng.uniform(-0.01, 0.01, rows), 2), 32.4, 42.1)
    out["housing_median_age"] = np.clip(picked["housing_median_age"].to_numpy() + rng.integers(-1, 2, rows), 1, 52).astype(float)
    out["total_rooms"] = jitter("total_rooms", 0.02, 1, 100_000, 0)
    out["total_bedrooms"] = np.minimum(jitter("total_bedrooms", 0.02, 0, 50_000, 0), out["total_rooms"])
    out["population"] = jitter("population", 0.02, 1, 100_000, 0)
    out["households"] = jitter("households", 0.02, 1, 50_000, 0)
    out["median_income"] = jitter("median_income", 0.01, 0.4999, 15.0001, 4)
    capped = picked["median_house_value"].to_numpy() >= 500_001
    value = jitter("median_house_value", 0.01, 14_999, 500_000, -2)
    out["median_house_value"] = np.where(capped, 500_001.0, value)
    out["ocean_proximity"] = picked["ocean_proximity"].to_numpy()

    text = out.astype(object)
    missing = rng.random(rows) < MISSING_BEDROOMS
    text.loc[missing, "total_bedrooms"] = ""

    bad = np.flatnonzero(rng.random(rows) < BAD_ROWS)
    kinds = rng.integers(0, 5, size=len(bad))
    for row, kind in zip(bad, kinds):
        if kind == 0:
            text.at[row, "median_income"] = "n/a"
        elif kind == 1:
            text.at[row, "latitude"] = 91.5
        elif kind == 2:
            text.at[row, "ocean_proximity"] = "MOON BASE"
        elif kind == 3:
            text.at[row, "total_bedrooms"] = float(out.at[row, "total_rooms"]) + 10
    # kind 4: a field short (median_house_value is left out when the row is written).
    short = set(bad[kinds == 4].tolist())

    duplicate_of = rng.integers(0, max(rows, 1), size=rows)
    is_duplicate = (rng.random(rows) < DUPLICATES) & (duplicate_of < np.arange(rows))
    order = np.where(is_duplicate, duplicate_of, np.arange(rows))
    text = text.iloc[order].reset_index(drop=True)
    short = {i for i, src in enumerate(order) if src in short}
    return text, short


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--source", default="data/housing.csv")
    args = parser.parse_args(argv)
    frame, short = generate(args.source, args.rows, args.seed)
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i, row in enumerate(frame.itertuples(index=False, name=None)):
            fields = ["" if v is None else (format(v, ".10g") if isinstance(v, float) else str(v)) for v in row]
            writer.writerow(fields[:-2] + fields[-1:] if i in short else fields)
    print(f"generate: {args.rows} rows (seed {args.seed}) -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
