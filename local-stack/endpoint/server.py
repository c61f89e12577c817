"""SageMaker Runtime's InvokeEndpoint for the endpoints on moto: the local
endpoint server. moto records endpoints but serves no model; this does, as the
built-in XGBoost 1.7-1 container would, with the xgboost release the local
training uses (scripts/requirements.txt).

    python local-stack/endpoint/server.py --moto URL [--port N] [--until-stdin-closes]

Prints `READY http://127.0.0.1:<port>` once it serves. Point a client at it
with AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME; nothing in the client knows it is local.

POST /endpoints/<name>/invocations:
- the endpoint (DescribeEndpoint on moto) must exist and be InService, or the
  answer is SageMaker's 400 ValidationError;
- the model is the one its current EndpointConfig's first variant names:
  DescribeModel → the container's ModelDataUrl, or its model package's
  (DescribeModelPackage); model.tar.gz is read from moto's S3 and its
  `xgboost-model` loaded (cached by artifact URL);
- `text/csv` in (no header, one record a line), `application/json` out as the
  container answers it: {"predictions": [{"score": …}, …]} (`text/csv` out:
  one score a line); a failure of the model is SageMaker's 424 ModelError;
- data capture, when the EndpointConfig enables it: the request and the
  response in SageMaker's capture format (JSON Lines, `captureData` /
  `eventMetadata` / `eventVersion`; text payloads for the configured CSV and
  JSON content types, base64 otherwise), one object per captured request at
  <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl.
  InitialSamplingPercentage is honoured exactly, not at random: of every 100
  requests, that many are captured, evenly spread.
- a shadow variant (the EndpointConfig's ShadowProductionVariants, which moto
  keeps only through scripts/moto_server.py): a share of the requests (the
  shadow variant's weight over the production variant's, at most all of them,
  evenly spread like capture) is sent to the shadow variant's model too; the
  caller gets the production variant's answer only, and both are captured,
  each under its own variant. A shadow model that fails answers nobody.
- each variant's metrics, as SageMaker publishes them (namespace AWS/SageMaker,
  dimensions EndpointName and VariantName), into moto's CloudWatch: one
  Invocations a call, Invocation4XXErrors / Invocation5XXErrors for a model
  that failed (by its original status), and ModelLatency, the model's time in
  microseconds (the prediction, not loading the artifact). A shadow test is
  judged on them.
"""

import argparse
import base64
import datetime
import io
import json
import os
import re
import signal
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"
INVOCATIONS = re.compile(r"^/endpoints/([^/]+)/invocations$")


class Fault(Exception):
    """An answer SageMaker Runtime gives instead of the model's."""

    def __init__(self, status, code, message, extra=None):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


