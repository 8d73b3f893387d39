"""The settings page and its JSON twin: validation, visibility of repositories, persistence."""

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from accounts.models import UserSettings
from tests.conftest import ROOT
from tests.plugins.github import sign_in

ALICE_REPOS = ["acme/api", "acme/payroll", "acme/storefront", "globex/data-pipeline", "globex/engine"]
DANA_REPOS = ["globex/data-pipeline", "globex/engine", "globex/skunkworks"]


def _form(**changes):
    data = {"theme": "system", "auto_refresh": "on", "selected_repos": [], "pinned_repos": []}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_it_lists_every_repository_the_user_can_access_and_no_other(alice, dana):
    alice_page, dana_page = alice.get("/settings/").content.decode(), dana.get("/settings/").content.decode()

    for repo in ALICE_REPOS:
        assert f'value="{repo}"' in alice_page
    for repo in DANA_REPOS:
        assert f'value="{repo}"' in dana_page
    assert "globex/skunkworks" not in alice_page
    assert "acme/payroll" not in dana_page
    assert "globex/legacy" not in alice_page  # alice may see it on GitHub, but the App is not installed there


def test_it_saves_settings_and_says_so(alice):
    response = alice.post(
        "/settings/", _form(theme="dark", selected_repos=["acme/api", "globex/engine"], pinned_repos=["acme/api"])
    )

    assert response.status_code == 302
    page = alice.get("/settings/").content.decode()
    assert "Your settings were saved." in page
    assert 'data-theme="dark"' in page
    stored = UserSettings.get(1001)
    assert (stored.theme, stored.selected_repos, stored.pinned_repos) == (
        "dark",
        ["acme/api", "globex/engine"],
        ["acme/api"],
    )


def test_it_requires_sign_in_as_every_page_does(client, dynamodb):
    response = client.get("/settings/")

    # The same sign-in page as the dashboard's own pages (dashboard/surfaces.py), which brings the user back.
    assert response.status_code == 200
    assert 'href="/auth/github?next=/settings/"' in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"selected_repos": ["globex/skunkworks"]}, "selected_repos", "globex/skunkworks is not a repository you can"),
        ({"selected_repos": ["nobody/nothing"]}, "selected_repos", "nobody/nothing is not a repository you can access"),
        ({"selected_repos": ["acme/api"], "pinned_repos": ["acme/payroll"]}, "pinned_repos", "must also be selected"),
        ({"theme": "sepia"}, "theme", "Select a valid choice"),
    ],
)
def test_it_rejects_invalid_settings_with_a_field_error_and_changes_nothing(alice, changes, field, message):
    alice.post("/settings/", _form(theme="dark", selected_repos=["acme/api"]))

    response = alice.post("/settings/", _form(**changes))

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert message in response.content.decode()
    stored = UserSettings.get(1001)
    assert (stored.theme, stored.selected_repos) == ("dark", ["acme/api"])


def test_it_rejects_too_many_pinned_repositories(alice, settings, monkeypatch):
    from accounts import forms

    monkeypatch.setattr(forms, "MAX_PINNED", 2)

    response = alice.post("/settings/", _form(selected_repos=ALICE_REPOS, pinned_repos=ALICE_REPOS[:3]))

    assert response.status_code == 400
    assert "Pin at most 2 repositories (3 pinned)." in response.content.decode()


def test_it_enforces_csrf_on_the_settings_form(dynamodb, github_sim):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")

    assert browser.post("/settings/", _form(theme="dark")).status_code == 403
    assert UserSettings.get(1001).theme == "system"


def test_it_keeps_the_repositories_and_saves_the_rest_when_github_is_down(alice, github_sim):
    alice.post("/settings/", _form(selected_repos=["acme/api"]))
    github_sim.stop()

    page = alice.get("/settings/")
    saved = alice.post("/settings/", {"theme": "light"})

    assert "GitHub is not answering" in page.content.decode()
    assert saved.status_code == 302
    stored = UserSettings.get(1001)
    assert (stored.theme, stored.selected_repos) == ("light", ["acme/api"])


# --- JSON -----------------------------------------------------------------------------------------------------


def _put(browser, body, **extra):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return browser.put("/api/settings", payload, content_type="application/json", **extra)


