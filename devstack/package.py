"""Build the Lambda zips offline: collect static files, precompile bytecode, let Zappa package, then drop what
Lambda never imports.

    python -m devstack.package dev                    # what `make package` runs: the app function of `dev`
    python -m devstack.package dev --function ws      # the WebSocket function (zappa_settings.json `dev_ws`)
    python -m devstack.package dev --function stream  # the events stream's function (`dev_stream`)

Zappa stamps zip entries 1980-01-01, so `.pyc` files compiled the ordinary way look stale on Lambda and every
cold start recompiles everything. Bytecode compiled with `--invalidation-mode unchecked-hash` is trusted as it
is. Zappa also ships its own command-line dependencies and every botocore service model; PRUNE lists what is
removed from the zip, each with the reason it is safe.

Each function (`app`, `reconcile`, `ws`, `stream`) is a Zappa stage of its own (`dev`, `dev_reconcile`, `dev_ws`,
`dev_stream`). Every zip is stage-neutral: what differs between dev and prod is in `aws_environment_variables`, which
Lambda gets from the function's configuration (`stage_environment` reads it for whoever runs a zip outside Lambda,
such as the cold-start benchmark), so the same zip is deployed to dev and then to prod (devstack/release.py).
"""

import argparse
import compileall
import fnmatch
import gzip
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / ".venv-lambda"
BUILD = ROOT / "build"
# The runtime's packages, kept between builds. In a dot-folder: `zappa package` walks the project for modules that
# import zappa.websocket (its own handler does) and would name one under build/ as the WebSocket handler.
TARGET_PACKAGES = ROOT / ".lambda-packages"
SIZE_BUDGET = 25 * 1000 * 1000
# Lambda function (as the pipeline and Terraform name it) -> the suffix of its Zappa stage.
FUNCTIONS = {"app": "", "reconcile": "_reconcile", "ws": "_ws", "stream": "_stream"}
# Deployed, Django names static files by the manifest collectstatic writes into STATIC_ROOT (build/static); the
# zip carries that one file at the same path, the files themselves go to S3.
STATIC_MANIFEST = Path("build") / "static" / "staticfiles.json"

# Wheels for the Lambda runtime, not for this machine: the platforms Lambda's x86_64 runtimes load, most widely
# compatible first (pip prefers the first listed; it does not expand one tag into the older ones).
TARGET_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
# Distributions of requirements/lambda.txt that only Zappa's command line uses (their modules are DEPLOY_ONLY).
DEPLOY_ONLY_DISTRIBUTIONS = {
    "argcomplete",
    "cfn-flip",
    "click",
    "hjson",
    "placebo",
    "python-slugify",
    "PyYAML",
    "text-unidecode",
    "toml",
    "tqdm",
    "troposphere",
}

# Zappa's command-line tool needs these to deploy; the handler never imports them on Lambda.
DEPLOY_ONLY = [
    "troposphere",
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils-precedence.pth",
    "pip",
    "wheel",
    "tqdm",
    "hjson",
    "argcomplete",
    "click",
    "yaml",
    "_yaml",
    "placebo",
    "toml",
    "cfn_flip",
    "cfn_clean",
    "cfn_tools",
    "slugify",
    "text_unidecode",
]

# botocore service models the app calls (DynamoDB, KMS for tokens, SSM for secrets, the WebSocket management
# API, STS for credentials); the other ~400 are 25 MB of JSON nobody reads. Not SQS nor DynamoDB Streams: Lambda
# itself reads the events stream and parks failures, and `manage.py stream_replay` runs from a terminal.
BOTOCORE_SERVICES = {"dynamodb", "kms", "ssm", "apigatewaymanagementapi", "sts", "secretsmanager"}

# Only the GitHub provider is installed; allauth imports a provider package only when it is installed.
ALLAUTH_PROVIDERS = {"base", "oauth2", "github"}

