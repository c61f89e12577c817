"""The training pipeline's evaluation step: the trained model on the test and
validation splits, written as evaluation.json.

The same file runs on AWS (a Processing step on SageMaker's built-in XGBoost
1.7-1 image, which has numpy and xgboost, and pyarrow for its Parquet channels)
and on one machine (the local stack's pipeline runner, with the same xgboost
from PyPI). It uses nothing else, and pyarrow only for a Parquet channel.

usage: evaluate.py --model DIR --test DIR --validation DIR --output DIR
  --model       holds model.tar.gz, with `xgboost-model` inside, as training saved it
  --test        the XGBoost channel's files: CSV (label first, no header) or
                Parquet (label in the first column)
  --validation  the same, for the validation split
  --output      where evaluation.json is written

evaluation.json:
  regression_metrics  the test split's metrics in the shape the Model Registry
                      shows as ModelQuality statistics ({"rmse": {"value": ...}, ...})
  test, validation    rows, rmse, mae, r2, mape of each split (the pipeline's
                      condition reads test.rmse; the registry metadata both rmses)
"""

import argparse
import glob
import json
import math
import os
import sys
import tarfile
import tempfile

import numpy as np
import xgboost as xgb

MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model"
REPORT = "evaluation.json"


def metrics(labels, predictions):
    """RMSE, MAE, R² and MAPE of `predictions` against `labels`.

    MAPE is over the rows whose label is not 0 (a house value of 0 would be a
    division by zero), as a fraction; R² is None when the labels are constant.
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(predictions, dtype=np.float64)
    if y.shape != p.shape or y.size == 0:
        raise ValueError(f"need as many predictions as labels, and some: {y.shape} vs {p.shape}")
    error = p - y
    mse = float(np.mean(error**2))
    total = float(np.sum((y - y.mean()) ** 2))
    nonzero = y != 0
    return {
        "rows": int(y.size),
        "rmse": math.sqrt(mse),
        "mae": float(np.mean(np.abs(error))),
        "r2": None if total == 0 else 1.0 - float(np.sum(error**2)) / total,
        "mape": float(np.mean(np.abs(error[nonzero] / y[nonzero]))) if nonzero.any() else None,
    }


def read_parquet(path):
    """A Parquet file's columns as one float32 matrix, in column order."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return np.column_stack([c.to_numpy().astype(np.float32) for c in table.columns]).reshape(table.num_rows, -1)


def read_channel(directory):
    """Labels and features of every CSV or Parquet file in a channel directory, in
    name order (a channel holds one kind: the ETL writes CSV or Parquet)."""
    files = {
        kind: sorted(glob.glob(os.path.join(directory, "**", f"*.{kind}"), recursive=True))
        for kind in ("csv", "parquet")
    }
    if files["csv"] and files["parquet"]:
        raise ValueError(f"both CSV and Parquet files in {directory}: one channel, one form")
    if files["csv"]:
        parts = [np.loadtxt(f, delimiter=",", dtype=np.float32, ndmin=2) for f in files["csv"]]
    elif files["parquet"]:
        parts = [read_parquet(f) for f in files["parquet"]]
    else:
        raise FileNotFoundError(f"no CSV or Parquet file in {directory}")
    data = np.concatenate([p for p in parts if p.size], axis=0)
    return data[:, 0], data[:, 1:]


def load_model(directory):
    """The booster inside the directory's model.tar.gz."""
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(os.path.join(directory, MODEL_ARCHIVE)) as archive:
            member = archive.getmember(MODEL_FILE)
            archive.extract(member, tmp)
        booster = xgb.Booster()
        booster.load_model(os.path.join(tmp, MODEL_FILE))
        return booster


def evaluate(booster, directory):
    labels, features = read_channel(directory)
    return metrics(labels, booster.predict(xgb.DMatrix(features)))


def report(test, validation):
    """evaluation.json's content."""
    registry = {name: {"value": test[name]} for name in ("rmse", "mae", "r2", "mape")}
    registry["mse"] = {"value": test["rmse"] ** 2}
    return {"regression_metrics": registry, "test": test, "validation": validation}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("model", "test", "validation", "output"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args(argv)
    booster = load_model(args.model)
    result = report(evaluate(booster, args.test), evaluate(booster, args.validation))
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, REPORT), "w") as out:
        json.dump(result, out, indent=2, sort_keys=True)
        out.write("\n")
    print(json.dumps({"test": result["test"], "validation": result["validation"]}))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
