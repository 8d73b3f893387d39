"""A local AWS API for the deploy rehearsal: moto's standalone server, with what Zappa 0.63 needs and moto lacks.

    .venv-rehearsal/bin/python -m devstack.aws_stand_in --port 5055

It is moto's own server application (what `moto_server` runs), in this process, behind a small WSGI layer that:

* logs every request as the IAM action it needs (`lambda:GetAlias`, `s3:PutObject`...) with the caller's access
  key and moto's answer, read from the request alone (SigV4's credential scope names the service; X-Amz-Target,
  `Action=` or botocore's REST model the operation). `GET /_stand_in/calls` returns the log. This is how the
  rehearsal derives the deploy role's policy from the calls really made.
* answers what moto 5.2 lacks or gets wrong and Zappa calls (each measured against AWS's API reference):
  ListFunctionUrlConfigs (no route in moto); GetFunction by a partial ARN `function:NAME:QUALIFIER` (moto
  answers 500); the code download URL in GetFunction (moto names a real AWS host; served here from moto's copy
  of that version's zip); AddPermission's status (AWS answers 201, moto 200); a function's SnapStart setting
  (moto drops it and always answers `None`: kept here from CreateFunction and UpdateFunctionConfiguration, and
  answered in GetFunctionConfiguration); and, with IAM checks on, moto's SigV4 check of a GET or DELETE (it
  hashes the parsed parameters instead of the empty body).
* runs Invoke for real: the version's zip, unpacked, started with this machine's Python and the function's
  configured environment, its handler called with the event, its AWS calls sent back here. moto itself would
  need Docker. The rehearsal's checks of a new version (GET /healthz, a page, a WebSocket connect, a
  reconciliation dry run, an empty batch of stream records) therefore run the code that was deployed, as it was
  configured.

Never deployed; used only by `make deploy-rehearsal` and its tests.
"""

import argparse
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import zipfile
from pathlib import Path

import botocore.session
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request", re.IGNORECASE
)
SIGNING_TO_SERVICE = {"monitoring": "cloudwatch"}
# Operations AWS authorizes under another action's name.
ACTION_OF = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "lambda:Invoke": "lambda:InvokeFunction",
}
INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
URL_CONFIGS = re.compile(r"^/2021-10-31/functions/(?P<name>[^/]+)/urls/?$")
PARTIAL_ARN = re.compile(r"^/\d{4}-\d\d-\d\d/functions/function:(?P<name>[^/:]+)(:(?P<qualifier>[^/]+))?/?$")
CODE = re.compile(r"^/_stand_in/code/(?P<region>[^/]+)/(?P<name>[^/]+)/(?P<version>[^/]+)$")
CONFIGURATION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/configuration/?$")

