"""The GitHub fixtures kept in tests/fixtures/github/ are exactly those its PROVENANCE.md lists, unchanged.

Each file's row gives its source and the first 12 hex digits of its SHA-256; a file edited by hand, added without a
row or listed but gone fails here.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.fixtures import GITHUB, github_fixture

ROW = re.compile(r"^\| `(?P<path>[^`]+)` \|.*\| (?P<sha>[0-9a-f]{12}) \|$")


def _listed() -> dict[str, str]:
    text = (GITHUB / "PROVENANCE.md").read_text()
    return {match["path"]: match["sha"] for match in map(ROW.match, text.splitlines()) if match}


def test_provenance_lists_every_fixture_and_nothing_else():
    kept = {str(path.relative_to(GITHUB)) for path in GITHUB.rglob("*") if path.is_file()} - {"PROVENANCE.md"}
    assert kept == set(_listed())


@pytest.mark.parametrize(("path", "sha"), sorted(_listed().items()))
def test_each_fixture_is_the_copy_its_row_describes(path, sha):
    assert hashlib.sha256(github_fixture(path).read_bytes()).hexdigest()[:12] == sha


def test_a_missing_fixture_fails_rather_than_skips():
    with pytest.raises(FileNotFoundError, match="PROVENANCE.md"):
        github_fixture("webhooks/no-such-event.json")
