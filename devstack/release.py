"""Releases: build once, deploy the same bytes to dev and then prod behind an alias, roll back in seconds.

    python -m devstack.release build                      # build/release/: the zips, static.zip, manifest.json
    python -m devstack.release publish --stage dev        # upload them to the stage's artifacts bucket
    python -m devstack.release deploy --stage dev --sha S # static files, each function's new version, checks, alias
    python -m devstack.release rollback --stage dev       # the `live` alias back to the versions before (no build)
    python -m devstack.release invalidate --distribution ID

A release is named by its commit. Its manifest lists each function's zip with its SHA-256, the static files,
and the versions of what runs on Lambda. Deploying reads the manifest back from S3 and refuses a zip whose
hash differs. Both APIs, the schedule and the events stream's source mapping invoke each function's `live` alias
(infra/): a deploy creates or updates every function from its zip (`zappa deploy` the first time, so a first deploy
cut short resumes), publishes a version of each, checks every new version by invoking it (GET /healthz and a page, a
WebSocket connect, a reconciliation dry run, an empty batch of stream records), and only then moves `live` to the new
versions, keeping the old ones as `previous`. A deploy that fails anywhere before that leaves every function serving
the release it served before.
"""

import argparse
import hashlib
import io
import json
import mimetypes
import os
import platform
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack import glibc, package

ROOT = package.ROOT
RELEASE = package.BUILD / "release"
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text())
# From the settings, never from the operator's shell (AWS_DEFAULT_REGION): every call and every Zappa command.
REGION = SETTINGS["dev"]["aws_region"]
PROJECT = SETTINGS["dev"]["project_name"]
LIVE, PREVIOUS = "live", "previous"
# Deployed in this order: the static files before the HTML that names them, the WebSocket function before the
# functions that post to it, the stream function (a consumer of the events table) before the app that writes the
# events; the HTML caches are invalidated last.
ORDER = ("ws", "stream", "reconcile", "app")
ERROR_PAGES = ROOT / "infra" / "errors"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "max-age=0, must-revalidate"
# What CloudFront may hold of HTML (infra/cdn.tf): the error page, and `/` should a response ever be cached.
HTML_PATHS = ["/", "/errors/*"]


class ReleaseError(Exception):
    """A release is missing, incomplete or not what its manifest says."""


@dataclass(frozen=True)
class Buckets:
    """A stage's two buckets. S3 names are global, so infra/ suffixes them with the account's id (a second
    installation in another account never collides), and the release script finds the same names from the
    account its credentials belong to."""

    artifacts: str
    static: str

    @classmethod
    def of(cls, stage: str, account: str) -> "Buckets":
        return cls(f"{PROJECT}-{stage}-lambda-artifacts-{account}", f"{PROJECT}-{stage}-static-{account}")


def buckets(stage: str, *, sts=None) -> Buckets:
    """The stage's buckets in the account of the credentials in use (STS GetCallerIdentity needs no permission)."""
    return Buckets.of(stage, _client("sts", sts).get_caller_identity()["Account"])


def release_key(sha: str, name: str) -> str:
    return f"releases/{sha}/{name}"


