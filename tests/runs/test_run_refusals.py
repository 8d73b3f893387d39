"""The JSON API's run actions when GitHub refuses them: GitHub's own words, and the write-access hint only for a user
GitHub says cannot write."""

from tests.dashboard.simulated_github import signed_in
from tests.runs.conftest import settle

DAY = 86_400
WRITE_HINT = "need write access"


def _loaded(browser, repo: str = "acme/api") -> None:
    assert browser.get(f"/api/repos/{repo}").status_code == 200


def test_a_writer_is_shown_githubs_own_words_for_a_403_and_no_write_access_hint(alice, github_sim):
    running = github_sim.trigger("acme/api", "ci", outcome="success")
    github_sim.advance(1)
    _loaded(alice)

    for action in ("rerun", "rerun-failed-jobs"):
        response = alice.post(f"/api/repos/acme/api/runs/{running.id}/{action}")

        assert response.status_code == 403
        assert response.json() == {"error": "GitHub refused: This workflow is already running"}


def test_a_user_without_write_access_is_told_so_after_githubs_own_words(bob, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)
    _loaded(bob)

    response = bob.post(f"/api/repos/acme/api/runs/{run.id}/rerun")

    assert response.status_code == 403
    assert response.json()["error"] == (
        "GitHub refused: Must have admin rights to Repository. Re-running and cancelling need write access to acme/api."
    )


def test_cancelling_a_completed_run_shows_githubs_409_in_its_words(alice, github_sim):
    run = github_sim.trigger("acme/api", "ci", outcome="success")
    settle(github_sim)
    _loaded(alice)

    response = alice.post(f"/api/repos/acme/api/runs/{run.id}/cancel")

    assert response.status_code == 409
    assert response.json() == {"error": "GitHub refused: Cannot cancel a workflow run that is completed."}


def test_an_unknown_run_is_githubs_not_found_explained(alice, github_sim):
    response = alice.post("/api/repos/acme/api/runs/1/rerun")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error.startswith("GitHub refused: Not Found.")
    assert "does not know this run" in error
    assert WRITE_HINT not in error


def test_a_rerun_past_githubs_30_days_shows_githubs_refusal(dynamodb, github_sim):
    """The dashboard's copy may not know the run is that old (here its clock and GitHub's disagree): GitHub says."""
    run = github_sim.trigger("acme/api", "ci", outcome="failure")
    settle(github_sim)
    github_sim.advance(31 * DAY)
    alice = signed_in("alice")  # after the jump, so GitHub's tokens are fresh

    rerun = alice.post(f"/api/repos/acme/api/runs/{run.id}/rerun")
    retry = alice.post(f"/api/repos/acme/api/runs/{run.id}/rerun-failed-jobs")

    assert (rerun.status_code, retry.status_code) == (403, 403)
    assert rerun.json()["error"] == (
        "GitHub refused: Unable to re-run this workflow run because it was created over a month ago"
    )
    assert retry.json()["error"] == (
        "GitHub refused: Unable to retry this workflow run because it was created over a month ago"
    )
    assert next(item for item in github_sim.truth()["runs"] if item["id"] == run.id)["run_attempt"] == 1
