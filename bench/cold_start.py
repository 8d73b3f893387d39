"""Cold start of the packaged app, and the size of the Lambda zip.

A cold start here is what Lambda pays on a new container: from spawning a fresh Python process to the answer
of its first request, the process importing Zappa's handler from the unzipped package and serving GET /healthz
(which reads DynamoDB Local). The zip is the release zip, the same for every stage: the stage's configuration
comes through the process environment, as Lambda gives it (`lambda_environment`). Interpreter teardown is not
counted: a Lambda answers first and lives on. The process runs with `-I -S -B`: nothing from the machine's
site-packages, and no bytecode written, as on Lambda's read-only /var/task. "Without" removes every __pycache__
from the package, which is what Lambda effectively gets from a default Zappa package (its 1980 timestamps make
shipped bytecode stale).

This machine's speed moves by 2x from day to day, so the absolute figure alone says little: the same run also
starts a bare Django project (bench/bare_django/: one URL, no database, no apps) packaged the same way, from the
app's zip's own third-party content (Zappa's handler, Django, boto3, ...) with the bare project in place of the app's
code, and reports the app's cold start as a ratio to it. The starts of the two alternate, so that drift in the
machine's speed affects both alike.
"""

import importlib.util
import json
import py_compile
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.report import Figure
from devstack import dynamodb_local, package

RUNS = 5
TABLE_PREFIX = "actions-dashboard-dev-"
COMMAND = "make bench-cold-start"
# The yardstick: a bare Django project, shipped in the zip as this top-level package.
BARE_PROJECT = Path(__file__).resolve().parent / "bare_django"
BARE_SETTINGS = f"{BARE_PROJECT.name}.settings"
RATIO_TARGET = 1.1

SCRIPT = """
import json, os, sys, time
os.chdir(sys.argv[1])
sys.path.insert(0, sys.argv[1])
from handler import lambda_handler
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/healthz", "rawQueryString": "",
    "headers": {"host": sys.argv[2], "x-forwarded-proto": "https"},
    "requestContext": {"http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                                "sourceIp": "192.0.2.1", "userAgent": "bench"}, "stage": "$default"},
    "isBase64Encoded": False,
}
response = lambda_handler(event, None)
print(json.dumps({"status": response["statusCode"], "body": response.get("body"), "answered_at": time.time()}))
"""


def lambda_environment(stage: str, *, endpoint: str, table_prefix: str) -> dict[str, str]:
    """What Lambda's configuration gives the app function of `stage`, with the values SSM would supply on AWS.

    The zip itself is stage-neutral (devstack/package.py), so this is the only place the stage comes from. DynamoDB
    is the local one, and the SSM read is left out: it needs AWS.
    """
    return {
        **package.stage_environment(package.zappa_stage(stage, "app")),
        "DASHBOARD_SSM_PATH": "",
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "DYNAMODB_TABLE_PREFIX": table_prefix,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GITHUB_CLIENT_ID": "Iv1.bench",
        "GITHUB_CLIENT_SECRET": secrets.token_hex(20),
        "TOKEN_KMS_KEY_ID": "alias/bench",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunused by this request\n-----END PRIVATE KEY-----\n",
        "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
    }


def unpack(zip_path: Path, target: Path, *, keep_bytecode: bool = True) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    if not keep_bytecode:
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
    return target


