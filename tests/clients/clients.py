"""Published inference clients against the predictions API (run by
functions/predict/tests/clients.rs with .venv-clients).

usage: clients.py BASE_URL MODEL VERSION RECORDS_JSON

RECORDS_JSON: a list of records (the contract's fields, `total_bedrooms` present
in every one). Prints one JSON object: what each client saw.

- Triton's HTTP client (tritonclient.http): liveness, readiness, the model's
  readiness and metadata, an inference with JSON tensors (binary_data=False),
  the same with its default outputs (binary asked for, JSON answered), a version
  that is not served, a record the contract refuses. (Its default binary input
  tensors never reach the function under `cargo lambda watch`, which answers
  them 500 itself; the handler's refusal of them is tested in-process, in
  tests/tests/predict_routes.rs.)
- KServe's SDK (InferenceRESTClient): v1 (`:predict` with instances, the model's
  readiness, the server's liveness) and v2 (readiness, an inference).
"""

import asyncio
import json
import sys

import numpy as np

NUMERIC = ["longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
           "population", "households", "median_income"]


def triton(base, model, version, records):
    import tritonclient.http as http
    from tritonclient.utils import InferenceServerException

    host = base.split("://", 1)[1]
    client = http.InferenceServerClient(url=host)
    seen = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "model_ready_version": client.is_model_ready(model, version),
        "other_version_ready": client.is_model_ready(model, str(int(version) + 1)),
    }
    metadata = client.get_model_metadata(model)
    seen["metadata"] = metadata

    def inputs(rows, binary):
        tensors = []
        for name in NUMERIC:
            t = http.InferInput(name, [len(rows)], "FP64")
            t.set_data_from_numpy(np.array([r[name] for r in rows], dtype=np.float64), binary_data=binary)
            tensors.append(t)
        t = http.InferInput("ocean_proximity", [len(rows)], "BYTES")
        t.set_data_from_numpy(np.array([r["ocean_proximity"].encode() for r in rows], dtype=np.object_),
                              binary_data=binary)
        tensors.append(t)
        return tensors

    result = client.infer(model, inputs(records, False), request_id="triton-1",
                          outputs=[http.InferRequestedOutput("median_house_value", binary_data=False)])
    seen["predictions"] = result.as_numpy("median_house_value").tolist()
    seen["response"] = result.get_response()
    # Outputs asked for as binary (the client's default) are answered in JSON, which it reads.
    result = client.infer(model, inputs(records, False))
    seen["predictions_default_outputs"] = result.as_numpy("median_house_value").tolist()
    try:
        client.infer(model, inputs(records, False), model_version=str(int(version) + 1))
        seen["other_version"] = "accepted"
    except InferenceServerException as e:
        seen["other_version"] = {"status": e.status(), "message": e.message()}
    bad = [dict(records[0], latitude=95.0)]
    try:
        client.infer(model, inputs(bad, False))
        seen["bad_record"] = "accepted"
    except InferenceServerException as e:
        seen["bad_record"] = {"status": e.status(), "message": e.message()}
    client.close()
    return seen


async def kserve(base, model, records):
    from kserve import InferenceRESTClient, RESTConfig, InferRequest, InferInput

    seen = {}
    v1 = InferenceRESTClient(RESTConfig(protocol="v1", retries=0))
    seen["v1_live"] = await v1.is_server_live(base)
    seen["v1_model_ready"] = await v1.is_model_ready(base, model)
    answer = await v1.infer(base, {"instances": records}, model_name=model)
    seen["v1_predictions"] = answer["predictions"] if isinstance(answer, dict) else answer.outputs
    await v1.close()

    v2 = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
    seen["v2_live"] = await v2.is_server_live(base)
    seen["v2_ready"] = await v2.is_server_ready(base)
    seen["v2_model_ready"] = await v2.is_model_ready(base, model)
    tensors = []
    for name in NUMERIC:
        t = InferInput(name, [len(records)], "FP64")
        t.set_data_from_numpy(np.array([r[name] for r in records], dtype=np.float64), binary_data=False)
        tensors.append(t)
    t = InferInput("ocean_proximity", [len(records)], "BYTES")
    t.set_data_from_numpy(np.array([r["ocean_proximity"] for r in records], dtype=np.object_), binary_data=False)
    tensors.append(t)
    response = await v2.infer(base, InferRequest(model_name=model, infer_inputs=tensors, request_id="kserve-1"),
                              model_name=model)
    seen["v2_model_name"] = response.model_name
    seen["v2_id"] = response.id
    seen["v2_predictions"] = response.outputs[0].as_numpy().tolist()
    await v2.close()
    return seen


def main():
    base, model, version, records = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    seen = {"triton": triton(base, model, version, records)}
    seen["kserve"] = asyncio.run(kserve(base, model, records))
    print(json.dumps(seen, default=str))


if __name__ == "__main__":
    main()
