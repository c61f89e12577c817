"""Schemathesis hooks for the API fuzz (functions/predict/tests/openapi.rs).

A JSON body that is not UTF-8 is left out: on loopback the API runs under
`cargo lambda watch`, whose function-URL emulator cannot put such a body in
the event and answers 500 itself, before the function runs. API Gateway
passes it on (base64-encoded), and the function's answer to it (400
`malformed_request`) is tested in-process in tests/tests/predict_routes.rs.
"""

import os
import zlib

import schemathesis


def _utf8(body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@schemathesis.hook
def filter_body(ctx, body):
    return _utf8(body)


@schemathesis.hook
def filter_case(ctx, case):
    return _utf8(case.body)


@schemathesis.hook
def map_path_parameters(ctx, parameters):
    """Half of the generated paths name the served model (FUZZ_MODEL_NAME,
    FUZZ_MODEL_VERSION), so the fuzz reaches the inference logic and not only
    the not-found answer; which half follows from the generated values, so a
    seed reproduces a run."""
    if not parameters or "name" not in parameters:
        return parameters
    if zlib.crc32(repr(sorted(parameters.items())).encode()) % 2 == 0:
        parameters = dict(parameters, name=os.environ["FUZZ_MODEL_NAME"])
        if "version" in parameters:
            parameters["version"] = os.environ["FUZZ_MODEL_VERSION"]
    return parameters
