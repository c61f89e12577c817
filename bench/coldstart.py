#!/usr/bin/env python3
"""Cold starts of the Lambda functions, measured under a minimal Lambda Runtime API of
our own: from process start to the function's first `GET .../invocation/next` (the
moment it is ready for an event: configuration read and validated, SDK configuration
loaded, clients built). Each function is started afresh N times; the median is
reported. Nothing is invoked and no AWS endpoint is reached.

usage: coldstart.py --bin-dir DIR [--runs 20] [--functions etl,predict]   (prints JSON: function -> ms)
"""

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ENV = {
    "etl": {
        "RAW_BUCKET": "raw-bucket", "PROCESSED_BUCKET": "processed-bucket",
        "QUARANTINE_BUCKET": "quarantine-bucket", "EVENT_BUS_NAME": "bus", "GLUE_DATABASE": "housing",
    },
    "start-pipeline": {"PIPELINE_NAME": "training", "EVENT_BUS_NAME": "bus", "PROCESSED_BUCKET": "processed-bucket"},
    "promote-model": {
        "MODEL_PACKAGE_GROUPS": "housing-models", "EXPECTED_ACCOUNT_ID": "123456789012", "EVENT_BUS_NAME": "bus",
        "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sm", "DATA_CAPTURE_S3_URI": "s3://processed-bucket/capture",
    },
    "predict": {"PROCESSED_BUCKET": "processed-bucket", "SERVING_STAGE": "prod"},
    "monitor": {"PROCESSED_BUCKET": "processed-bucket", "DATA_CAPTURE_S3_URI": "s3://processed-bucket/capture",
                "EVENT_BUS_NAME": "bus"},
    "score": {"PROCESSED_BUCKET": "processed-bucket", "EVENT_BUS_NAME": "bus", "STACK_NAME": "housing-mlops-prod"},
}
COMMON = {
    "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "cold", "AWS_SECRET_ACCESS_KEY": "start",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
    "AWS_LAMBDA_FUNCTION_VERSION": "1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters",
}


def ready_time(binary: str, env: dict) -> float:
    """Seconds from spawning `binary` to its first request for an event."""
    ready = threading.Event()

    class RuntimeApi(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the Runtime API's long poll: never answered)
            ready.set()
            time.sleep(5)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    full_env = {"PATH": os.environ.get("PATH", "")} | COMMON | env | {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}"}
    start = time.perf_counter()
    process = subprocess.Popen([binary], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not ready.wait(timeout=30):
        process.kill()
        raise SystemExit(f"{binary} never asked for an event: {process.stderr.read().decode()[-2000:]}")
    elapsed = time.perf_counter() - start
    process.kill()
    process.wait()
    server.shutdown()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--functions", default=",".join(ENV), help="comma-separated; all by default")
    args = parser.parse_args()
    functions = args.functions.split(",")
    unknown = sorted(set(functions) - set(ENV))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; known: {', '.join(ENV)}")
    results = {}
    for function in functions:
        env = ENV[function]
        binary = os.path.join(args.bin_dir, function)
        ready_time(binary, env)  # warm the page cache: every measured run starts alike
        times = [ready_time(binary, env) * 1000 for _ in range(args.runs)]
        results[function] = {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "runs": args.runs}
        print(f"coldstart: {function:<15} median {results[function]['median_ms']:.1f} ms over {args.runs}", file=sys.stderr)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
