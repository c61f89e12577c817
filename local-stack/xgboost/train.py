"""What SageMaker's built-in XGBoost 1.7-1 container does with a Training step,
on one machine: the local pipeline runner (local-stack/src/pipeline/) runs it
with the same xgboost release from PyPI.

usage: train.py --hyperparameters FILE --train DIR --validation DIR --model-dir DIR --archive FILE

- hyperparameters: the step's HyperParameters (JSON, string values, as SageMaker
  hands them to the container); `num_round` is the number of boosting rounds,
  the rest are XGBoost parameters;
- train, validation: the channels, CSV with the label first and no header (the
  container's `text/csv` content type);
- the model is saved as the container saves it, `xgboost-model` in the model
  directory, and archived as SageMaker archives /opt/ml/model: model.tar.gz;
- prints a JSON line: the final `validation:rmse` and `train:rmse` as the
  container's last evaluation line reports them (XGBoost's evaluation monitor
  prints 5 decimals; SageMaker's metric definitions read that line), row
  counts and the training time.
"""

import argparse
import glob
import json
import os
import tarfile
import time

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"


def value(text):
    """A hyperparameter's string as the number it spells, if it is one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def channel(directory):
    files = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if not files:
        raise SystemExit(f"train.py: no CSV file in channel {directory}")
    data = np.concatenate([np.loadtxt(f, delimiter=",", dtype=np.float32, ndmin=2) for f in files])
    return xgb.DMatrix(data[:, 1:], label=data[:, 0]), data.shape[0]


def main():
    parser = argparse.ArgumentParser()
    for name in ("hyperparameters", "train", "validation", "model-dir", "archive"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args()
    with open(args.hyperparameters) as f:
        params = {k: value(v) for k, v in json.load(f).items()}
    rounds = int(params.pop("num_round"))
    dtrain, train_rows = channel(args.train)
    dvalidation, validation_rows = channel(args.validation)
    history = {}
    started = time.monotonic()
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=rounds,
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        evals_result=history,
        verbose_eval=False,
    )
    seconds = time.monotonic() - started
    os.makedirs(args.model_dir, exist_ok=True)
    model = os.path.join(args.model_dir, MODEL_FILE)
    booster.save_model(model)
    with tarfile.open(args.archive, "w:gz") as archive:
        archive.add(model, arcname=MODEL_FILE)
    metric = params.get("eval_metric", "rmse")
    reported = {split: float(f"{history[split][metric][-1]:.5f}") for split in ("train", "validation")}
    print(json.dumps({
        f"validation:{metric}": reported["validation"],
        f"train:{metric}": reported["train"],
        "train_rows": train_rows,
        "validation_rows": validation_rows,
        "rounds": rounds,
        "training_seconds": seconds,
        "xgboost_version": xgb.__version__,
    }))


if __name__ == "__main__":
    main()
