"""SageMaker Batch Transform for the transform jobs on moto. moto records a
transform job (and calls it Completed at once) but runs nothing; this runs it
as SageMaker would with the built-in XGBoost 1.7-1 container, the model loaded
as the local endpoint server loads it (server.py).

    python local-stack/endpoint/transform.py --moto URL JOB

- the job (DescribeTransformJob) names its model, its input (`S3Prefix`: every
  object under the URI), `SplitType: Line`, `BatchStrategy: MultiRecord` or
  `SingleRecord`, `MaxPayloadInMB`, and its output path, `Accept` and
  `AssembleWith`;
- each input object is split into lines, and the lines into mini-batches of at
  most `MaxPayloadInMB` (one line a batch for SingleRecord); each batch is
  scored as the container answers a request: `application/json` gives
  {"predictions": [{"score": …}, …]}, `text/csv` one score a line;
- the answers of an object are written to <S3OutputPath>/<its name after the
  prefix>.out, one answer a line when `AssembleWith` is `Line`.

Prints a JSON summary: the objects, lines and mini-batches.
"""

import argparse
import json
import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Endpoints  # noqa: E402


def batches(lines, max_bytes, multi):
    batch, size = [], 0
    for line in lines:
        cost = len(line.encode("utf-8")) + 1
        if batch and (not multi or size + cost > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(line)
        size += cost
    if batch:
        yield batch


def answer(booster, batch, accept):
    rows = [[float(v) for v in line.split(",")] for line in batch]
    scores = booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float32, ndmin=2))).tolist()
    if accept == "text/csv":
        return "\n".join(repr(float(s)) for s in scores)
    return json.dumps({"predictions": [{"score": s} for s in scores]})


def run(moto, job_name):
    endpoints = Endpoints(moto)
    job = endpoints.sagemaker.describe_transform_job(TransformJobName=job_name)
    booster = endpoints.booster(endpoints.artifact(job["ModelName"]))
    source = job["TransformInput"]["DataSource"]["S3DataSource"]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise SystemExit(f"{job_name}: only S3Prefix inputs are run here")
    if job["TransformInput"].get("SplitType") != "Line":
        raise SystemExit(f"{job_name}: only SplitType Line is run here")
    bucket, _, prefix = source["S3Uri"].removeprefix("s3://").partition("/")
    output = job["TransformOutput"]
    out_bucket, _, out_prefix = output["S3OutputPath"].removeprefix("s3://").partition("/")
    accept = output.get("Accept", "application/json")
    joiner = "\n" if output.get("AssembleWith") == "Line" else ""
    max_bytes = int(job.get("MaxPayloadInMB", 6)) * 1024 * 1024
    multi = job.get("BatchStrategy", "MultiRecord") == "MultiRecord"
    summary = {"job": job_name, "objects": 0, "lines": 0, "batches": 0}
    listed = endpoints.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    for item in listed:
        key = item["Key"]
        text = endpoints.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        lines = [line for line in text.splitlines() if line.strip()]
        answers = [answer(booster, b, accept) for b in batches(lines, max_bytes, multi)]
        name = key[len(prefix):].lstrip("/") or os.path.basename(key)
        body = joiner.join(answers) + (joiner if answers else "")
        out_key = f"{out_prefix.rstrip('/')}/{name}.out" if out_prefix else f"{name}.out"
        endpoints.s3.put_object(Bucket=out_bucket, Key=out_key, Body=body.encode("utf-8"))
        summary["objects"] += 1
        summary["lines"] += len(lines)
        summary["batches"] += len(answers)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto", required=True)
    parser.add_argument("job")
    args = parser.parse_args()
    print(json.dumps(run(args.moto, args.job)))


if __name__ == "__main__":
    main()
