#!/usr/bin/env python3
"""The housing ETL in DuckDB SQL: read_csv as text, TRY_CAST and CASE for the contract
checks (contract.py: missing tokens, ranges, categories, bedrooms against rooms), exact
duplicates dropped by grouping on the raw fields, total_bedrooms imputed from a window
median over the kept rows of each ocean_proximity, top-code flags, features, and COPY to
Parquet per split, the XGBoost CSV channels and the quarantine CSV. What it leaves out,
like etl_polars_idiomatic.py:

- one reason per quarantined row (the first check it fails);
- the split is DuckDB's hash() of the parsed values modulo 100, not our xxh3;
- a row with too few fields reads as missing values (null_padding); one with too many
  fails the read;
- no column statistics or drift profile in the report (counts and reasons only).

usage: etl_duckdb.py INPUT.csv OUT_DIR [--training-format csv|parquet]   (prints the summary as JSON)
"""

import json
import os
import sys

import duckdb

sys.path.insert(0, os.path.dirname(__file__))
from contract import (  # noqa: E402
    cli, channel_file, channel_parquet,
    CAPPED, CATEGORIES, CATEGORY, MISSING_TOKENS, NUMERIC, NUMERIC_NAMES, PARQUET_COLUMNS,
    SPLITS, XGBOOST_COLUMNS, capped_flag, one_hot,
)


def text(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def run(path: str, out: str, training_format: str = "csv") -> dict:
    db = duckdb.connect()
    columns = NUMERIC_NAMES + [CATEGORY]
    db.execute(f"""
        CREATE TEMP TABLE raw AS
        SELECT row_number() OVER () + 1 AS source_line, *
        FROM read_csv(?, header = true, all_varchar = true, null_padding = true, normalize_names = true)
    """, [path])
    # Each field trimmed, tested for a missing token and cast once (the m_ and n_ columns).
    typed = ", ".join(
        [f"(trim({c}) IS NULL OR lower(trim({c})) IN ({text(sorted(MISSING_TOKENS))})) AS m_{c}" for c in columns]
        + [f"TRY_CAST(trim({c}) AS DOUBLE) AS n_{c}" for c in NUMERIC_NAMES]
        + [f"upper(regexp_replace(trim({CATEGORY}), '\\s+', ' ', 'g')) AS c_{CATEGORY}"])
    cases = []
    for name, lo, hi, imputable, _ in NUMERIC:
        if not imputable:
            cases.append(f"WHEN m_{name} THEN 'missing_value:{name}'")
        cases.append(f"WHEN NOT m_{name} AND n_{name} IS NULL THEN 'not_a_number:{name}'")
        cases.append(f"WHEN NOT m_{name} AND NOT (n_{name} BETWEEN {lo} AND {hi}) THEN 'out_of_range:{name}'")
    cases.append(f"WHEN m_{CATEGORY} THEN 'missing_value:{CATEGORY}'")
    cases.append(f"WHEN c_{CATEGORY} NOT IN ({text(CATEGORIES)}) THEN 'unknown_category:{CATEGORY}'")
    cases.append("WHEN n_total_bedrooms > n_total_rooms THEN 'bedrooms_exceed_rooms'")
    db.execute(f"""
        CREATE TEMP TABLE checked AS
        SELECT *, CASE {' '.join(cases)} END AS reason
        FROM (SELECT *, {typed} FROM (SELECT min(source_line) AS source_line, {', '.join(columns)} FROM raw GROUP BY ALL))
    """)

    edges, total = [], 0
    for name, share in SPLITS:
        total += share
        edges.append(f"WHEN bucket < {total} THEN '{name}'")
    capped = {n: cap for n, _, _, _, cap in NUMERIC if cap is not None}
    db.execute(f"""
        CREATE TEMP TABLE frame AS
        WITH kept AS (
            SELECT source_line, {', '.join(f'CASE WHEN NOT m_{n} THEN n_{n} END AS {n}' for n in NUMERIC_NAMES)},
                c_{CATEGORY} AS {CATEGORY}
            FROM checked WHERE reason IS NULL
        ), imputed AS (
            SELECT * REPLACE (coalesce(total_bedrooms, least(coalesce(
                        median(total_bedrooms) OVER (PARTITION BY {CATEGORY}),
                        median(total_bedrooms) OVER ()), total_rooms)) AS total_bedrooms),
                total_bedrooms IS NULL AS total_bedrooms_imputed,
                hash({', '.join(columns)}) % 100 AS bucket
            FROM kept
        )
        SELECT CASE {' '.join(edges)} END AS split, *,
            total_rooms / households AS rooms_per_household,
            total_bedrooms / total_rooms AS bedrooms_per_room,
            population / households AS population_per_household,
            {', '.join(f"({CATEGORY} = '{c}')::INTEGER AS {one_hot(c)}" for c in CATEGORIES)},
            {', '.join(f'{n} >= {cap} AS {capped_flag(n)}' for n, cap in capped.items())}
        FROM imputed
    """)

    os.makedirs(out, exist_ok=True)
    for name, _ in SPLITS:
        where = f"FROM frame WHERE split = '{name}'"
        db.execute(f"COPY (SELECT {', '.join(PARQUET_COLUMNS)} {where}) TO '{out}/{name}.parquet' "
                   "(FORMAT parquet, COMPRESSION zstd)")
        if channel_parquet(name, training_format):
            doubles = ", ".join(f"{c}::DOUBLE AS {c}" for c in XGBOOST_COLUMNS)
            db.execute(f"COPY (SELECT {doubles} {where}) TO '{out}/{channel_file(name, training_format)}' "
                       "(FORMAT parquet, COMPRESSION zstd)")
        else:
            db.execute(f"COPY (SELECT {', '.join(XGBOOST_COLUMNS)} {where}) TO '{out}/{name}.csv' (HEADER false)")
    db.execute(f"COPY (SELECT source_line AS line, reason AS reasons, {', '.join(columns)} FROM checked "
               f"WHERE reason IS NOT NULL ORDER BY source_line) TO '{out}/quarantine.csv' (HEADER true)")

    rows_in, rows_unique = db.execute("SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM checked)").fetchone()
    rows_out, imputed, *caps = db.execute(
        "SELECT count(*), count(*) FILTER (total_bedrooms_imputed), "
        + ", ".join(f"count(*) FILTER ({capped_flag(n)})" for n in CAPPED) + " FROM frame").fetchone()
    splits = dict(db.execute("SELECT split, count(*) FROM frame GROUP BY split").fetchall())
    reasons = dict(db.execute("SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL GROUP BY reason").fetchall())
    summary = {
        "rows_in": rows_in,
        "rows_out": rows_out,
        "rows_quarantined": sum(reasons.values()),
        "rows_duplicate": rows_in - rows_unique,
        "splits": splits,
        "imputed": imputed,
        "capped": dict(zip(CAPPED, caps)),
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"summary": summary, "reasons": reasons}, f, indent=2)
    return summary


if __name__ == "__main__":
    cli(run, __doc__)