def serve_healthz(
    directory: Path, environment: dict[str, str], *, host: str | None = None, python: str = sys.executable
) -> dict:
    """Start a fresh process as Lambda would and serve GET /healthz from the unpacked package in `directory`.

    The request is for `host` (by default the stage's own). Returns the answer's status and body, and the
    wall-clock time it was ready at.
    """
    host = host or environment["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", SCRIPT, str(directory), host],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **environment},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the packaged app did not start: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bare_zip(app_zip: Path, output: Path) -> Path:
    """The bare Django project packaged as the app is: `app_zip` without the app's own code, with bench/bare_django/.

    Everything in the app's zip that is not the project's (Zappa's handler and the packages it took from the Lambda
    environment, bytecode and all) is copied as it is; Zappa's generated settings are the app's with the Django
    settings module replaced; the bare project's modules come with bytecode compiled as the app's is
    (unchecked-hash), which the "without bytecode" start removes like the app's.
    """
    first_party = {path.name for path in package.ROOT.iterdir()} - {"__pycache__"}

    def is_first_party(name: str) -> bool:
        top, _, rest = name.partition("/")
        if top == "__pycache__":  # bytecode of top-level modules: manage.py's is the app's, six.py's is not
            return f"{rest.split('.')[0]}.py" in first_party
        return top in first_party

    with zipfile.ZipFile(app_zip) as zin, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if is_first_party(info.filename):
                continue
            data = zin.read(info.filename)
            if info.filename == "zappa_settings.py":
                data, replaced = re.subn(
                    rb"^DJANGO_SETTINGS=.*$", f"DJANGO_SETTINGS={BARE_SETTINGS!r}".encode(), data, flags=re.M
                )
                if replaced != 1:
                    raise RuntimeError("Zappa's settings in the app's zip name no Django settings module")
            zout.writestr(info, data)
        with tempfile.TemporaryDirectory() as scratch:
            for source in sorted(BARE_PROJECT.glob("*.py")):
                name = f"{BARE_PROJECT.name}/{source.name}"
                compiled = Path(scratch, source.name + "c")
                py_compile.compile(
                    str(source),
                    cfile=str(compiled),
                    dfile=name,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                for entry, path in ((name, source), (importlib.util.cache_from_source(name), compiled)):
                    info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    zout.writestr(info, path.read_bytes())
    return output


def _cold_start(directory: Path, environment: dict[str, str]) -> float:
    """One cold start, in ms: spawn to the answer of GET /healthz."""
    spawned_at = time.time()
    outcome = serve_healthz(directory, environment)
    if outcome["status"] != 200:
        raise RuntimeError(f"{directory.name} did not serve /healthz: {outcome}")
    # Until the answer is ready, not until the process exits: a Lambda answers, then lives on.
    return (outcome["answered_at"] - spawned_at) * 1000


def interleaved_cold_starts(packages: dict[str, Path], environment: dict[str, str]) -> dict[str, list[float]]:
    """RUNS cold starts of each unpacked package, taken in rounds (one of each per round, the order reversed every
    other round), so that the machine's speed drifting during the run affects every package alike."""
    timings: dict[str, list[float]] = {name: [] for name in packages}
    order = list(packages)
    for round_ in range(RUNS):
        for name in order if round_ % 2 == 0 else reversed(order):
            timings[name].append(_cold_start(packages[name], environment))
    return timings


def paired_ratio(app: list[float], bare: list[float]) -> float:
    """The median of the ratios of the app's start to the bare project's of the same round."""
    return statistics.median(mine / theirs for mine, theirs in zip(app, bare, strict=True))


def run() -> list[Figure]:
    zip_path = package.build("dev", local=True)
    size_mb = zip_path.stat().st_size / 1e6
    port = dynamodb_local.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = dynamodb_local.start(port=port)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "createtables"],
            cwd=package.ROOT,
            env={"DYNAMODB_ENDPOINT_URL": endpoint, "DYNAMODB_TABLE_PREFIX": TABLE_PREFIX, "PATH": ""},
            check=True,
            capture_output=True,
        )
        environment = lambda_environment("dev", endpoint=endpoint, table_prefix=TABLE_PREFIX)
        with tempfile.TemporaryDirectory() as scratch:
            bare_path = bare_zip(zip_path, Path(scratch, "bare.zip"))
            packages = {
                "app": unpack(zip_path, Path(scratch, "app")),
                "bare": unpack(bare_path, Path(scratch, "bare")),
                "app_without": unpack(zip_path, Path(scratch, "app_without"), keep_bytecode=False),
                "bare_without": unpack(bare_path, Path(scratch, "bare_without"), keep_bytecode=False),
            }
            timings = interleaved_cold_starts(packages, environment)
    finally:
        dynamodb_local.stop(server)
    fast, slow, bare_fast, bare_slow = (
        statistics.median(timings[name]) for name in ("app", "app_without", "bare", "bare_without")
    )
    ratio = paired_ratio(timings["app"], timings["bare"])
    ratio_slow = paired_ratio(timings["app_without"], timings["bare_without"])
    return [
        Figure(
            key="lambda.cold_start",
            label="Lambda cold start, precompiled bytecode (median of 5)",
            value=fast,
            unit="ms",
            target="≤ 400 ms",
            met=fast <= 400,
            command=COMMAND,
            notes=f"Fresh `python -I -S -B` process importing Zappa's handler from the unzipped release zip "
            f"(dev's configuration in the environment, as Lambda gives it) and serving GET /healthz against "
            f"DynamoDB Local, timed from spawn to the answer (a Lambda answers, then lives on, "
            f"so interpreter teardown is not counted). Without precompiled bytecode: {slow:.0f} ms "
            f"({slow / fast:.1f}x). The SSM read of secrets (one call on AWS) is not included. This is the local "
            f"build (`package.build(local=True)`: this machine's Python, 3.11, and its bytecode); the pipeline ships "
            f"the runtime build ({package.lambda_runtime()}: its wheels for Lambda's platform, its bytecode compiled "
            f"by a Python of that version in the build job). A runtime build made where no such Python is ships no "
            f"bytecode: the figure without bytecode is what that costs. This machine's speed varies from day to day: "
            f"the ratio to a bare Django project, measured in the same run, is the figure to compare across runs.",
        ),
        Figure(
            key="lambda.cold_start_without_bytecode",
            label="Lambda cold start, no bytecode shipped (median of 5)",
            value=slow,
            unit="ms",
            target="(comparison)",
            met=None,
            command=COMMAND,
        ),
        Figure(
            key="lambda.cold_start_ratio",
            label="Lambda cold start ÷ a bare Django project's, precompiled bytecode (median of 5 rounds)",
            value=ratio,
            unit="×",
            target=f"≤ {RATIO_TARGET}",
            met=ratio <= RATIO_TARGET,
            command=COMMAND,
            notes=f"What the app's cold start costs beyond Django's own, as a ratio, so that it can be compared "
            f"between runs on a machine whose speed varies. The yardstick is a bare Django project "
            f"(bench/bare_django/: DEBUG off, no database, no apps, no middleware, one URL answering `ok`) in a zip "
            f"made from the app's release zip itself (Zappa's handler and the same third-party packages, bytecode "
            f"and all; only the app's code replaced by the bare project's), started the same way (fresh "
            f"`python -I -S -B` process, Zappa's handler, the same environment and request, GET /healthz). In each "
            f"of 5 rounds both are started one after the other, the order alternating; the figure is the median of "
            f"the rounds' ratios. This run: app {fast:.0f} ms, bare Django {bare_fast:.0f} ms. Without bytecode: "
            f"app {slow:.0f} ms, bare Django {bare_slow:.0f} ms, ratio {ratio_slow:.2f}. The app's extra time "
            f"includes what its first request does and the bare project's does not (its /healthz reads DynamoDB "
            f"Local).",
            details={
                "app_ms": fast,
                "bare_ms": bare_fast,
                "app_ms_without_bytecode": slow,
                "bare_ms_without_bytecode": bare_slow,
                "runs_ms": timings,
            },
        ),
        Figure(
            key="lambda.cold_start_ratio_without_bytecode",
            label="Lambda cold start ÷ a bare Django project's, no bytecode shipped (median of 5 rounds)",
            value=ratio_slow,
            unit="×",
            target="(comparison)",
            met=None,
            command=COMMAND,
        ),
        Figure(
            key="lambda.zip_size",
            label="Lambda zip size",
            value=size_mb,
            unit="MB",
            target="≤ 25 MB",
            met=size_mb <= 25,
            command="make package",
            notes="After pruning Zappa's deploy-time dependencies, unused botocore service models, other allauth "
            "providers and translation files (devstack/package.py lists each rule and its reason).",
        ),
    ]