def test_it_reads_settings_as_json(alice):
    body = alice.get("/api/settings").json()

    assert body["theme"] == "system"
    assert body["selected_repos"] == []
    assert body["notifications"] == {
        "enabled": False,
        "on_failure": True,
        "on_recovery": True,
        "pinned_only": True,
        "default_branch_only": True,
    }


def test_it_changes_only_the_settings_given_as_json(alice):
    _put(alice, {"selected_repos": ["acme/api", "acme/storefront"], "pinned_repos": ["acme/api"]})

    response = _put(alice, {"theme": "dark", "notifications": {"enabled": True}})

    assert response.status_code == 200
    body = response.json()
    assert (body["theme"], body["selected_repos"], body["pinned_repos"]) == (
        "dark",
        ["acme/api", "acme/storefront"],
        ["acme/api"],
    )
    assert body["notifications"]["enabled"] is True
    assert body["notifications"]["on_failure"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "__all__"),
        ("[1, 2]", "__all__"),
        ({"theme": 3}, "theme"),
        ({"auto_refresh": "yes"}, "auto_refresh"),
        ({"selected_repos": "acme/api"}, "selected_repos"),
        ({"selected_repos": [1]}, "selected_repos"),
        ({"selected_repos": ["globex/skunkworks"]}, "selected_repos"),
        ({"pinned_repos": ["acme/api"] * 21, "selected_repos": ["acme/api"]}, "pinned_repos"),
        ({"notifications": {"loudly": True}}, "notifications.loudly"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_it_rejects_bad_json_with_field_errors_and_changes_nothing(alice, body, field):
    _put(alice, {"theme": "dark"})

    response = _put(alice, body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert alice.get("/api/settings").json()["theme"] == "dark"


def test_it_enforces_csrf_on_the_json_api(dynamodb, github_sim):
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, "alice")

    assert _put(browser, {"theme": "dark"}).status_code == 403
    browser.get("/settings/")
    token = browser.cookies["dashboard_csrftoken"].value
    assert _put(browser, {"theme": "dark"}, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_it_answers_401_json_when_signed_out(client, dynamodb):
    assert client.get("/api/settings").status_code == 401


def test_it_marks_signed_in_responses_private(alice):
    assert "no-store" in alice.get("/api/settings")["Cache-Control"]
    assert "private" in alice.get("/settings/")["Cache-Control"]


def test_it_keeps_settings_across_a_restart_of_the_app(alice, settings):
    _put(alice, {"theme": "dark", "selected_repos": ["acme/api"]})

    # A new process reads what the first one stored: nothing was kept in memory.
    probe = "from accounts.models import UserSettings; s = UserSettings.get(1001); print(s.theme, s.selected_repos)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip().splitlines()[-1] == "dark ['acme/api']"


def _browser_like(signed_in: Client) -> Client:
    """Another test client with the same session cookie: the same user in a second tab."""
    other = Client()
    other.cookies = signed_in.cookies
    return other


def test_it_keeps_every_field_of_json_updates_made_at_the_same_time(alice):
    """Three PATCHes of different settings racing: each changes its own field and none undoes another's."""
    changes = [{"theme": "dark"}, {"auto_refresh": False}, {"notifications": {"enabled": True}}]
    for trial in range(5):
        _put(alice, {"theme": "light", "auto_refresh": True, "notifications": {"enabled": False}})
        tabs = [_browser_like(alice) for _ in changes]
        start = threading.Barrier(len(changes))

        def send(tab, body, start=start):
            start.wait()
            return _put(tab, body).status_code

        with ThreadPoolExecutor(len(changes)) as pool:
            assert list(pool.map(send, tabs, changes)) == [200, 200, 200]

        body = alice.get("/api/settings").json()
        assert (body["theme"], body["auto_refresh"], body["notifications"]["enabled"]) == ("dark", False, True), trial


def test_it_refuses_a_repository_listed_twice_and_changes_nothing(alice):
    _put(alice, {"selected_repos": ["acme/api"], "pinned_repos": ["acme/api"]})

    response = _put(alice, {"selected_repos": ["acme/api", "acme/storefront", "acme/api"]})

    assert response.status_code == 400
    assert "listed more than once: acme/api" in response.json()["errors"]["selected_repos"][0]
    assert _put(alice, {"pinned_repos": ["acme/api", "acme/api"]}).status_code == 400
    assert UserSettings.get(1001).selected_repos == ["acme/api"]
    assert UserSettings.get(1001).pinned_repos == ["acme/api"]
