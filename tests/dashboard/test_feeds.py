"""The overview's feeds: JSON and CCTray XML, by session or by feed link, listing only what the user may see."""

import json
import re
from datetime import datetime
from urllib.parse import urlsplit
from xml.dom import minidom
from xml.etree import ElementTree

import pytest
from django.test import Client

from accounts.models import UserRecord
from tests.plugins.github import sign_in
from tests.runs.conftest import settle

# CCTray's documented structure (https://cctray.org/v1/): required attributes and their allowed values.
ACTIVITIES = {"Sleeping", "Building", "CheckingModifications"}
STATUSES = {"Pending", "Success", "Failure", "Exception", "Unknown"}
REQUIRED = {"name", "activity", "lastBuildStatus", "lastBuildLabel", "lastBuildTime", "webUrl"}
# What XML 1.0 does not allow in a document (https://www.w3.org/TR/xml/#charsets), and a name from GitHub can hold:
# C0 controls but tab, newline and carriage return, the two non-characters U+FFFE and U+FFFF, and lone surrogates.
NOT_XML = [chr(code) for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF, 0xD800, 0xDFFF)]


def cctray_projects(body: bytes) -> dict[str, dict]:
    """The projects of a CCTray document, after checking it against the format's structure."""
    root = ElementTree.fromstring(body)  # noqa: S314 (our own response, not untrusted input)
    assert root.tag == "Projects"
    assert not root.attrib
    projects = {}
    for project in root:
        assert project.tag == "Project"
        assert len(project) == 0
        assert set(project.attrib) >= REQUIRED, project.attrib
        assert project.get("activity") in ACTIVITIES
        assert project.get("lastBuildStatus") in STATUSES
        assert project.get("lastBuildLabel")
        datetime.fromisoformat(project.get("lastBuildTime"))  # an xs:dateTime with its offset
        assert urlsplit(project.get("webUrl")).scheme in ("http", "https")
        assert project.get("name") not in projects
        projects[project.get("name")] = dict(project.attrib)
    return projects


@pytest.fixture
def runs(github_sim):
    github_sim.trigger("acme/api", "ci", outcome="failure", branch="main", event="push")
    github_sim.trigger("acme/payroll", "ci", outcome="success", branch="main", event="push")
    github_sim.trigger("globex/skunkworks", "ci", outcome="success", branch="main", event="push")
    settle(github_sim)
    github_sim.trigger("acme/payroll", "ci", outcome="success", branch="main", event="push")  # left running
    github_sim.advance(30)
    return github_sim


def test_the_cctray_feed_has_the_formats_structure_and_only_the_users_repositories(alice, dana, runs):
    response = alice.get("/cctray.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    projects = cctray_projects(response.content)
    assert projects["acme/api :: CI"]["lastBuildStatus"] == "Failure"
    assert projects["acme/api :: CI"]["activity"] == "Sleeping"
    # A running build reports the last finished one's result, as build monitors expect.
    assert projects["acme/payroll :: CI"]["activity"] == "Building"
    assert projects["acme/payroll :: CI"]["lastBuildStatus"] == "Success"
    assert not any(name.startswith("globex/skunkworks") for name in projects)

    dana_projects = cctray_projects(dana.get("/cctray.xml").content)
    assert "globex/skunkworks :: CI" in dana_projects
    assert not any(name.startswith("acme/") for name in dana_projects)


def test_the_feeds_take_the_overviews_filters(alice, runs):
    assert set(cctray_projects(alice.get("/cctray.xml?status=failure").content)) == {"acme/api :: CI"}
    body = alice.get("/overview.json?org=acme").json()
    assert {repo["full_name"] for repo in body["repos"]} == {"acme/api", "acme/payroll", "acme/storefront"}
    assert body["counts"]["failure"] == 1
    assert body["repos"][0]["full_name"] == "acme/api"
    refused = alice.get("/overview.json?status=exploded")
    assert refused.status_code == 400
    assert "status" in refused.json()["errors"]


def test_feeds_need_a_session_or_a_feed_link(alice, runs):
    anonymous = Client()
    assert anonymous.get("/cctray.xml").status_code == 401
    assert anonymous.get("/overview.json").status_code == 401

    page = alice.post("/settings/feed-token")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    link = re.search(r'data-testid="feed-cctray">([^<]+)<', page.content.decode()).group(1).replace("&amp;", "&")
    token = link.split("token=")[1]
    assert "acme/api :: CI" in cctray_projects(anonymous.get(f"/cctray.xml?token={token}").content)

    for wrong in (token[:-2] + "xx", "1001.", "abc", "9999." + token.split(".")[1], "x" * 500):
        assert anonymous.get("/cctray.xml", {"token": wrong}).status_code == 401

    alice.post("/settings/feed-token")  # a new link replaces the old one
    assert anonymous.get(f"/cctray.xml?token={token}").status_code == 401


def test_turning_feed_links_off_and_losing_github_authorization_end_them(alice, runs):
    from accounts.flows import user_revoke

    link = re.search(r'data-testid="feed-json">([^<]+)<', alice.post("/settings/feed-token").content.decode())
    token = link.group(1).split("token=")[1]
    anonymous = Client()
    assert anonymous.get(f"/overview.json?token={token}").status_code == 200
    user_revoke(1001)
    assert anonymous.get(f"/overview.json?token={token}").status_code == 401


def test_feed_links_can_be_turned_off(alice, runs):
    token = re.search(r"token=([^<]+)<", alice.post("/settings/feed-token").content.decode()).group(1)
    alice.post("/settings/feed-token", {"revoke": "1"})
    assert Client().get(f"/cctray.xml?token={token}").status_code == 401


def test_a_sign_in_at_the_moment_feed_links_are_turned_off_keeps_them_off(alice, runs, monkeypatch):
    """Sign-in writes only what it owns: feed links turned off while it runs stay off."""
    from accounts import flows

    token = re.search(r"token=([^<]+)<", alice.post("/settings/feed-token").content.decode()).group(1)
    seal = flows.tokens_seal

    def turned_off_meanwhile(record, grant):
        alice.post("/settings/feed-token", {"revoke": "1"})  # another tab, between sign-in's read and write
        seal(record, grant)

    monkeypatch.setattr(flows, "tokens_seal", turned_off_meanwhile)
    sign_in(Client(), "alice")

    assert Client().get(f"/cctray.xml?token={token}").status_code == 401
    assert UserRecord.get(1001).feed_token_hash is None


def test_the_feeds_stay_well_formed_whatever_names_hold(alice, runs, store_run):
    for index, character in enumerate(NOT_XML):
        name, title = f"Deploy {index} {character}", f"Fix {character}"
        store_run("acme/api", 900 + index, workflow_id=900 + index, name=name, display_title=title)
    store_run("acme/api", 999, workflow_id=999, name="Lint", head_branch="".join(NOT_XML))
    deploys = {f"acme/api :: Deploy {index} \ufffd" for index in range(len(NOT_XML))}

    for query, shown in (("", deploys), ("?branch=*", {"acme/api :: Lint"})):
        body = alice.get(f"/cctray.xml{query}").content
        minidom.parseString(body)  # noqa: S318 (our own response, not untrusted input)
        assert {"acme/payroll :: CI"} | shown <= set(cctray_projects(body))
        repos = json.loads(alice.get(f"/overview.json{query}").content)["repos"]
        assert {"acme/api", "acme/payroll"} <= {repo["full_name"] for repo in repos}