# Django apps that are not in INSTALLED_APPS and that nothing imports.
UNUSED_DJANGO_APPS = {"admin", "admindocs", "flatpages", "gis", "humanize", "postgres", "redirects", "sitemaps"}

PRUNE: list[tuple[str, str]] = [
    *[(f"{name}", "deploy-time dependency of Zappa") for name in DEPLOY_ONLY],
    *[(f"{name}/*", "deploy-time dependency of Zappa") for name in DEPLOY_ONLY],
    *[(f"{name.replace('_', '?')}-*.dist-info/*", "deploy-time dependency of Zappa") for name in DEPLOY_ONLY],
    ("*.po", "translation sources: USE_I18N is off"),
    ("*.mo", "compiled translations: USE_I18N is off"),
    ("*/tests/*", "packages' own test suites"),
    *[(f"django/contrib/{app}/*", "Django app not installed") for app in UNUSED_DJANGO_APPS],
]


def _slimmed(name: str, data: bytes) -> bytes:
    """What is kept of a file the zip carries: botocore's data without what no call reads.

    Each Lambda start parses the endpoints of every AWS service (1.2 MB) and the whole model of each service it
    makes a client for, documentation included (DynamoDB's is four fifths prose). botocore reads documentation
    only to write docstrings, and endpoints only of services it makes clients for.
    """
    if name == "botocore/data/endpoints.json":
        endpoints = json.loads(data)
        for partition in endpoints["partitions"]:
            partition["services"] = {
                service: spec for service, spec in partition["services"].items() if service in BOTOCORE_SERVICES
            }
        return json.dumps(endpoints, separators=(",", ":")).encode()
    if re.fullmatch(r"botocore/data/[^/]+/[^/]+/service-2\.json(\.gz)?", name):
        packed = name.endswith(".gz")
        model = _undocumented(json.loads(gzip.decompress(data) if packed else data))
        text = json.dumps(model, separators=(",", ":")).encode()
        return gzip.compress(text, mtime=0) if packed else text
    return data


def _undocumented(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _undocumented(item) for key, item in value.items() if key not in ("documentation", "documentationUrl")
        }
    if isinstance(value, list):
        return [_undocumented(item) for item in value]
    return value


def _pruned(name: str) -> bool:
    for pattern, _reason in PRUNE:
        if fnmatch.fnmatch(name, pattern):
            return True
    service = re.match(r"botocore/data/([^/]+)/", name)
    if service and service.group(1) not in BOTOCORE_SERVICES:
        return True
    provider = re.match(r"allauth/socialaccount/providers/([^/]+)/", name)
    return bool(provider and provider.group(1) not in ALLAUTH_PROVIDERS)


SKIP_COMPILING = r"/(tests|ghsim|devstack|bench|node_modules|\.venv[^/]*|\.lambda-packages|\.data|build)/"


def lambda_runtime() -> str:
    """The Python runtime every function runs on (zappa_settings.json; a test keeps the stages alike)."""
    return json.loads((ROOT / "zappa_settings.json").read_text())["dev"]["runtime"]


def venv_site_packages() -> Path:
    return next(LAMBDA_VENV.glob("lib/python3.*/site-packages"))


def target_packages(runtime: str) -> Path:
    """requirements/lambda.txt installed for `runtime` on Lambda's platform, into build/ (kept between builds).

    Binary wheels only, chosen for the runtime's Python version and manylinux, never this machine's; no bytecode
    (this machine's Python cannot write the runtime's). What only Zappa's command line needs is left out.
    """
    version = runtime.removeprefix("python")
    pins = [
        line.strip()
        for line in (ROOT / "requirements" / "lambda.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#") and line.split("==")[0].strip() not in DEPLOY_ONLY_DISTRIBUTIONS
    ]
    directory = TARGET_PACKAGES / runtime
    stamp = directory / ".requirements"
    if stamp.exists() and stamp.read_text() == "\n".join(pins):
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    platforms = [argument for platform in TARGET_PLATFORMS for argument in ("--platform", platform)]
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--no-compile", "--only-binary=:all:", "--implementation", "cp"),
            *("--python-version", version, *platforms, "--target", str(directory), *pins),
        ],
        check=True,
    )
    stamp.write_text("\n".join(pins))
    return directory


