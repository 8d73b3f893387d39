"""Releases: build once, deploy the same bytes to dev and then prod, roll back to any earlier release.

    python -m devstack.release build                      # build/release/: the zips, static.zip, manifest.json
    python -m devstack.release publish --stage dev        # upload them to the stage's artifacts bucket
    python -m devstack.release deploy --stage dev --sha S # static files, then zappa update of each function
    python -m devstack.release invalidate --distribution ID

A release is named by its commit. Its manifest lists each function's zip with its SHA-256, the static files,
and the versions of what runs on Lambda. Deploying reads the manifest back from S3 and refuses a zip whose
hash differs, so a deploy and a rollback are the same act: `deploy` of a given sha (docs/OPERATIONS.md).
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
from datetime import UTC, datetime
from pathlib import Path

from devstack import package

ROOT = package.ROOT
RELEASE = package.BUILD / "release"
REGION = "eu-west-2"
# Deployed in this order: the static files before the HTML that names them, the WebSocket function before the
# app that posts to it; the HTML caches are invalidated last.
ORDER = ("ws", "reconcile", "app")
ERROR_PAGES = ROOT / "infra" / "errors"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "max-age=0, must-revalidate"
# What CloudFront may hold of HTML (infra/cdn.tf): the error page, and `/` should a response ever be cached.
HTML_PATHS = ["/", "/errors/*"]


class ReleaseError(Exception):
    """A release is missing, incomplete or not what its manifest says."""


def artifacts_bucket(stage: str) -> str:
    return f"actions-dashboard-{stage}-lambda-artifacts"


def static_bucket(stage: str) -> str:
    return f"actions-dashboard-{stage}-static"


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
        functions[function] = {
            "zip": path.name,
            "sha256": sha256(path),
            "bytes": path.stat().st_size,
            "zappa_stage": package.zappa_stage("{stage}", function),
        }
    static = directory / "static.zip"
    return {
        "sha": sha,
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


def build(sha: str, *, directory: Path = RELEASE) -> dict:
    """Every function's stage-neutral zip, the static files, and the manifest, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    static_manifest = package.collect_static()
    static_files = _zip_static(static_manifest.parent, directory / "static.zip")
    for function in package.FUNCTIONS:
        package.build(
            "dev",
            function=function,
            output=directory / zip_name(function, sha),
            static_manifest=static_manifest,
        )
    release = manifest(sha, directory, static_files=static_files)
    (directory / "manifest.json").write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")
    return release


def _s3(client=None):
    if client is not None:
        return client
    import boto3

    return boto3.client("s3", region_name=REGION)


def publish(stage: str, *, directory: Path = RELEASE, s3=None) -> dict:
    """Upload a built release to the stage's artifacts bucket, each file with its SHA-256; the manifest last."""
    s3 = _s3(s3)
    release = json.loads((directory / "manifest.json").read_text())
    sha, bucket = release["sha"], artifacts_bucket(stage)
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


def fetch_manifest(stage: str, sha: str, *, s3=None) -> dict:
    """The published manifest of one release, checked against what is stored beside it."""
    s3 = _s3(s3)
    bucket = artifacts_bucket(stage)
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


def static_upload(stage: str, release: dict, *, s3=None) -> int:
    """Put the release's static files in the static bucket; return how many were new. Nothing is deleted."""
    s3 = _s3(s3)
    source, target = artifacts_bucket(stage), static_bucket(stage)
    body = s3.get_object(Bucket=source, Key=release_key(release["sha"], release["static"]["zip"]))["Body"].read()
    added = 0
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            hashed = name.startswith("static/")
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


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return True


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def zappa_commands(stage: str, release: dict, *, first: bool = False) -> list[list[str]]:
    """The `zappa update` (or, the first time, `zappa deploy`) of each function, in ORDER, from S3."""
    verb = "deploy" if first else "update"
    bucket = artifacts_bucket(stage)
    return [
        [verb, package.zappa_stage(stage, function), "--zip", f"s3://{bucket}/{release_key(release['sha'], entry)}"]
        for function in ORDER
        for entry in [release["functions"][function]["zip"]]
    ]


def _zappa(arguments: list[str]) -> None:
    venv = package.LAMBDA_VENV
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    subprocess.run([str(venv / "bin" / "zappa"), *arguments], cwd=ROOT, env=env, check=True)


def deploy(stage: str, sha: str, *, first: bool = False, s3=None, run=_zappa) -> dict:
    """Deploy one published release to a stage: static files first, then each function, in ORDER."""
    release = fetch_manifest(stage, sha, s3=s3)
    added = static_upload(stage, release, s3=s3)
    print(f"static files: {added} new in s3://{static_bucket(stage)}")
    for command in zappa_commands(stage, release, first=first):
        print(f"zappa {' '.join(command)}", flush=True)
        run(command)
    return release


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
    deployed = commands.add_parser("deploy", help="deploy a published release (a rollback is a deploy of an older sha)")
    deployed.add_argument("--stage", choices=["dev", "prod"], required=True)
    deployed.add_argument("--sha", required=True)
    deployed.add_argument("--first", action="store_true", help="create the functions (`zappa deploy`)")
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
            release = publish(args.stage)
            print(f"published {release['sha']} to s3://{artifacts_bucket(args.stage)}/releases/{release['sha']}/")
        elif args.command == "deploy":
            deploy(args.stage, args.sha, first=args.first)
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
