"""Unit tests of evaluate.py (run by tests/tests/pipeline_runner.rs with the project's venv)."""

import json
import math
import os
import tarfile
import tempfile
import unittest

import numpy as np
import xgboost as xgb

import evaluate


class Metrics(unittest.TestCase):
    def test_known_values(self):
        m = evaluate.metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        self.assertEqual(m["rows"], 3)
        self.assertAlmostEqual(m["rmse"], math.sqrt(1 / 3))
        self.assertAlmostEqual(m["mae"], 1 / 3)
        # Total sum of squares 2, residual 1.
        self.assertAlmostEqual(m["r2"], 0.5)
        self.assertAlmostEqual(m["mape"], (1 / 3) / 3)

    def test_a_perfect_model_and_the_mean(self):
        y = [100_000.0, 250_000.0, 400_000.0]
        perfect = evaluate.metrics(y, y)
        self.assertEqual((perfect["rmse"], perfect["mae"], perfect["r2"], perfect["mape"]), (0, 0, 1, 0))
        mean = evaluate.metrics(y, [250_000.0] * 3)
        self.assertAlmostEqual(mean["r2"], 0.0)
        self.assertAlmostEqual(mean["rmse"], math.sqrt((150_000.0**2 * 2) / 3))

    def test_zero_labels_are_left_out_of_mape_and_constant_labels_have_no_r2(self):
        m = evaluate.metrics([0.0, 2.0], [1.0, 3.0])
        self.assertAlmostEqual(m["mape"], 0.5)
        self.assertIsNone(evaluate.metrics([2.0, 2.0], [1.0, 3.0])["r2"])
        self.assertIsNone(evaluate.metrics([0.0], [1.0])["mape"])

    def test_mismatched_or_empty_inputs_are_refused(self):
        with self.assertRaises(ValueError):
            evaluate.metrics([1.0, 2.0], [1.0])
        with self.assertRaises(ValueError):
            evaluate.metrics([], [])


class EndToEnd(unittest.TestCase):
    """A small model saved as the container saves it, evaluated from files."""

    def test_the_report_matches_a_direct_computation(self):
        rng = np.random.default_rng(7)
        features = rng.normal(size=(300, 4)).astype(np.float32)
        labels = (features @ np.array([3.0, -2.0, 1.0, 0.5]) + rng.normal(scale=0.1, size=300)).astype(np.float32)
        booster = xgb.train({"objective": "reg:squarederror", "max_depth": 3}, xgb.DMatrix(features, label=labels), 20)
        with tempfile.TemporaryDirectory() as root:
            dirs = {name: os.path.join(root, name) for name in ("model", "test", "validation", "out")}
            for d in dirs.values():
                os.makedirs(d)
            booster.save_model(os.path.join(root, evaluate.MODEL_FILE))
            with tarfile.open(os.path.join(dirs["model"], evaluate.MODEL_ARCHIVE), "w:gz") as archive:
                archive.add(os.path.join(root, evaluate.MODEL_FILE), arcname=evaluate.MODEL_FILE)
            rows = np.column_stack([labels, features])
            np.savetxt(os.path.join(dirs["test"], "test.csv"), rows[:200], delimiter=",", fmt="%.9g")
            np.savetxt(os.path.join(dirs["validation"], "validation.csv"), rows[200:], delimiter=",", fmt="%.9g")

            evaluate.main(["--model", dirs["model"], "--test", dirs["test"], "--validation", dirs["validation"], "--output", dirs["out"]])
            with open(os.path.join(dirs["out"], evaluate.REPORT)) as f:
                written = json.load(f)

        expected = evaluate.metrics(labels[:200], booster.predict(xgb.DMatrix(features[:200])))
        self.assertEqual(written["test"]["rows"], 200)
        self.assertEqual(written["validation"]["rows"], 100)
        for name in ("rmse", "mae", "r2", "mape"):
            self.assertAlmostEqual(written["test"][name], expected[name], places=9)
            self.assertAlmostEqual(written["regression_metrics"][name]["value"], expected[name], places=9)
        self.assertAlmostEqual(written["regression_metrics"]["mse"]["value"], expected["rmse"] ** 2)
        self.assertGreater(written["test"]["r2"], 0.9)

    def test_a_channel_without_csv_files_is_an_error(self):
        with tempfile.TemporaryDirectory() as empty:
            with self.assertRaises(FileNotFoundError):
                evaluate.read_channel(empty)


if __name__ == "__main__":
    unittest.main()