def zip_name(function: str, sha: str) -> str:
    return f"lambda-{function}-{sha}.zip"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    """What runs on Lambda: the Python the zips were built with and every pinned package of requirements/lambda.txt."""
    pins = {}
    for line in (ROOT / "requirements" / "lambda.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip()] = version.strip()
    return {"python": platform.python_version(), **pins}


def manifest(sha: str, directory: Path, *, static_files: int) -> dict:
    """The manifest of the release whose files are in `directory`."""
    functions = {}
    for function in package.FUNCTIONS:
        path = directory / zip_name(function, sha)
        needs = max(glibc.requirements(path).values(), default=())
        functions[function] = {
            "zip": path.name,
            "sha256": sha256(path),
            "bytes": path.stat().st_size,
            "zappa_stage": package.zappa_stage("{stage}", function),
            "glibc": ".".join(str(part) for part in needs),
        }
    static = directory / "static.zip"
    return {
        "sha": sha,
        "runtime": package.lambda_runtime(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "functions": functions,
        "static": {"zip": static.name, "sha256": sha256(static), "files": static_files},
        "versions": _versions(),
    }


def _zip_static(source: Path, target: Path) -> int:
    """collectstatic's output, and the error pages with their stylesheet, as `static/...` and `errors/...`: what the
    static bucket holds."""
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, f"static/{path.relative_to(source)}")
                count += 1
        for path in sorted(ERROR_PAGES.glob("*.*")):
            archive.write(path, f"errors/{path.name}")
            count += 1
    return count


def build(sha: str, *, directory: Path = RELEASE, local: bool = False) -> dict:
    """Every function's stage-neutral zip, the static files, and the manifest, in `directory`.

    Built for the Lambda runtime; `local` builds for this machine's Python (the deploy rehearsal runs the code).
    """
    directory.mkdir(parents=True, exist_ok=True)
    static_manifest = package.collect_static()
    static_files = _zip_static(static_manifest.parent, directory / "static.zip")
    for function in package.FUNCTIONS:
        package.build(
            "dev",
            function=function,
            output=directory / zip_name(function, sha),
            static_manifest=static_manifest,
            local=local,
        )
    release = manifest(sha, directory, static_files=static_files)
    (directory / "manifest.json").write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")
    return release


def _client(service: str, client=None):
    if client is not None:
        return client
    import boto3

    return boto3.client(service, region_name=REGION)


def _s3(client=None):
    return _client("s3", client)


def function_name(stage: str, function: str) -> str:
    """The Lambda function Zappa names after the project and the stage: `actions-dashboard-dev-ws`."""
    return f"{PROJECT}-{package.zappa_stage(stage, function).replace('_', '-')}"


def publish(to: Buckets, *, directory: Path = RELEASE, s3=None) -> dict:
    """Upload a built release to the stage's artifacts bucket, each file with its SHA-256; the manifest last."""
    s3 = _s3(s3)
    release = json.loads((directory / "manifest.json").read_text())
    sha, bucket = release["sha"], to.artifacts
    files = [entry for entry in release["functions"].values()] + [release["static"]]
    for entry in files:
        path = directory / entry["zip"]
        if sha256(path) != entry["sha256"]:
            raise ReleaseError(f"{path.name} is not the file the manifest describes")
        s3.upload_file(
            str(path), bucket, release_key(sha, entry["zip"]), ExtraArgs={"Metadata": {"sha256": entry["sha256"]}}
        )
    s3.put_object(
        Bucket=bucket,
        Key=release_key(sha, "manifest.json"),
        Body=(directory / "manifest.json").read_bytes(),
        ContentType="application/json",
    )
    return release


def fetch_manifest(to: Buckets, sha: str, *, s3=None) -> dict:
    """The published manifest of one release, checked against what is stored beside it."""
    s3 = _s3(s3)
    bucket = to.artifacts
    try:
        release = json.loads(s3.get_object(Bucket=bucket, Key=release_key(sha, "manifest.json"))["Body"].read())
    except s3.exceptions.NoSuchKey:
        raise ReleaseError(f"no release {sha} in s3://{bucket}/releases/ (was it built and published?)") from None
    for entry in [*release["functions"].values(), release["static"]]:
        try:
            stored = s3.head_object(Bucket=bucket, Key=release_key(sha, entry["zip"]))
        except s3.exceptions.ClientError:
            raise ReleaseError(f"release {sha}: {entry['zip']} is missing from s3://{bucket}") from None
        if stored.get("Metadata", {}).get("sha256") != entry["sha256"]:
            raise ReleaseError(f"release {sha}: {entry['zip']} in s3://{bucket} is not the file its manifest names")
    return release


def static_upload(to: Buckets, release: dict, *, s3=None) -> int:
    """Put the release's static files in the static bucket; return how many were new. Nothing is deleted."""
    s3 = _s3(s3)
    source, target = to.artifacts, to.static
    body = s3.get_object(Bucket=source, Key=release_key(release["sha"], release["static"]["zip"]))["Body"].read()
    added = 0
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        hashed_names = _hashed(archive)
        for name in archive.namelist():
            hashed = name in hashed_names
            if hashed and _exists(s3, target, name):
                continue  # hashed names never change content
            content_type = _content_type(name)
            s3.put_object(
                Bucket=target,
                Key=name,
                Body=archive.read(name),
                ContentType=content_type,
                CacheControl=IMMUTABLE if hashed else REVALIDATE,
            )
            added += 1
    return added


def _hashed(archive: zipfile.ZipFile) -> set[str]:
    """The files whose names carry their content's hash, by collectstatic's manifest. collectstatic also writes
    every file under its plain name, which changes content from release to release: those are revalidated."""
    manifest_name = "static/staticfiles.json"
    if manifest_name not in archive.namelist():
        return set()
    paths = json.loads(archive.read(manifest_name)).get("paths", {})
    return {f"static/{name}" for name in paths.values()}


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return True


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def zappa_command(stage: str, function: str, release: dict, *, bucket: str, first: bool) -> list[str]:
    """`zappa update` of one function from its zip in S3 (`zappa deploy` if the function does not exist yet)."""
    zip_key = release_key(release["sha"], release["functions"][function]["zip"])
    return [
        "deploy" if first else "update",
        package.zappa_stage(stage, function),
        "--zip",
        f"s3://{bucket}/{zip_key}",
    ]


def _zappa(arguments: list[str], *, bucket: str, mark: str) -> None:
    venv = package.LAMBDA_VENV
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "DASHBOARD_RELEASE_DEPLOY": "1",  # devstack/zappa_guard.py lets this run, and refuses Zappa by hand
        # ... and gives Zappa the account's bucket, and this deploy's mark for the functions' environment
        "DASHBOARD_ARTIFACTS_BUCKET": bucket,
        "DASHBOARD_DEPLOY": mark,
    }
    subprocess.run([str(venv / "bin" / "zappa"), *arguments], cwd=ROOT, env=env, check=True)


