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

    def test_a_channel_without_csv_or_parquet_files_is_an_error(self):
        with tempfile.TemporaryDirectory() as empty:
            with self.assertRaises(FileNotFoundError):
                evaluate.read_channel(empty)

    def test_a_parquet_channel_reads_as_its_csv_form(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = np.array([[452600.0, -122.23, 37.88, 1.0], [358500.0, -122.22, 37.86, 0.0]])
        with tempfile.TemporaryDirectory() as root:
            csv_dir, parquet_dir, both = (os.path.join(root, d) for d in ("csv", "parquet", "both"))
            for d in (csv_dir, parquet_dir, both):
                os.makedirs(d)
            np.savetxt(os.path.join(csv_dir, "validation.csv"), rows, delimiter=",", fmt="%.17g")
            # Label first; the names are the ETL's, and the reader ignores them.
            table = pa.table({name: rows[:, i] for i, name in enumerate(["median_house_value", "longitude", "latitude", "ocean_proximity_inland"])})
            pq.write_table(table, os.path.join(parquet_dir, "validation.parquet"))
            labels, features = evaluate.read_channel(parquet_dir)
            csv_labels, csv_features = evaluate.read_channel(csv_dir)
            np.testing.assert_array_equal(labels, csv_labels)
            np.testing.assert_array_equal(features, csv_features)
            self.assertEqual(features.shape, (2, 3))
            self.assertEqual(labels.tolist(), [452600.0, 358500.0])
            # A channel holds one form.
            np.savetxt(os.path.join(both, "a.csv"), rows, delimiter=",")
            pq.write_table(table, os.path.join(both, "b.parquet"))
            with self.assertRaises(ValueError):
                evaluate.read_channel(both)


if __name__ == "__main__":
    unittest.main()