def runtime_python(runtime: str) -> str | None:
    """A Python of the runtime's version on this machine (GitHub's runners have it; this one may not), or None.

    `LAMBDA_PYTHON` names one; else `python3.X` on the PATH, Debian's, or pyenv's, the first that runs (a pyenv
    shim may stand for a version that is not installed) and is that version.
    """
    version = runtime.removeprefix("python")
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    candidates = (
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which(f"python{version}"),
        f"/usr/bin/python{version}",
        *pyenv,
    )
    for candidate in candidates:
        if not candidate:
            continue
        try:
            answer = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return candidate
    return None


def precompile_for(python: str, project: Path, packages: Path) -> None:
    """Compile with another Python (the runtime's), with hashes it trusts without checking timestamps."""
    command = [python, "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash"]
    subprocess.run([*command, "-x", SKIP_COMPILING, str(project)], check=True)
    subprocess.run([*command, str(packages)], check=True)


def precompile() -> None:
    """Compile the app and its dependencies with hashes Python trusts without checking timestamps."""
    site_packages = venv_site_packages()
    skip = re.compile(SKIP_COMPILING)
    for path in (ROOT, site_packages):
        ok = compileall.compile_dir(
            str(path),
            quiet=1,
            force=True,
            rx=skip if path == ROOT else None,
            invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise SystemExit(f"compileall failed under {path}")


def _project_bytecode() -> list[Path]:
    # Never the environments' or the runtime packages' bytecode: only what precompile() left in the project.
    skip = {".venv", ".venv-lambda", ".venv-tools", ".venv-rehearsal", ".lambda-packages", "node_modules", ".git"}
    skip.add(".data")
    return [cache for cache in ROOT.rglob("__pycache__") if not skip.intersection(cache.relative_to(ROOT).parts)]


def forget_precompiled() -> None:
    """Remove the project's unchecked bytecode: Python would keep running it after the source changes."""
    for cache in _project_bytecode():
        shutil.rmtree(cache, ignore_errors=True)


def zappa_stage(stage: str, function: str) -> str:
    """The Zappa stage of one function of a deployment stage: `dev` + `ws` is `dev_ws`."""
    return f"{stage}{FUNCTIONS[function]}"


def stage_setting(zappa_stage_name: str, key: str, default=None):
    """One setting of a Zappa stage, following `extends` as Zappa does."""
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    config = stages[zappa_stage_name]
    while key not in config and "extends" in config:
        config = stages[config["extends"]]
    return config.get(key, default)


def stage_environment(zappa_stage_name: str) -> dict[str, str]:
    """The stage's `aws_environment_variables` (after `extends`), as Lambda's configuration gives them."""
    return dict(stage_setting(zappa_stage_name, "aws_environment_variables", {}))


def deployed_placeholders() -> dict[str, str]:
    """Stand-ins for the secrets a deployed stage reads from SSM (docs/OPERATIONS.md lists them), where none is used."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "GITHUB_CLIENT_ID": "unused",
        "GITHUB_CLIENT_SECRET": "unused",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunused\n-----END PRIVATE KEY-----\n",
        "GITHUB_WEBHOOK_SECRET": "unused",
        "TOKEN_KMS_KEY_ID": "unused",
    }


def collect_static() -> Path:
    """Run collectstatic with a deployed stage's settings, so the names and the manifest are the hashed ones.

    The settings refuse to load without the secrets a deployed stage needs; collectstatic reads none of them,
    so placeholders stand in.
    """
    placeholders = {
        "DASHBOARD_STAGE": "dev",
        "DJANGO_ALLOWED_HOSTS": "collectstatic.invalid",
        **deployed_placeholders(),
    }
    keep = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--clear", "--verbosity", "0"],
        cwd=ROOT,
        env={**keep, **placeholders},
        check=True,
    )
    manifest = ROOT / STATIC_MANIFEST
    if not manifest.exists():
        raise SystemExit(f"collectstatic left no manifest at {STATIC_MANIFEST}: is the hashed storage configured?")
    return manifest


def zappa_package(stage: str, output: Path) -> None:
    env = {**os.environ, "VIRTUAL_ENV": str(LAMBDA_VENV), "PATH": f"{LAMBDA_VENV / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(
        [str(LAMBDA_VENV / "bin" / "zappa"), "package", stage, "-o", str(output)], cwd=ROOT, env=env, check=True
    )


def prune(
    source: Path, target: Path, *, extra: dict[str, Path] | None = None, packages: Path | None = None
) -> tuple[int, int]:
    """Copy the zip without the pruned entries, plus `extra` files (name in the zip -> path); return (kept, dropped).

    With `packages`, the packages Zappa took from this machine's virtual environment are replaced by that
    directory's (the runtime's build of the same pins).
    """
    kept = dropped = 0
    replaced = {path.name for path in venv_site_packages().iterdir()} if packages else set()
    added = dict(extra or {})
    if packages:
        for path in sorted(packages.rglob("*")):
            name = path.relative_to(packages).as_posix()
            if path.is_file() and not name.startswith(".") and not _pruned(name):
                added[name] = path
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if _pruned(info.filename) or info.filename.split("/")[0] in replaced:
                dropped += 1
                continue
            data = _slimmed(info.filename, zin.read(info.filename))
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            kept += 1
        for name, path in added.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            zout.writestr(info, _slimmed(name, path.read_bytes()), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            kept += 1
    return kept, dropped


def build(
    stage: str,
    *,
    function: str = "app",
    output: Path | None = None,
    static_manifest: Path | None = None,
    local: bool = False,
) -> Path:
    """Build one function's zip (the same for every stage; `stage` names the Zappa settings it is packaged from).

    By default for the Lambda runtime (`lambda_runtime()`): its wheels, and its bytecode when a Python of that
    version is here (else none: the pipeline builds on a machine that has it). `local` builds for this machine's
    Python instead, with its bytecode: what the tests and the cold-start benchmark run here.
    `static_manifest` is a manifest an earlier collectstatic of the same release wrote; without it, this runs one.
    """
    BUILD.mkdir(exist_ok=True)
    name = zappa_stage(stage, function)
    raw = BUILD / f"zappa-{name}.zip"
    final = output or BUILD / f"lambda-{function}-{stage}{'-local' if local else ''}.zip"
    final.parent.mkdir(parents=True, exist_ok=True)
    manifest = static_manifest or collect_static()
    runtime = lambda_runtime()
    packages = None if local else target_packages(runtime)
    python = None if local else runtime_python(runtime)
    if local:
        precompile()
    elif python:
        precompile_for(python, ROOT, packages)
    try:
        zappa_package(name, raw)
    finally:
        forget_precompiled()
    kept, dropped = prune(raw, final, extra={str(STATIC_MANIFEST): manifest}, packages=packages)
    raw.unlink()
    size = final.stat().st_size
    verdict = "within" if size <= SIZE_BUDGET else "OVER"
    shown = final.relative_to(ROOT) if final.is_relative_to(ROOT) else final
    built_for = "this machine's Python" if local else f"{runtime}, {'with' if python else 'without'} its bytecode"
    print(f"{shown} ({built_for}): {size / 1e6:.1f} MB ({kept} files, {dropped} pruned), {verdict} the 25 MB budget")
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["dev", "prod"])
    parser.add_argument("--function", choices=sorted(FUNCTIONS), default="app")
    parser.add_argument("--local", action="store_true", help="for this machine's Python (what the benchmarks run)")
    args = parser.parse_args(argv)
    final = build(args.stage, function=args.function, local=args.local)
    return 0 if final.stat().st_size <= SIZE_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