def _function_exists(lambda_client, name: str) -> bool:
    try:
        lambda_client.get_function_configuration(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


def _publish(lambda_client, name: str) -> str:
    """A version of the function's code and configuration as they are now (Zappa's own publish precedes its
    configuration update, so it would carry the old runtime and environment), once it can be invoked: with
    SnapStart a new version stays `Pending` until its snapshot is taken. Zappa has already published that version
    where SnapStart is on, and Lambda then answers with it rather than publish the same twice."""
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier=version)
    return version


def _http_event(path: str, host: str) -> dict:
    """An API Gateway HTTP API (payload 2.0) GET, as the app's function receives one."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": host, "x-forwarded-proto": "https", "accept": "text/html"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "deploy",
            },
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def _status(*statuses: int):
    return lambda answer: isinstance(answer, dict) and answer.get("statusCode") in statuses


def _dry_run_done(answer) -> bool:
    return isinstance(answer, dict) and answer.get("dry_run") is True


def _no_failures(answer) -> bool:
    return answer == {"batchItemFailures": []}


def checks(function: str, host: str) -> list[tuple[str, dict, object]]:
    """What a new version of each function must answer before it takes traffic: (what, event, test of the answer)."""
    if function == "app":
        # A page as well as /healthz: a zip without the static manifest serves /healthz but no page.
        return [
            ("GET /healthz", _http_event("/healthz", host), _status(200)),
            ("GET / (a page)", _http_event("/", host), _status(200)),
        ]
    if function == "ws":
        # Without a session cookie $connect is refused: the handler ran and answered.
        connect = {"requestContext": {"routeKey": "$connect", "connectionId": "deploy-check"}, "headers": {}}
        return [("WebSocket $connect", connect, _status(401, 403))]
    if function == "stream":
        # A batch without records, as no stream delivers: the handler started (Django set up, settings read from
        # SSM) and answered its partial batch response, having changed nothing.
        return [("an empty batch of stream records", {"Records": []}, _no_failures)]
    return [
        ("reconciliation dry run", {"command": "dashboard.reconciliation.scheduled", "dry_run": True}, _dry_run_done)
    ]


def check(lambda_client, stage: str, function: str, version: str) -> None:
    """Invoke the new version with each of its checks; ReleaseError names the first that fails."""
    name = function_name(stage, function)
    host = SETTINGS[stage]["aws_environment_variables"]["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    for what, event, passes in checks(function, host):
        reply = lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=json.dumps(event).encode())
        text = reply["Payload"].read().decode(errors="replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = text
        if reply.get("FunctionError") or not passes(answer):
            raise ReleaseError(f"{name} version {version}: {what} failed: {str(answer)[:500]}")
        print(f"checked {name}:{version}: {what}", flush=True)


def _alias_version(lambda_client, name: str, alias: str) -> str | None:
    try:
        return lambda_client.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def _point(lambda_client, name: str, alias: str, version: str) -> None:
    if _alias_version(lambda_client, name, alias) is None:
        lambda_client.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    else:
        lambda_client.update_alias(FunctionName=name, Name=alias, FunctionVersion=version)


def promote(lambda_client, stage: str, versions: dict[str, str]) -> None:
    """Move every function's `live` alias to its new version, keeping the one before as `previous`."""
    for function in ORDER:
        name = function_name(stage, function)
        before = _alias_version(lambda_client, name, LIVE)
        if before is not None and before != versions[function]:
            _point(lambda_client, name, PREVIOUS, before)
        _point(lambda_client, name, LIVE, versions[function])
        print(f"{name}: {LIVE} -> version {versions[function]} (was {before or 'none'})", flush=True)


def rollback(stage: str, *, lambda_client=None) -> dict[str, str]:
    """Every function's `live` alias back to its `previous` version: seconds, no build, no Zappa (break glass)."""
    lambda_client = _client("lambda", lambda_client)
    targets = {}
    for function in ORDER:
        name = function_name(stage, function)
        previous = _alias_version(lambda_client, name, PREVIOUS)
        if previous is None:
            raise ReleaseError(f"{name} has no `{PREVIOUS}` version to go back to; deploy an earlier release instead")
        targets[function] = previous
    for function in ORDER:
        name = function_name(stage, function)
        current = _alias_version(lambda_client, name, LIVE)
        _point(lambda_client, name, LIVE, targets[function])
        _point(lambda_client, name, PREVIOUS, current)
        print(f"{name}: {LIVE} -> version {targets[function]} (was {current})", flush=True)
    return targets


