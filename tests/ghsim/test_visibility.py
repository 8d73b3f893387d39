"""Visibility is real: a user token sees the user's access intersected with the app's installations."""

from __future__ import annotations

import pytest
import requests

from ghsim.payloads import not_found


def endpoints(repo: str, run_id: int, job_id: int, workflow_id: int) -> list[tuple[str, str]]:
    base = f"/repos/{repo}"
    run = f"{base}/actions/runs/{run_id}"
    return [
        ("GET", base),
        ("GET", f"{base}/actions/runs"),
        ("GET", f"{base}/actions/workflows"),
        ("GET", f"{base}/actions/workflows/{workflow_id}"),
        ("GET", f"{base}/actions/workflows/{workflow_id}/runs"),
        ("GET", run),
        ("GET", f"{run}/attempts/1"),
        ("GET", f"{run}/jobs"),
        ("GET", f"{run}/attempts/1/jobs"),
        ("GET", f"{base}/actions/jobs/{job_id}"),
        ("POST", f"{run}/rerun"),
        ("POST", f"{run}/rerun-failed-jobs"),
        ("POST", f"{run}/cancel"),
    ]


@pytest.mark.parametrize(
    ("login", "repo"),
    [
        ("alice", "globex/skunkworks"),  # dana's private repository
        ("dana", "acme/payroll"),  # alice's private repository
        ("bob", "acme/payroll"),
        ("charlie", "acme/api"),
        ("alice", "globex/legacy"),  # alice may write there, but the app is not installed on it
    ],
)
def test_it_answers_404_for_a_repository_the_user_cannot_see_through_the_app(sim, api_as, login, repo):
    run = sim.trigger(repo, "ci")
    sim.advance(30)
    client = api_as(login)
    for method, path in endpoints(repo, run.id, run.jobs[0].id, run.workflow_id):
        response = client.session.request(method, client.url(path), timeout=10)
        assert (method, path, response.status_code) == (method, path, 404)
        assert response.json() == not_found()


def test_it_shows_each_user_the_installations_and_repositories_they_share_with_the_app(sim, api_as):
    def repos(login: str) -> set[str]:
        client = api_as(login)
        names = set()
        for inst in client.get("/user/installations").json()["installations"]:
            listing = client.get(f"/user/installations/{inst['id']}/repositories").json()
            names |= {repo["full_name"] for repo in listing["repositories"]}
        return names

    assert repos("alice") == {"acme/storefront", "acme/api", "acme/payroll", "globex/engine", "globex/data-pipeline"}
    assert repos("bob") == {"acme/storefront", "acme/api"}
    assert repos("dana") == {"globex/engine", "globex/data-pipeline", "globex/skunkworks"}
    assert repos("charlie") == set()


def test_it_hides_an_installation_the_user_has_no_share_of(sim, api_as):
    assert api_as("bob").get("/user/installations/70002/repositories").status_code == 404


def test_it_gives_repository_permissions_as_the_user_has_them(sim, api_as):
    assert api_as("bob").get("/repos/acme/api").json()["permissions"]["push"] is False
    assert api_as("alice").get("/repos/acme/api").json()["permissions"]["admin"] is True


def test_it_shows_a_repository_once_it_is_added_to_the_installation(sim, api_as):
    alice = api_as("alice")
    assert alice.get("/repos/globex/legacy").status_code == 404
    sim.change_installation(70002, "add-repos", repos=["globex/legacy"])
    assert alice.get("/repos/globex/legacy").status_code == 200
    sim.change_installation(70002, "remove-repos", repos=["globex/legacy"])
    assert alice.get("/repos/globex/legacy").status_code == 404
    assert [item.action for item in sim.receiver.received] == ["added", "removed"]


def test_it_hides_everything_of_a_suspended_installation(sim, api_as):
    alice = api_as("alice")
    token = sim.installation_token(70001)
    sim.change_installation(70001, "suspend")
    assert alice.get("/repos/acme/api").status_code == 404
    from tests.ghsim.conftest import Api

    suspended = Api(sim, token).get("/installation/repositories")
    assert suspended.status_code == 403
    assert suspended.json()["message"] == "This installation has been suspended"
    sim.change_installation(70001, "unsuspend")
    assert alice.get("/repos/acme/api").status_code == 200


def test_it_limits_an_installation_token_to_its_installation(sim):
    from tests.ghsim.conftest import Api

    acme = Api(sim, sim.installation_token(70001))
    assert acme.get("/repos/acme/payroll").status_code == 200
    assert acme.get("/repos/globex/engine").status_code == 404
    assert acme.get("/user").status_code == 403


def test_it_lets_anonymous_callers_see_public_repositories_only(sim, api_as):
    anonymous = api_as(None)
    assert anonymous.get("/repos/acme/storefront").status_code == 200
    assert anonymous.get("/repos/acme/api").status_code == 404
    assert anonymous.get("/user").status_code == 401


def test_it_adds_repositories_a_user_then_sees():
    from ghsim.testing import running_simulator

    with running_simulator() as sim:
        added = sim.add_repositories("acme", 3, access={"bob": "read"})
        token = sim.user_token("bob")
        listed = requests.get(
            f"{sim.api_url}/user/installations/70001/repositories",
            headers={"Authorization": f"Bearer {token}"},
            params={"per_page": 100},
            timeout=5,
        ).json()

    assert set(added) <= {repo["full_name"] for repo in listed["repositories"]}
