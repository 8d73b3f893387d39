"""The documents against the code: the README's tables and settings, and the anchors comments point to.

Each check is a function that returns what is missing, so a test can also show that the check finds a gap when
one is made (a check that cannot fail proves nothing).
"""

import ast
import re
from pathlib import Path

from django.conf import settings

from dashboard.lib.dynamo import table_models

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DECISIONS = ROOT / "docs" / "decisions.md"
# The app's own packages: every setting it reads is read in one of them.
APP_PACKAGES = ("dashboard", "accounts", "runs", "webhooks", "realtime")
# Where a pointer into docs/decisions.md may be written (comments, docstrings, documents).
POINTER_PACKAGES = (*APP_PACKAGES, "ghsim", "devstack", "bench", "tests", "infra", "docs", ".github")
POINTER_SUFFIXES = {".py", ".js", ".html", ".css", ".tf", ".md", ".yml", ".yaml", ".json", ".toml"}
# Built from parts so that this file's own text is not taken for a pointer.
POINTER = re.compile(r"docs/decisions" + r"\.md#([A-Za-z0-9_-]*)")


def section(markdown: str, heading: str) -> str:
    """The text under `heading` (a whole line, e.g. "## Settings"), up to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    end = next((index for index in range(start, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[index])), len(lines))
    return "\n".join(lines[start:end])


def table_rows(text: str) -> set[str]:
    """The first cells of a Markdown table's rows that are one code span: `| `name` | ...`."""
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE))


# --- Tables ------------------------------------------------------------------------------------------------------


def model_tables() -> set[str]:
    """Every table the app's models declare, without the stage's prefix (`sessions`, `workflow-cache`, ...)."""
    prefix = settings.DYNAMODB_TABLE_PREFIX
    names = {model.Meta.table_name for model in table_models()}
    assert all(name.startswith(prefix) for name in names), "a model's table name does not carry the prefix"
    return {name.removeprefix(prefix) for name in names}


def tables_missing(readme: str) -> tuple[set[str], set[str]]:
    """Tables the README's "DynamoDB tables" table lacks, and tables it lists that no model declares."""
    documented = table_rows(section(readme, "### DynamoDB tables"))
    declared = model_tables()
    return declared - documented, documented - declared


def test_it_lists_every_dynamodb_table_in_the_readme():
    # A model whose table is not in the README's table would leave a table nobody has described: a new row is
    # needed, with its keys, indexes, TTL and what it holds. A row with no model is a table that no longer exists.
    undocumented, gone = tables_missing(README.read_text())

    assert model_tables(), "table_models() found no table: the check would pass on nothing"
    assert undocumented == set(), "tables missing from the README's DynamoDB tables section"
    assert gone == set(), "the README lists tables no model declares"


def test_the_table_check_finds_a_missing_row():
    readme = README.read_text()
    dropped = sorted(model_tables())[0]
    without = "\n".join(line for line in readme.splitlines() if not line.startswith(f"| `{dropped}` |"))

    assert tables_missing(without)[0] == {dropped}


# --- Settings ----------------------------------------------------------------------------------------------------


