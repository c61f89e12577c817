"""What SageMaker's built-in XGBoost 1.7-1 container does with a Training step,
on one machine: the local pipeline runner (local-stack/src/pipeline/) runs it
with the same xgboost release from PyPI.

usage: train.py --hyperparameters FILE [--input-config FILE] --train DIR --validation DIR
                --model-dir DIR --archive FILE [--checkpoint-dir DIR]

- hyperparameters: the step's HyperParameters (JSON, string values, as SageMaker
  hands them to the container); `num_round` is the number of boosting rounds,
  the rest are XGBoost parameters;
- input-config: the channels' settings as SageMaker hands them to the container
  (inputdataconfig.json: {"train": {"ContentType": ...}, ...}); without it, or
  for a channel it does not name, the channel is `text/csv`;
- train, validation: the channels, by their ContentType: `text/csv`, CSV with
  the label first and no header, or `application/x-parquet`, Parquet files whose
  first column is the label (the container reads them with pyarrow, as here);
- checkpoint-dir (the container's /opt/ml/checkpoints, given when the job has a
  CheckpointConfig): the booster is saved there after every round as
  `xgboost-checkpoint.<round>`, the last 5 kept; a run that finds checkpoints
  there resumes from the latest and trains only the rounds left, as a spot job
  restarted after an interruption does;
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
CHECKPOINT_PREFIX = "xgboost-checkpoint."
CHECKPOINTS_KEPT = 5


class SaveCheckpoints(xgb.callback.TrainingCallback):
    """After each round, the booster to `<dir>/xgboost-checkpoint.<round>`; the
    last CHECKPOINTS_KEPT stay."""

    def __init__(self, directory, first_round):
        self.directory = directory
        self.first_round = first_round

    def after_iteration(self, model, epoch, evals_log):
        done = self.first_round + epoch
        model.save_model(os.path.join(self.directory, f"{CHECKPOINT_PREFIX}{done}"))
        stale = os.path.join(self.directory, f"{CHECKPOINT_PREFIX}{done - CHECKPOINTS_KEPT}")
        if os.path.exists(stale):
            os.remove(stale)
        return False


def latest_checkpoint(directory):
    """(rounds done, path) of the newest checkpoint in `directory`, or (0, None)."""
    best = (0, None)
    for name in os.listdir(directory):
        suffix = name[len(CHECKPOINT_PREFIX):] if name.startswith(CHECKPOINT_PREFIX) else ""
        if suffix.isdigit() and int(suffix) + 1 > best[0]:
            best = (int(suffix) + 1, os.path.join(directory, name))
    return best


def value(text):
    """A hyperparameter's string as the number it spells, if it is one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


CONTENT_TYPES = {"text/csv": "csv", "application/x-parquet": "parquet"}


def read_parquet(path):
    """A Parquet file's columns as one float32 matrix, in column order."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return np.column_stack([c.to_numpy().astype(np.float32) for c in table.columns]).reshape(table.num_rows, -1)


def channel(directory, content_type):
    kind = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind is None:
        raise SystemExit(f"train.py: content type {content_type!r} is not one of {sorted(CONTENT_TYPES)}")
    files = sorted(glob.glob(os.path.join(directory, "**", f"*.{kind}"), recursive=True))
    if not files:
        raise SystemExit(f"train.py: no {kind} file in channel {directory}")
    if kind == "csv":
        parts = [np.loadtxt(f, delimiter=",", dtype=np.float32, ndmin=2) for f in files]
    else:
        parts = [read_parquet(f) for f in files]
    data = np.concatenate(parts)
    return xgb.DMatrix(data[:, 1:], label=data[:, 0]), data.shape[0]


def main():
    parser = argparse.ArgumentParser()
    for name in ("hyperparameters", "train", "validation", "model-dir", "archive"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--input-config")
    parser.add_argument("--checkpoint-dir")
    args = parser.parse_args()
    with open(args.hyperparameters) as f:
        params = {k: value(v) for k, v in json.load(f).items()}
    channels = {}
    if args.input_config:
        with open(args.input_config) as f:
            channels = json.load(f)
    rounds = int(params.pop("num_round"))
    content_type = lambda name: channels.get(name, {}).get("ContentType") or "text/csv"
    dtrain, train_rows = channel(args.train, content_type("train"))
    dvalidation, validation_rows = channel(args.validation, content_type("validation"))
    history = {}
    resumed, start_from, callbacks = 0, None, []
    if args.checkpoint_dir:
        os.makedirs(args.checkpoint_dir, exist_ok=True)
        resumed, start_from = latest_checkpoint(args.checkpoint_dir)
        resumed = min(resumed, rounds)
        callbacks.append(SaveCheckpoints(args.checkpoint_dir, resumed))
    started = time.monotonic()
    evals = [(dtrain, "train"), (dvalidation, "validation")]
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=rounds - resumed,
        evals=evals,
        evals_result=history,
        verbose_eval=False,
        xgb_model=start_from,
        callbacks=callbacks,
    )
    seconds = time.monotonic() - started
    os.makedirs(args.model_dir, exist_ok=True)
    model = os.path.join(args.model_dir, MODEL_FILE)
    booster.save_model(model)
    with tarfile.open(args.archive, "w:gz") as archive:
        archive.add(model, arcname=MODEL_FILE)
    metric = params.get("eval_metric", "rmse")
    if resumed == rounds:
        # Nothing left to train: the final evaluation line, as the container prints it.
        line = booster.eval_set(evals)
        history = {}
        for field in line.split("\t")[1:]:
            name, number = field.split(":")
            split, _ = name.split("-", 1)
            history[split] = {metric: [float(number)]}
    reported = {split: float(f"{history[split][metric][-1]:.5f}") for split in ("train", "validation")}
    print(json.dumps({
        f"validation:{metric}": reported["validation"],
        f"train:{metric}": reported["train"],
        "train_rows": train_rows,
        "validation_rows": validation_rows,
        "rounds": rounds,
        "rounds_resumed": resumed,
        "training_seconds": seconds,
        "xgboost_version": xgb.__version__,
    }))


if __name__ == "__main__":
    main()
