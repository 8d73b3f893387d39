import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

INFRA = ROOT / "infra"
TOOLS = ROOT / ".venv-tools" / "bin"


def tool(name: str) -> Path:
    """A command of the tools environment, which `make test` installs (requirements/tools.txt)."""
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make .venv-tools/.installed` (make test does it on first use)")
    return path


def edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace `old` in a file of a copy, failing if it is not there (so a broken copy is really broken)."""
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} is not in {path.name}: the test no longer breaks anything"
    path.write_text(text.replace(old, new, count))


@pytest.fixture
def infra_copy(tmp_path) -> Path:
    """A copy of infra/ that a test may break."""
    target = tmp_path / "infra"
    shutil.copytree(INFRA, target)
    return target
