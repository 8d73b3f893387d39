"""The layers of the house (pyproject.toml's import-linter contract, README "Architecture"): held on the tree,
complete, and able to fail."""

import shutil
import subprocess
import tomllib

import pytest

from tests.conftest import ROOT

APPS = ("dashboard", "accounts", "runs", "webhooks", "realtime", "pipeline")
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    return [{module.strip() for module in layer.split(":")} for layer in contract["layers"]]


def _modules() -> set[str]:
    """Every module of the apps, shared infrastructure counted as one (`dashboard.lib`)."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[:2] == ("dashboard", "lib"):
                parts = parts[:2]
            if len(parts) > 1:  # an app's own package is not a layer's: its __init__ holds nothing
                found.add(".".join(parts[:2]))
    return found


def _lint_imports(directory) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(directory / "pyproject.toml")],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_module_of_the_apps_is_in_exactly_one_layer():
    layers = _layers()
    placed = [module for layer in layers for module in layer]

    assert sorted(set(placed)) == sorted(placed), "a module is in two layers"
    assert _modules() - set(placed) == set(), "modules in no layer (add them to pyproject.toml's contract)"
    assert set(placed) - _modules() == set(), "layers name modules that do not exist"


def test_the_tree_keeps_the_layers():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "backwards"),
    [
        ("dashboard/lib/dynamo.py", "from runs import models as _runs_models"),  # the bottom importing an app
        ("runs/cache.py", "from webhooks import models as _webhook_models"),  # runs reaching up to webhooks
        ("realtime/gateway.py", "from accounts import models as _accounts_models"),  # fan-out up to accounts
    ],
)
def test_a_planted_backwards_import_breaks_the_contract(tmp_path, module, backwards):
    for name in (*APPS, "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            skipped = shutil.ignore_patterns("__pycache__", "static", "templates")
            shutil.copytree(source, tmp_path / name, ignore=skipped)
        else:
            shutil.copy(source, tmp_path / name)
    planted = tmp_path / module
    planted.write_text(planted.read_text() + f"\n{backwards}  # planted by the test\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"- {importer} -> " in result.stdout  # the chain it names starts at the planted import