# What a Lambda container runs, given the unpacked code, the handler (`module.function`) and the event.
RUNNER = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
module, _, function = sys.argv[2].rpartition(".")
result = getattr(importlib.import_module(module), function)(json.loads(sys.stdin.read()), None)
print("\\n" + json.dumps(result, default=str))
"""


def _patch_moto_sigv4() -> None:
    """moto's SigV4 check hashes a GET's parsed parameters as its body; AWS hashes the empty body."""
    import moto.iam.access_control as access_control

    original = access_control.IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = original(self)
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            request.data = b""
        return request

    access_control.IAMRequestBase._create_aws_request = create_aws_request


class OperationNames:
    """A request's operation as botocore's model names it (REST services are matched by method and path)."""

    def __init__(self):
        self._session = botocore.session.get_session()
        self._tables: dict[str, list] = {}
        self._lock = threading.Lock()

    def _table(self, service: str) -> list:
        with self._lock:
            if service not in self._tables:
                try:
                    model = self._session.get_service_model(service)
                except Exception:
                    model = None
                table = []
                for name in model.operation_names if model else []:
                    http = model.operation_model(name).http
                    path, _, query = http.get("requestUri", "/").partition("?")
                    required = {part.split("=")[0] for part in query.split("&") if part and not part.startswith("x-id")}
                    pattern = re.escape(path.rstrip("/") or "/")
                    pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", pattern)
                    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
                    literal = len(re.sub(r"\{[^}]+\}", "", path))
                    table.append((http.get("method", "POST"), re.compile(f"^{pattern}/?$"), required, literal, name))
                self._tables[service] = table
            return self._tables[service]

    def name(self, service: str, method: str, path: str, query: set[str]) -> str | None:
        best = None
        for verb, pattern, required, literal, name in self._table(service):
            if verb == method and pattern.match(path) and required <= query:
                score = (len(required), literal)
                if best is None or score > best[0]:
                    best = (score, name)
        return best[1] if best else None


class StandIn:
    """The WSGI layer in front of moto's application."""

    def __init__(self, moto_app, python: str):
        self.moto = moto_app
        self.python = python
        self.names = OperationNames()
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.unpacked: dict[str, Path] = {}
        # The credentials a function's own calls are signed with (POST /_stand_in/execution-credentials).
        self.execution = {"AWS_ACCESS_KEY_ID": "lambda-role", "AWS_SECRET_ACCESS_KEY": "lambda-role"}
        self.scratch = Path(tempfile.mkdtemp(prefix="aws-stand-in-"))
        self.snap_start: dict[tuple[str, str], str] = {}  # (region, function name) -> ApplyOn

    def __call__(self, environ, start_response):
        path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
        if path.startswith("/_stand_in/"):
            return self._own(environ, start_response, path)
        if path.startswith("/moto-api"):
            return self.moto(environ, start_response)
        call = self._describe(environ, path)
        if call["service"] == "lambda":
            answered = self._lambda(environ, start_response, path, call)
            if answered is not None:
                return answered
        asked_snap_start = self._snap_start_asked(environ, path, call)
        status, headers, body = self._forward(environ)
        call["status"] = int(status.split()[0])
        if asked_snap_start and call["status"] in (200, 201):
            self.snap_start[(call["region"], asked_snap_start[0])] = asked_snap_start[1]
        if call["action"] == "lambda:GetFunctionConfiguration" and call["status"] == 200:
            body = self._with_snap_start(body, call["region"])
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        if call["action"] == "lambda:GetFunction" and call["status"] == 200:
            body = self._code_location(environ, body, call["region"])
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        if call["action"] == "lambda:AddPermission" and call["status"] == 200:
            status, call["status"] = "201 CREATED", 201
        self._record(call)
        start_response(status, headers)
        return [body]

    # SnapStart, which moto forgets

    def _snap_start_asked(self, environ, path: str, call: dict) -> tuple[str, str] | None:
        """(function name, ApplyOn) of a CreateFunction or UpdateFunctionConfiguration that sets SnapStart."""
        if call["action"] not in ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"):
            return None
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            asked = json.loads(body or b"{}")
        except ValueError:
            return None
        if "SnapStart" not in asked:
            return None
        configured = CONFIGURATION.match(path)
        name = configured["name"] if configured else asked.get("FunctionName", "")
        return name.rsplit(":", 1)[-1] if name.startswith("arn:") else name, asked["SnapStart"].get("ApplyOn", "None")

    def _with_snap_start(self, body: bytes, region: str) -> bytes:
        """A function configuration with its SnapStart as AWS answers it: on for a published version."""
        answer = json.loads(body)
        apply_on = self.snap_start.get((region, answer.get("FunctionName")), "None")
        published = answer.get("Version", "$LATEST") != "$LATEST"
        on = apply_on == "PublishedVersions" and published
        answer["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "On" if on else "Off"}
        return json.dumps(answer).encode()

    # What was asked, and by whom

    def _describe(self, environ, path: str) -> dict:
        credential = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = SIGNING_TO_SERVICE.get(credential["service"], credential["service"]) if credential else None
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation = (environ.get("HTTP_X_AMZ_TARGET") or "").rsplit(".", 1)[-1] or query.get("Action", [None])[0]
        if operation is None and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            operation = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
        if operation is None and service:
            operation = self.names.name(service, environ["REQUEST_METHOD"], path, set(query))
        if operation in ("PutObject", "CopyObject"):  # the same method and path: only a header tells them apart
            operation = "CopyObject" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "PutObject"
        action = f"{service}:{operation}" if service and operation else None
        # A Lambda operation's name carries its API version in botocore's model (`UpdateFunctionCode20150331v2`).
        action = re.sub(r"\d{8}(v\d+)?$", "", action) if action else None
        return {
            "action": ACTION_OF.get(action, action),
            "key": credential["key"] if credential else None,
            "region": credential["region"] if credential else None,
            "service": service,
            "method": environ["REQUEST_METHOD"],
            "path": path,
        }

    def _record(self, call: dict) -> None:
        with self.lock:
            self.calls.append(call)

    def _forward(self, environ):
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        result = self.moto(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return answer["status"], answer["headers"], body

    @staticmethod
    def _reply(start_response, status: str, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
        return [data]

    # Lambda

    def _backend(self, region: str):
        from moto.awslambda.models import lambda_backends

        return lambda_backends[DEFAULT_ACCOUNT_ID][region]

    def _allowed(self, environ, call: dict) -> str | None:
        """moto's own IAM check, for a request answered here; the refusal's message, or None."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.iam.access_control import IAMRequest

        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return None
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        if environ.get("HTTP_X_AMZ_SECURITY_TOKEN"):
            headers["X-Amz-Security-Token"] = environ["HTTP_X_AMZ_SECURITY_TOKEN"]
        try:
            request = IAMRequest(
                account_id=DEFAULT_ACCOUNT_ID,
                method=environ["REQUEST_METHOD"],
                path=environ.get("PATH_INFO", ""),
                data={},
                body=b"",
                headers=headers,
                action=call["action"].split(":", 1)[1],
            )
            request.check_action_permitted("*")
        except Exception as refusal:
            return getattr(refusal, "description", str(refusal))
        return None

    def _lambda(self, environ, start_response, path: str, call: dict):
        method = environ["REQUEST_METHOD"]
        url_configs, partial, invoke = URL_CONFIGS.match(path), PARTIAL_ARN.match(path), INVOKE.match(path)
        if not ((url_configs or partial) and method == "GET") and not (invoke and method == "POST"):
            return None

        def answer(status: str, body, error: str | None = None):
            call["status"] = int(status.split()[0])
            self._record(call)
            return self._reply(start_response, status, body, headers=[("x-amzn-ErrorType", error)] if error else ())

        refusal = self._allowed(environ, call)
        if refusal:
            return answer("403 Forbidden", {"message": refusal}, "AccessDeniedException")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        name = (url_configs or partial or invoke)["name"]
        qualifier = (partial["qualifier"] if partial else None) or query.get("Qualifier", [None])[0]
        try:
            function = self._backend(call["region"]).get_function(name, qualifier)
        except Exception:
            return answer("404 Not Found", {"message": f"Function not found: {name}"}, "ResourceNotFoundException")
        if url_configs:
            return answer("200 OK", {"FunctionUrlConfigs": []})
        if partial:
            body = self._code_location(environ, json.dumps(function.get_code()).encode(), call["region"])
            return answer("200 OK", body)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        event = environ["wsgi.input"].read(length) or b"{}"
        status, payload = self._run(environ, function, event)
        if status == "ok":
            return answer("200 OK", payload)
        return self._function_error(start_response, call, payload)

    def _function_error(self, start_response, call: dict, payload: bytes):
        call["status"] = 200
        self._record(call)
        return self._reply(start_response, "200 OK", payload, headers=[("X-Amz-Function-Error", "Unhandled")])

    def _run(self, environ, function, event: bytes) -> tuple[str, bytes]:
        """Run one invocation of `function` (a moto version) as a Lambda container would."""
        digest = hashlib.sha256(function.code_bytes).hexdigest()
        directory = self.unpacked.get(digest)
        if directory is None:
            directory = self.scratch / digest
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                archive.extractall(directory)
            self.unpacked[digest] = directory
        host = environ.get("HTTP_HOST", "127.0.0.1")
        configured = (function.environment_vars or {}) if hasattr(function, "environment_vars") else {}
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            **configured,
            "AWS_ENDPOINT_URL": f"http://{host}",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            **self.execution,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        }
        result = subprocess.run(
            [self.python, "-I", "-S", "-B", "-c", RUNNER, str(directory), function.handler],
            input=event,
            capture_output=True,
            timeout=int(function.timeout or 30) + 30,
            cwd=directory,  # /var/task, where Lambda starts the handler
            env=env,
            check=False,
        )
        if result.returncode != 0:
            error = {"errorMessage": result.stderr.decode(errors="replace")[-4000:], "errorType": "Runtime.Error"}
            return "error", json.dumps(error).encode()
        return "ok", result.stdout.decode().strip().splitlines()[-1].encode()

    @staticmethod
    def _code_location(environ, body: bytes, region: str) -> bytes:
        try:
            answer = json.loads(body)
        except ValueError:
            return body
        configuration = answer.get("Configuration", {})
        if "Location" in answer.get("Code", {}):
            host = environ.get("HTTP_HOST", "127.0.0.1")
            name = urllib.parse.quote(configuration.get("FunctionName", ""))
            version = urllib.parse.quote(configuration.get("Version", "$LATEST"))
            answer["Code"]["Location"] = f"http://{host}/_stand_in/code/{region}/{name}/{version}"
        return json.dumps(answer).encode()

    def _own(self, environ, start_response, path: str):
        if path == "/_stand_in/execution-credentials" and environ["REQUEST_METHOD"] == "POST":
            given = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            self.execution = {key: given[key] for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
            return self._reply(start_response, "200 OK", {})
        if path == "/_stand_in/calls":
            with self.lock:
                return self._reply(start_response, "200 OK", self.calls)
        code = CODE.match(path)
        if code:
            version = code["version"]
            function = self._backend(code["region"]).get_function(
                code["name"], None if version == "$LATEST" else version
            )
            return self._reply(start_response, "200 OK", function.code_bytes, content_type="application/zip")
        return self._reply(start_response, "404 Not Found", {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.aws_stand_in", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--python", default=os.environ.get("LAMBDA_LOCAL_PYTHON", sys.executable))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    _patch_moto_sigv4()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", args.port, StandIn(app, args.python), threaded=True, request_handler=MotoRequestHandler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
