"""Build the Lambda zip offline: precompile bytecode, let Zappa package, then drop what Lambda never imports.

    python -m devstack.package dev        # what `make package` runs

Zappa stamps zip entries 1980-01-01, so `.pyc` files compiled the ordinary way look stale on Lambda and every
cold start recompiles everything. Bytecode compiled with `--invalidation-mode unchecked-hash` is trusted as it
is. Zappa also ships its own command-line dependencies and every botocore service model; PRUNE lists what is
removed from the zip, each with the reason it is safe.
"""

import argparse
import compileall
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / ".venv-lambda"
BUILD = ROOT / "build"
SIZE_BUDGET = 25 * 1000 * 1000

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


def zappa_package(stage: str, output: Path) -> None:
    env = {**os.environ, "VIRTUAL_ENV": str(LAMBDA_VENV), "PATH": f"{LAMBDA_VENV / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(
        [str(LAMBDA_VENV / "bin" / "zappa"), "package", stage, "-o", str(output)], cwd=ROOT, env=env, check=True
    )


def prune(source: Path, target: Path) -> tuple[int, int]:
    """Copy the zip without the pruned entries; return (kept, dropped) counts."""
    kept = dropped = 0
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if _pruned(info.filename):
                dropped += 1
                continue
            zout.writestr(info, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            kept += 1
    return kept, dropped


def build(stage: str) -> Path:
    BUILD.mkdir(exist_ok=True)
    raw = BUILD / f"zappa-{stage}.zip"
    final = BUILD / f"lambda-app-{stage}.zip"
    precompile()
    try:
        zappa_package(stage, raw)
    finally:
        forget_precompiled()
    kept, dropped = prune(raw, final)
    raw.unlink()
    size = final.stat().st_size
    verdict = "within" if size <= SIZE_BUDGET else "OVER"
    print(
        f"{final.relative_to(ROOT)}: {size / 1e6:.1f} MB ({kept} files, {dropped} pruned), {verdict} the 25 MB budget"
    )
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["dev", "prod"])
    args = parser.parse_args(argv)
    final = build(args.stage)
    return 0 if final.stat().st_size <= SIZE_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
