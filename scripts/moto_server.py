"""Runs moto's AWS emulator on 127.0.0.1, with its IAM access control on, and
prints `READY <endpoint>` once it serves.

    python scripts/moto_server.py [--port N] [--until-stdin-closes] [--authorizations FILE]

Permissions are enforced from the first request: every call must be signed by
credentials moto knows, and moto evaluates the caller's identity policies. The
harness signs with the operator's key (`testing`/`testing`, an IAM user allowed
everything, made here before the server starts: it stands in for whoever
deploys and operates the stack); each function signs with the credentials of
its own role (`local-stack up` creates the roles from the template and assumes
them). With --authorizations every decision moto makes for an assumed role is
appended to FILE as a JSON line (principal, action, resource, allowed), from
which `local-stack grants` reports the grants no call used.

moto drops an endpoint config's ShadowProductionVariants (it implements no
shadow variants); they are kept here and described back as SageMaker does, so
the local endpoint server can mirror requests to a shadow variant.

moto names a CloudWatch call's IAM action after its signing name
(`monitoring:GetMetricData`); here it is `cloudwatch:GetMetricData`, as IAM
evaluates it.

moto has no UpdateEndpoint: here it moves the endpoint to the new config at
once, InService (SageMaker goes through Updating and its blue/green traffic
shift, which no local model needs), and refuses an endpoint or config that
does not exist as SageMaker does.

With --until-stdin-closes the server stops when its standard input reaches end of
file: the test harness holds the pipe, so the server never outlives the tests.
Otherwise it runs until SIGINT/SIGTERM (the main job's trap stops it).
"""
import argparse
import json
import signal
import socket
import sys
import threading

from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import access_control
from moto.iam.models import iam_backends
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker import responses as sagemaker_responses
from moto.sagemaker.exceptions import ValidationError
from moto.server import ThreadedMotoServer

OPERATOR = "local-operator"
OPERATOR_KEY = "testing"
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_operator() -> None:
    """The operator's IAM user, with the fixed key the harness signs with."""
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_user(region_name="us-east-1", user_name=OPERATOR)
    backend.put_user_policy(OPERATOR, "operate-the-stack", json.dumps(EVERYTHING))
    key = backend.create_access_key(OPERATOR)
    del backend.access_keys[key.access_key_id]
    key.access_key_id = OPERATOR_KEY
    key.secret_access_key = OPERATOR_KEY
    backend.access_keys[OPERATOR_KEY] = key


def record_authorizations(path: str) -> None:
    """Appends each decision on an assumed role's request to `path`."""
    lock = threading.Lock()
    check = access_control.IAMRequestBase.check_action_permitted

    def recorded(self, resource):
        allowed = False
        try:
            check(self, resource)
            allowed = True
        finally:
            principal = self._access_key.arn
            if ":assumed-role/" in principal:
                line = json.dumps(
                    {
                        "principal": principal,
                        "action": self._action,
                        "resource": resource,
                        "allowed": allowed,
                    }
                )
                with lock, open(path, "a", encoding="utf-8") as out:
                    out.write(line + "\n")

    access_control.IAMRequestBase.check_action_permitted = recorded


# A request's SigV4 signing name is moto's IAM action prefix, and not every service's
# is its IAM prefix: CloudWatch signs as "monitoring", its actions are "cloudwatch:*".
IAM_PREFIXES = {"monitoring": "cloudwatch"}


def iam_prefixes() -> None:
    """Evaluates each request as the IAM action AWS names it."""
    init = access_control.IAMRequestBase.__init__

    def named(self, *args, **kwargs):
        init(self, *args, **kwargs)
        service, _, action = self._action.partition(":")
        if service in IAM_PREFIXES:
            self._action = f"{IAM_PREFIXES[service]}:{action}"

    access_control.IAMRequestBase.__init__ = named


def keep_shadow_variants() -> None:
    """CreateEndpointConfig's ShadowProductionVariants, kept on the config and
    in DescribeEndpointConfig's answer."""
    response = sagemaker_responses.SageMakerResponse
    create = response.create_endpoint_config

    def created(self):
        result = create(self)
        shadows = self._get_param("ShadowProductionVariants")
        if shadows:
            name = self._get_param("EndpointConfigName")
            self.sagemaker_backend.endpoint_configs[name].shadow_production_variants = shadows
        return result

    response.create_endpoint_config = created
    config = sagemaker_models.FakeEndpointConfig
    described = config.response_object

    def with_shadows(self):
        out = described.fget(self)
        shadows = getattr(self, "shadow_production_variants", None)
        return {**out, "ShadowProductionVariants": shadows} if shadows else out

    config.response_object = property(with_shadows)


def update_endpoints() -> None:
    """UpdateEndpoint, done at once."""
    response = sagemaker_responses.SageMakerResponse

    def update_endpoint(self):
        backend = self.sagemaker_backend
        name = self._get_param("EndpointName")
        config_name = self._get_param("EndpointConfigName")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f"Could not find endpoint '{name}'.")
        config = backend.endpoint_configs.get(config_name)
        if config is None:
            raise ValidationError(message=f"Could not find endpoint configuration '{config_name}'.")
        described = config.response_object
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(
            described["ProductionVariants"]
        )
        endpoint.data_capture_config = described.get("DataCaptureConfig")
        return sagemaker_responses.ActionResult({"EndpointArn": endpoint.arn})

    response.update_endpoint = update_endpoint


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--until-stdin-closes", action="store_true")
    parser.add_argument("--authorizations", metavar="FILE")
    args = parser.parse_args()
    create_operator()
    keep_shadow_variants()
    update_endpoints()
    iam_prefixes()
    if args.authorizations:
        record_authorizations(args.authorizations)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    port = args.port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"READY http://127.0.0.1:{port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
