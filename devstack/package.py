"""Build the Lambda zips offline: collect static files, precompile bytecode, let Zappa package, then drop what
Lambda never imports.

    python -m devstack.package dev                  # what `make package` runs: the app function of `dev`
    python -m devstack.package dev --function ws    # the WebSocket function (zappa_settings.json `dev_ws`)

Zappa stamps zip entries 1980-01-01, so `.pyc` files compiled the ordinary way look stale on Lambda and every
cold start recompiles everything. Bytecode compiled with `--invalidation-mode unchecked-hash` is trusted as it
is. Zappa also ships its own command-line dependencies and every botocore service model; PRUNE lists what is
removed from the zip, each with the reason it is safe.

Each function (`app`, `reconcile`, `ws`) is a Zappa stage of its own (`dev`, `dev_reconcile`, `dev_ws`). Every zip
is stage-neutral: what differs between dev and prod is in `aws_environment_variables`, which Lambda gets from the
function's configuration (`stage_environment` reads it for whoever runs a zip outside Lambda, such as the cold-start
benchmark), so the same zip is deployed to dev and then to prod (devstack/release.py).
"""

import argparse
import compileall
import fnmatch
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / ".venv-lambda"
BUILD = ROOT / "build"
SIZE_BUDGET = 25 * 1000 * 1000
# Lambda function (as the pipeline and Terraform name it) -> the suffix of its Zappa stage.
FUNCTIONS = {"app": "", "reconcile": "_reconcile", "ws": "_ws"}
# Deployed, Django names static files by the manifest collectstatic writes into STATIC_ROOT (build/static); the
# zip carries that one file at the same path, the files themselves go to S3.
STATIC_MANIFEST = Path("build") / "static" / "staticfiles.json"

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
# API, STS for credentials); the other ~400 are 25 MB of JSON nobody reads.
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


def _pruned(name: str) -> bool:
    for pattern, _reason in PRUNE:
        if fnmatch.fnmatch(name, pattern):
            return True
    service = re.match(r"botocore/data/([^/]+)/", name)
    if service and service.group(1) not in BOTOCORE_SERVICES:
        return True
    provider = re.match(r"allauth/socialaccount/providers/([^/]+)/", name)
    return bool(provider and provider.group(1) not in ALLAUTH_PROVIDERS)


def precompile() -> None:
    """Compile the app and its dependencies with hashes Python trusts without checking timestamps."""
    site_packages = next(LAMBDA_VENV.glob("lib/python3.*/site-packages"))
    skip = re.compile(r"/(tests|ghsim|devstack|bench|node_modules|\.venv[^/]*|\.data|build)/")
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
    skip = {".venv", ".venv-lambda", "node_modules", ".git", ".data"}
    return [cache for cache in ROOT.rglob("__pycache__") if not skip.intersection(cache.relative_to(ROOT).parts)]


def forget_precompiled() -> None:
    """Remove the project's unchecked bytecode: Python would keep running it after the source changes."""
    for cache in _project_bytecode():
        shutil.rmtree(cache, ignore_errors=True)


def zappa_stage(stage: str, function: str) -> str:
    """The Zappa stage of one function of a deployment stage: `dev` + `ws` is `dev_ws`."""
    return f"{stage}{FUNCTIONS[function]}"


def stage_environment(zappa_stage_name: str) -> dict[str, str]:
    """The stage's `aws_environment_variables` (after `extends`), as Lambda's configuration gives them."""
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    config = stages[zappa_stage_name]
    while "aws_environment_variables" not in config and "extends" in config:
        config = stages[config["extends"]]
    return dict(config.get("aws_environment_variables", {}))


def collect_static() -> Path:
    """Run collectstatic with a deployed stage's settings, so the names and the manifest are the hashed ones.

    The settings refuse to load without the secrets a deployed stage needs; collectstatic reads none of them,
    so placeholders stand in.
    """
    placeholders = {
        "DASHBOARD_STAGE": "dev",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "collectstatic.invalid",
        "GITHUB_CLIENT_ID": "unused",
        "GITHUB_CLIENT_SECRET": "unused",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nunused\n-----END PRIVATE KEY-----\n",
        "GITHUB_WEBHOOK_SECRET": "unused",
        "TOKEN_KMS_KEY_ID": "unused",
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


def prune(source: Path, target: Path, *, extra: dict[str, Path] | None = None) -> tuple[int, int]:
    """Copy the zip without the pruned entries, plus `extra` files (name in the zip -> path); return (kept, dropped)."""
    kept = dropped = 0
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if _pruned(info.filename):
                dropped += 1
                continue
            zout.writestr(info, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            kept += 1
        for name, path in (extra or {}).items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zout.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            kept += 1
    return kept, dropped


def build(
    stage: str,
    *,
    function: str = "app",
    output: Path | None = None,
    static_manifest: Path | None = None,
) -> Path:
    """Build one function's zip (the same for every stage; `stage` names the Zappa settings it is packaged from).

    `static_manifest` is a manifest an earlier collectstatic of the same release wrote; without it, this runs one.
    """
    BUILD.mkdir(exist_ok=True)
    name = zappa_stage(stage, function)
    raw = BUILD / f"zappa-{name}.zip"
    final = output or BUILD / f"lambda-{function}-{stage}.zip"
    final.parent.mkdir(parents=True, exist_ok=True)
    manifest = static_manifest or collect_static()
    precompile()
    try:
        zappa_package(name, raw)
    finally:
        forget_precompiled()
    kept, dropped = prune(raw, final, extra={str(STATIC_MANIFEST): manifest})
    raw.unlink()
    size = final.stat().st_size
    verdict = "within" if size <= SIZE_BUDGET else "OVER"
    shown = final.relative_to(ROOT) if final.is_relative_to(ROOT) else final
    print(f"{shown}: {size / 1e6:.1f} MB ({kept} files, {dropped} pruned), {verdict} the 25 MB budget")
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["dev", "prod"])
    parser.add_argument("--function", choices=sorted(FUNCTIONS), default="app")
    args = parser.parse_args(argv)
    final = build(args.stage, function=args.function)
    return 0 if final.stat().st_size <= SIZE_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
