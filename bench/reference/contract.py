"""What both reference implementations share with the Rust ETL: the data contract
(shared/src/contract.rs), the reproducible split (shared/src/etl/split.rs, rows.rs) and
the output columns (shared/src/etl/outputs.rs). Kept to what the ETL specifies, so the
comparison is between engines, not between specifications."""

import json
import sys

import numpy as np
import xxhash

# name, min, max, imputable, census top-code
NUMERIC = [
    ("longitude", -124.6, -114.0, False, None),
    ("latitude", 32.4, 42.1, False, None),
    ("housing_median_age", 0.0, 100.0, False, 52.0),
    ("total_rooms", 1.0, 100_000.0, False, None),
    ("total_bedrooms", 0.0, 50_000.0, True, None),
    ("population", 1.0, 100_000.0, False, None),
    ("households", 1.0, 50_000.0, False, None),
    ("median_income", 0.0, 25.0, False, None),
    ("median_house_value", 1_000.0, 1_000_000.0, False, 500_001.0),
]
NUMERIC_NAMES = [n for n, *_ in NUMERIC]
CATEGORY = "ocean_proximity"
CATEGORIES = ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]
TARGET = "median_house_value"
MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
RATIOS = ["rooms_per_household", "bedrooms_per_room", "population_per_household"]
QUANTILES = [("p05", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95)]
SPLITS = [("train", 80), ("validation", 10), ("test", 10)]


def one_hot(category: str) -> str:
    return f"{CATEGORY}_" + category.lower().replace("<", "lt_").replace(" ", "_")


def capped_flag(column: str) -> str:
    return f"{column}_capped"


CAPPED = [n for n, _, _, _, cap in NUMERIC if cap is not None]
PARQUET_COLUMNS = (
    ["source_line", "split"] + NUMERIC_NAMES + [CATEGORY] + RATIOS
    + [one_hot(c) for c in CATEGORIES] + ["total_bedrooms_imputed"] + [capped_flag(c) for c in CAPPED]
)
XGBOOST_COLUMNS = [TARGET] + [n for n in NUMERIC_NAMES if n != TARGET] + RATIOS + [one_hot(c) for c in CATEGORIES]


def splits(values: np.ndarray, categories) -> np.ndarray:
    """The split of each kept row: xxh3-64 of its parsed values (little-endian f64 bits,
    missing as 0xff x 8, -0.0 as 0.0) then its category, modulo 100."""
    bits = (values.astype("<f8") + 0.0).view("<u8").copy()
    bits[np.isnan(values)] = np.uint64(0xFFFFFFFFFFFFFFFF)
    rows = bits.tobytes()
    width = bits.shape[1] * 8
    encoded = [c.encode() for c in categories]
    buckets = np.fromiter(
        (xxhash.xxh3_64_intdigest(rows[i * width:(i + 1) * width] + encoded[i]) % 100 for i in range(len(encoded))),
        dtype=np.int64, count=len(encoded),
    )
    names = np.array([name for name, _ in SPLITS], dtype=object)
    edges = np.cumsum([p for _, p in SPLITS])
    return names[np.searchsorted(edges, buckets, side="right")]


TRAINING_FORMATS = ("csv", "parquet")


def channel_parquet(split: str, training_format: str) -> bool:
    """Whether the split's XGBoost channel is label-first Parquet of doubles (the ETL's
    `--training-format parquet`, train and validation only) rather than CSV."""
    return training_format == "parquet" and split != "test"


def channel_file(split: str, training_format: str) -> str:
    """The channel's file name, the ETL's (shared/src/dataset/layout.rs)."""
    return f"xgboost-{split}.parquet" if channel_parquet(split, training_format) else f"{split}.csv"


def cli(run, doc: str) -> None:
    """A reference's command line: `INPUT.csv OUT_DIR [--training-format csv|parquet]`,
    the summary printed as JSON."""
    args = sys.argv[1:]
    training_format = "csv"
    if len(args) == 4 and args[2] == "--training-format" and args[3] in TRAINING_FORMATS:
        training_format = args[3]
        args = args[:2]
    if len(args) != 2:
        print(doc)
        sys.exit(2)
    print(json.dumps(run(args[0], args[1], training_format)))
