"""Uploads the training pipeline's code (pipeline/evaluate.py) to where the
pipeline definition reads it: s3://<ProcessedBucketName>/pipeline-code/<hash>/evaluate.py,
<hash> being the first 16 hex digits of the file's SHA-256 (the Rust generator,
shared/src/training/definition.rs, computes the same folder). Content-addressed:
an execution in flight never sees the script change; an upload of a file
already there is skipped.

usage: pipeline_code.py STACK_NAME     upload (after `sam deploy`; boto3 from .venv-infra)
       pipeline_code.py --key          print the object key only
"""

import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "pipeline", "evaluate.py")


def key():
    with open(SCRIPT, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return f"pipeline-code/{digest[:16]}/evaluate.py"


def upload(stack):
    import boto3
    from botocore.exceptions import ClientError

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ProcessedBucketName")
    s3 = boto3.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key())
        print(f"pipeline code: s3://{bucket}/{key()} is already there")
        return
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    with open(SCRIPT, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key(), Body=f.read(), ContentType="text/x-python")
    print(f"pipeline code: uploaded s3://{bucket}/{key()}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--key"]:
        print(key())
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        upload(sys.argv[1])
    else:
        sys.exit(__doc__)