def readers() -> set[str]:
    """The names of the typed settings readers (`envstr`, `envint`, ...), from dashboard/lib/env.py itself."""
    tree = ast.parse((ROOT / "dashboard" / "lib" / "env.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("env")}


def settings_read(source: str, names: set[str]) -> set[str]:
    """The environment variables one module reads through the readers: each call's first argument.

    A reader called with anything but a literal name fails the check, as its variable could not be found.
    """
    read = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
            first = node.args[0] if node.args else None
            name = first.value if isinstance(first, ast.Constant) else None
            assert isinstance(name, str), f"{node.func.id}() at line {node.lineno} is not given its variable's name"
            read.add(name)
    return read


def app_settings() -> set[str]:
    """Every environment variable the app reads, in any of its packages."""
    names = readers()
    found = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= settings_read(path.read_text(), names)
    return found


def settings_missing(readme: str) -> tuple[set[str], set[str]]:
    """Variables the README's "Settings" section lacks, and variables it lists that the app does not read."""
    documented = table_rows(section(readme, "## Settings"))
    read = app_settings()
    return read - documented, documented - read


def test_it_documents_every_setting_the_app_reads_in_the_readme_settings_section():
    # A variable the app reads but the Settings section lacks is a knob no operator can learn of (and a required
    # one would stop a deployed stage with a name nobody documented): it needs a row with its default and meaning.
    undocumented, unread = settings_missing(README.read_text())

    assert {"DASHBOARD_STAGE", "DYNAMODB_TABLE_PREFIX"} <= app_settings(), "the readers are no longer found"
    assert undocumented == set(), "settings missing from the README's Settings section"
    assert unread == set(), "the README's Settings section lists variables the app no longer reads"


def test_the_settings_check_finds_a_missing_row_and_a_nested_read():
    readme = README.read_text()
    without = "\n".join(line for line in readme.splitlines() if not line.startswith("| `AWS_REGION` |"))
    # AWS_REGION is read only as another reader's default: the walk must find calls inside calls.
    nested = settings_read('R = envstr("OUTER", envstr("INNER", "x"))', readers())

    assert settings_missing(without)[0] == {"AWS_REGION"}
    assert nested == {"OUTER", "INNER"}


# --- Anchors in docs/decisions.md --------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation other than '-' and '_' dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> list[str]:
    """The anchor of every heading, in order (outside fenced code)."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6} (.+)", line)):
            found.append(slug(match.group(1)))
    return found


def pointers() -> dict[str, set[str]]:
    """Every `decisions.md#anchor` written in the repository's code and documents: anchor -> the files."""
    found: dict[str, set[str]] = {}
    paths = [README, *(path for package in POINTER_PACKAGES for path in (ROOT / package).rglob("*"))]
    for path in paths:
        if path.suffix not in POINTER_SUFFIXES or not path.is_file() or path == Path(__file__):
            continue
        for anchor in POINTER.findall(path.read_text(errors="replace")):
            found.setdefault(anchor, set()).add(str(path.relative_to(ROOT)))
    # decisions.md's own links to its sections.
    for anchor in re.findall(r"\]\(#([A-Za-z0-9_-]*)\)", DECISIONS.read_text()):
        found.setdefault(anchor, set()).add("docs/decisions.md")
    return found


def pointers_broken(pointed: dict[str, set[str]], markdown: str) -> dict[str, set[str]]:
    """The pointers whose anchor is no heading of `markdown`."""
    known = set(anchors(markdown))
    return {anchor: files for anchor, files in pointed.items() if anchor not in known}


def test_every_pointer_into_decisions_names_a_section_that_exists():
    # A comment pointing at an anchor docs/decisions.md does not have sends its reader to the top of the page
    # with nothing to find: the section was renamed or removed, or the pointer is misspelt.
    pointed = pointers()

    assert pointed, "no pointer into docs/decisions.md found: the search would pass on nothing"
    assert pointers_broken(pointed, DECISIONS.read_text()) == {}


def test_decisions_has_no_two_sections_with_one_anchor():
    # GitHub would number the second (`-1`), and every pointer would lead to the first.
    found = anchors(DECISIONS.read_text())

    assert sorted({anchor for anchor in found if found.count(anchor) > 1}) == []


def test_the_pointer_check_finds_a_section_that_is_gone():
    decisions = DECISIONS.read_text()
    without = decisions.replace("### Webhook redelivery\n", "### Redelivering webhooks\n")

    assert "webhook-redelivery" in pointers_broken(pointers(), without)
    assert slug("GitHub's REST API") == "githubs-rest-api"
    assert slug("Rate-limit errors") == "rate-limit-errors"


# A path of this repository named in its prose: `runs/cache.py`, `dashboard/lib/github/`, `infra/schedule.tf`.
NAMED_PATH = re.compile(
    r"(?<![\w/.-])((?:dashboard|accounts|runs|webhooks|realtime|ghsim|devstack|bench|tests|infra|docs)"
    r"/(?:[\w.-]+/)*[\w.-]+\.(?:py|md|tf|html|json|js|toml|css))(?![\w])"
)
PROSE = ["README.md", "docs/*.md", "infra/*.tf", "infra/README.md", "ghsim/README.md", "tests/*/README.md"]


def paths_gone(text: str) -> set[str]:
    return {path for path in NAMED_PATH.findall(text) if not (ROOT / path).exists()}


def test_every_file_the_docs_name_exists():
    # A file that moved or was renamed leaves its readers looking for it: the docs name where it is now.
    gone = {}
    for pattern in PROSE:
        for document in ROOT.glob(pattern):
            if missing := paths_gone(document.read_text()):
                gone[str(document.relative_to(ROOT))] = sorted(missing)

    assert gone == {}


def test_the_path_check_finds_a_file_that_is_gone():
    assert paths_gone("The merge rule is in `runs/cache.py`; reads in `runs/history.py`.") == {"runs/history.py"}