class Endpoints:
    def __init__(self, moto):
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
        )
        self.sagemaker = session.client("sagemaker", endpoint_url=moto)
        self.s3 = session.client("s3", endpoint_url=moto)
        self.cloudwatch = session.client("cloudwatch", endpoint_url=moto)
        self.boosters = {}
        self.counts = {}
        self.lock = threading.Lock()

    def describe(self, name):
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
        except self.sagemaker.exceptions.ClientError as e:
            if "not found" in str(e).lower() or "could not find" in str(e).lower():
                raise Fault(400, "ValidationError", f"Endpoint {name} of account 123456789012 not found.")
            raise
        if endpoint["EndpointStatus"] not in ("InService", "Updating", "SystemUpdating", "RollingBack"):
            raise Fault(400, "ValidationError", f"Endpoint {name} is not in service ({endpoint['EndpointStatus']}).")
        config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        return endpoint, config

    def artifact(self, model_name):
        model = self.sagemaker.describe_model(ModelName=model_name)
        containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
        container = containers[0]
        if container.get("ModelDataUrl"):
            return container["ModelDataUrl"]
        package = container.get("ModelPackageName")
        if not package:
            raise Fault(424, "ModelError", f"model {model_name} names no artifact", {"OriginalStatusCode": 500})
        described = self.sagemaker.describe_model_package(ModelPackageName=package)
        return described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]

    def booster(self, url):
        with self.lock:
            if url in self.boosters:
                return self.boosters[url]
        bucket, _, key = url.removeprefix("s3://").partition("/")
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            # What a container whose model cannot load answers: the model failed.
            raise Fault(424, "ModelError", f"the model artifact {url} does not exist", {"OriginalStatusCode": 500})
        with tempfile.TemporaryDirectory() as d:
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
                archive.extract(MODEL_FILE, d)
            booster = xgb.Booster()
            booster.load_model(os.path.join(d, MODEL_FILE))
        # One prediction at load, as a container serves only once its model is
        # ready: the first request's ModelLatency is not the predictor's set-up.
        booster.predict(xgb.DMatrix(np.zeros((1, booster.num_features()), dtype=np.float32)))
        with self.lock:
            self.boosters[url] = booster
        return booster

    def every(self, key, percent):
        """Exactly `percent` of every 100 calls with this key, evenly spread."""
        with self.lock:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
        return (n + 1) * percent // 100 > n * percent // 100

    def invoke(self, name, content_type, accept, body, inference_id=None):
        endpoint, config = self.describe(name)
        variant = config["ProductionVariants"][0]
        answer_type, answer = self.answer(name, variant, content_type, accept, body)
        self.capture(name, variant["VariantName"], config.get("DataCaptureConfig"), content_type, body,
                     answer_type, answer, inference_id)
        for shadow in config.get("ShadowProductionVariants") or []:
            weight = float(variant.get("InitialVariantWeight") or 1.0)
            share = min(float(shadow.get("InitialVariantWeight") or 0.0) / weight, 1.0) if weight > 0 else 0.0
            if not self.every(f"{name}/{shadow['VariantName']}", round(share * 100)):
                continue
            try:
                shadow_type, shadow_answer = self.answer(name, shadow, content_type, accept, body)
            except Fault:
                continue  # the shadow's failure reaches nobody
            self.capture(name, shadow["VariantName"], config.get("DataCaptureConfig"), content_type, body,
                         shadow_type, shadow_answer, inference_id)
        return variant["VariantName"], answer_type, answer

    def answer(self, endpoint, variant, content_type, accept, body):
        """The variant's model's answer to the request, as the container gives it,
        and the variant's metrics of the call."""
        booster = self.booster(self.artifact(variant["ModelName"]))
        started, failed = time.perf_counter(), None
        try:
            return self.score(booster, content_type, accept, body)
        except Fault as e:
            failed = e
            raise
        finally:
            self.measured(endpoint, variant["VariantName"], failed, (time.perf_counter() - started) * 1e6)

    def measured(self, endpoint, variant, failed, latency_us):
        """One call's metrics, as SageMaker publishes a variant's (a failure to
        publish is logged, never the caller's)."""
        original = int(failed.extra.get("OriginalStatusCode", failed.status)) if failed else 0
        counts = {
            "Invocations": 1,
            "Invocation4XXErrors": int(400 <= original < 500),
            "Invocation5XXErrors": int(original >= 500),
        }
        dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
        data = [{"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "None"}
                for name, value in counts.items()]
        data.append({"MetricName": "ModelLatency", "Dimensions": dimensions, "Value": latency_us,
                     "Unit": "Microseconds"})
        try:
            self.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)
        except Exception as e:  # noqa: BLE001 - metrics never fail a request
            print(f"metrics of {endpoint}/{variant} not published: {e}", file=sys.stderr, flush=True)

    def score(self, booster, content_type, accept, body):
        media = (content_type or "text/csv").split(";")[0].strip().lower()
        if media != "text/csv":
            raise Fault(424, "ModelError", "Received client error (415) from primary with message "
                        f"\"Content type {content_type} is not supported by this local server\".",
                        {"OriginalStatusCode": 415})
        try:
            text = body.decode("utf-8")
            rows = [[float(v) for v in line.split(",")] for line in text.splitlines() if line.strip()]
            scores = booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float32, ndmin=2))).tolist()
        except Exception as e:  # the container's answer to records it cannot score
            message = " ".join(str(e).split())[:500]
            raise Fault(424, "ModelError", f"Received client error (400) from primary with message \"{message}\".",
                        {"OriginalStatusCode": 400, "OriginalMessage": message})
        out_accept = (accept or "application/json").split(",")[0].split(";")[0].strip().lower()
        if out_accept == "text/csv":
            answer, answer_type = "\n".join(repr(s) for s in scores).encode(), "text/csv; charset=utf-8"
        else:
            answer = json.dumps({"predictions": [{"score": s} for s in scores]}).encode()
            answer_type = "application/json"
        return answer_type, answer

    def capture(self, endpoint, variant, capture, content_type, body, answer_type, answer, inference_id=None):
        if not capture or not capture.get("EnableCapture", True):
            return
        if not self.every(f"{endpoint}/{variant}/capture", int(capture.get("InitialSamplingPercentage", 100))):
            return
        headers = capture.get("CaptureContentTypeHeader") or {}
        modes = {o["CaptureMode"] for o in capture.get("CaptureOptions", [])} or {"Input", "Output"}

        def payload(kind, mode, observed, data):
            media = observed.split(";")[0].strip()
            if media in headers.get("CsvContentTypes", []):
                encoding, text = "CSV", data.decode("utf-8")
            elif media in headers.get("JsonContentTypes", []):
                encoding, text = "JSON", data.decode("utf-8")
            else:
                encoding, text = "BASE64", base64.b64encode(data).decode()
            return kind, {"observedContentType": observed, "mode": mode, "data": text, "encoding": encoding}

        parts = []
        if "Input" in modes:
            parts.append(payload("endpointInput", "INPUT", content_type or "text/csv", body))
        if "Output" in modes:
            parts.append(payload("endpointOutput", "OUTPUT", answer_type, answer))
        now = datetime.datetime.now(datetime.timezone.utc)
        event_id = str(uuid.uuid4())
        record = {
            "captureData": dict(parts),
            "eventMetadata": {"eventId": event_id, "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              **({"inferenceId": inference_id} if inference_id else {})},
            "eventVersion": "0",
        }
        bucket, _, prefix = capture["DestinationS3Uri"].removeprefix("s3://").partition("/")
        key = "/".join(p for p in (prefix.strip("/"), endpoint, variant, now.strftime("%Y/%m/%d/%H"),
                                   f"{now:%M-%S}-{now.microsecond // 1000:03d}-{event_id}.jsonl") if p)
        self.s3.put_object(Bucket=bucket, Key=key, Body=(json.dumps(record) + "\n").encode(),
                           ContentType="application/jsonl")


def handler(endpoints):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, content_type, body, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/ping":
                self.reply(200, "text/plain", b"ok")
            else:
                self.reply(404, "text/plain", b"not found")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            match = INVOCATIONS.match(self.path.split("?")[0])
            try:
                if not match:
                    raise Fault(404, "UnknownOperationException", f"no operation at {self.path}")
                variant, answer_type, answer = endpoints.invoke(
                    match.group(1), self.headers.get("Content-Type"), self.headers.get("Accept"), body,
                    self.headers.get("X-Amzn-SageMaker-Inference-Id"))
                self.reply(200, answer_type, answer, [("x-Amzn-Invoked-Production-Variant", variant)])
            except Fault as f:
                error = {"__type": f.code, "message": f.message, **f.extra}
                self.reply(f.status, "application/json", json.dumps(error).encode(),
                           [("x-amzn-ErrorType", f.code)])
            except Exception as e:  # noqa: BLE001 - the service's own failure
                error = {"__type": "InternalFailure", "message": " ".join(str(e).split())[:500]}
                self.reply(500, "application/json", json.dumps(error).encode(),
                           [("x-amzn-ErrorType", "InternalFailure")])

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moto", required=True, help="moto's endpoint URL")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--until-stdin-closes", action="store_true")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(Endpoints(args.moto)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY http://127.0.0.1:{server.server_address[1]}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
