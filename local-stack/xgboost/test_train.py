"""Unit tests of train.py's checkpoints (run by tests/tests/pipeline_runner.rs with the project's venv)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def channel(directory, rows, seed, parts=1):
    """Label-first CSV rows of y = 3a - 2b (+ noise), in `parts` files."""
    os.makedirs(directory)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, size=(rows, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + rng.normal(0, 0.1, rows)
    data = np.column_stack([y, x])
    for i in range(parts):
        np.savetxt(os.path.join(directory, f"train-{i}.csv"), data[i::parts], delimiter=",")


class Checkpoints(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        channel(os.path.join(self.dir, "train"), 300, 1, parts=3)
        channel(os.path.join(self.dir, "validation"), 60, 2)
        self.hyperparameters = os.path.join(self.dir, "hp.json")
        with open(self.hyperparameters, "w") as f:
            json.dump({"num_round": "12", "max_depth": "3", "eta": "0.3", "objective": "reg:squarederror",
                       "eval_metric": "rmse"}, f)
        self.checkpoints = os.path.join(self.dir, "checkpoints")

    def train(self, name):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "train.py"), "--hyperparameters", self.hyperparameters,
             "--train", os.path.join(self.dir, "train"), "--validation", os.path.join(self.dir, "validation"),
             "--model-dir", os.path.join(self.dir, name), "--archive", os.path.join(self.dir, f"{name}.tar.gz"),
             "--checkpoint-dir", self.checkpoints],
            capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def test_every_round_is_saved_and_the_last_five_kept(self):
        report = self.train("model")
        self.assertEqual((report["rounds"], report["rounds_resumed"]), (12, 0))
        self.assertEqual(report["train_rows"], 300)
        self.assertEqual(sorted(os.listdir(self.checkpoints)),
                         sorted(f"xgboost-checkpoint.{r}" for r in range(7, 12)))

    def test_a_restarted_job_resumes_from_the_latest_checkpoint(self):
        whole = self.train("whole")
        # An interruption after round 8: rounds 9 to 11 are gone.
        for r in range(8, 12):
            os.remove(os.path.join(self.checkpoints, f"xgboost-checkpoint.{r}"))
        resumed = self.train("resumed")
        self.assertEqual(resumed["rounds_resumed"], 8)
        # The same 12 rounds in the end, so the same model and metrics.
        self.assertEqual(resumed["validation:rmse"], whole["validation:rmse"])
        self.assertEqual(resumed["train:rmse"], whole["train:rmse"])
        # A job whose checkpoints hold every round trains none and reports the same.
        again = self.train("again")
        self.assertEqual(again["rounds_resumed"], 12)
        self.assertEqual(again["validation:rmse"], whole["validation:rmse"])


if __name__ == "__main__":
    unittest.main()