def runnable(release: dict, runtime: str) -> None:
    """Refuse a release whose compiled extensions need a newer glibc than the runtime's (they die at import)."""
    limit = glibc.RUNTIME_GLIBC[runtime]
    for function, entry in release["functions"].items():
        needs = tuple(int(part) for part in entry.get("glibc", "").split(".") if part)
        if needs[:2] > limit:
            raise ReleaseError(
                f"release {release['sha']}: the {function} zip needs glibc {entry['glibc']}, and {runtime} has "
                f"{'.'.join(map(str, limit))}: it would fail at every cold start (build it for the runtime)"
            )


def deploy(stage: str, sha: str, *, to: Buckets, s3=None, lambda_client=None, run=_zappa) -> dict:
    """Deploy one published release to a stage: static files, each function's new version, checks, then the alias."""
    release = fetch_manifest(to, sha, s3=s3)
    runnable(release, package.lambda_runtime())
    lambda_client = _client("lambda", lambda_client)
    added = static_upload(to, release, s3=s3)
    print(f"static files: {added} new in s3://{to.static}")
    versions = {}
    mark = f"{sha}@{datetime.now(UTC).isoformat(timespec='seconds')}"
    for function in ORDER:
        name = function_name(stage, function)
        first = not _function_exists(lambda_client, name)
        command = zappa_command(stage, function, release, bucket=to.artifacts, first=first)
        print(f"zappa {' '.join(command)}", flush=True)
        run(command, bucket=to.artifacts, mark=mark)
        versions[function] = _publish(lambda_client, name)
    for function in ORDER:
        check(lambda_client, stage, function, versions[function])
    promote(lambda_client, stage, versions)
    return {**release, "versions_deployed": versions}


def invalidate(distribution: str, *, reference: str, cloudfront=None) -> str:
    """Ask CloudFront to drop the HTML it holds; return the invalidation's id."""
    if cloudfront is None:
        import boto3

        cloudfront = boto3.client("cloudfront")
    answer = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": len(HTML_PATHS), "Items": HTML_PATHS}, "CallerReference": reference},
    )
    return answer["Invalidation"]["Id"]


def healthcheck(url: str, *, attempts: int = 6, wait: float = 10.0) -> dict:
    """GET /healthz until it answers 200 (a new version's first requests may land on cold containers)."""
    import time
    import urllib.error
    import urllib.request

    last = "no answer"
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=15) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            last = str(error)
        if attempt < attempts - 1:
            time.sleep(wait)
    raise ReleaseError(f"{url} did not answer 200 after {attempts} attempts: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.release", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    built = commands.add_parser("build", help="build the release of the current commit into build/release/")
    built.add_argument("--sha", default=os.environ.get("GITHUB_SHA"))
    published = commands.add_parser("publish", help="upload build/release/ to the stage's artifacts bucket")
    published.add_argument("--stage", choices=["dev", "prod"], required=True)
    published.add_argument("--directory", type=Path, default=RELEASE, help="where the built release is")
    deployed = commands.add_parser("deploy", help="deploy a published release (a rollback is a deploy of an older sha)")
    deployed.add_argument("--stage", choices=["dev", "prod"], required=True)
    deployed.add_argument("--sha", required=True)
    rolled = commands.add_parser("rollback", help="move the `live` alias back to the versions before the last deploy")
    rolled.add_argument("--stage", choices=["dev", "prod"], required=True)
    invalidated = commands.add_parser("invalidate", help="drop CloudFront's cached HTML")
    invalidated.add_argument("--distribution", required=True)
    invalidated.add_argument("--reference", default=datetime.now(UTC).isoformat())
    checked = commands.add_parser("healthcheck", help="wait for GET /healthz to answer 200")
    checked.add_argument("--url", required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "build":
            sha = (
                args.sha
                or subprocess.run(
                    ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
                ).stdout.strip()
            )
            release = build(sha)
            print(json.dumps(release["functions"], indent=2))
        elif args.command == "publish":
            to = buckets(args.stage)
            release = publish(to, directory=args.directory)
            print(f"published {release['sha']} to s3://{to.artifacts}/releases/{release['sha']}/")
        elif args.command == "deploy":
            deploy(args.stage, args.sha, to=buckets(args.stage))
        elif args.command == "rollback":
            rollback(args.stage)
        elif args.command == "invalidate":
            print(f"invalidation {invalidate(args.distribution, reference=args.reference)} of {HTML_PATHS}")
        else:
            print(f"{args.url}: {healthcheck(args.url)}")
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
