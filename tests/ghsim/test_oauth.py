"""OAuth for the GitHub App: authorize, code exchange with PKCE, expiring user tokens, refresh, revocation."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import requests

from tests.ghsim.conftest import Api

CALLBACK = "http://127.0.0.1:8000/accounts/github/login/callback/"
VERIFIER = "dBjftJeZ4CVP-mJ92ZUhiaxYbhRxeR4SfVe0pb4ZrXuV6gpgMeGBxy4f1d0u7Q6Y"


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(sim, **extra) -> dict[str, str]:
    """Follow the authorize step as a browser would; the callback's query parameters."""
    params = {
        "client_id": sim.config.client_id,
        "redirect_uri": CALLBACK,
        "state": "xyz-state",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        "scope": "",
        "response_type": "code",
        **extra,
    }
    response = requests.get(f"{sim.url}/login/oauth/authorize", params=params, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(sim, json_reply: bool = True, **fields) -> dict:
    """POST the token endpoint the way django-allauth does (form-encoded)."""
    data = {"client_id": sim.config.client_id, "client_secret": sim.config.client_secret, **fields}
    headers = {"Accept": "application/json"} if json_reply else {}
    response = requests.post(f"{sim.url}/login/oauth/access_token", data=data, headers=headers, timeout=10)
    assert response.status_code == 200
    if json_reply:
        return response.json()
    return {key: values[0] for key, values in parse_qs(response.text, keep_blank_values=True).items()}


def test_it_signs_in_the_demo_user_and_passes_state_through(sim):
    callback = authorize(sim)
    assert callback["state"] == "xyz-state"
    token = exchange(sim, code=callback["code"], redirect_uri=CALLBACK, code_verifier=VERIFIER)
    assert token["access_token"].startswith("ghu_")
    assert token["refresh_token"].startswith("ghr_")
    assert token["expires_in"] == 8 * 3600
    assert token["token_type"] == "bearer"
    assert Api(sim, token["access_token"]).get("/user").json()["login"] == "alice"


def test_it_signs_in_the_user_named_by_login(sim):
    callback = authorize(sim, login="bob")
    token = exchange(sim, code=callback["code"], code_verifier=VERIFIER)
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"  # Bearer works as well as `token`
    assert client.get(f"{sim.api_url}/user", timeout=10).json()["login"] == "bob"
    emails = client.get(f"{sim.api_url}/user/emails", timeout=10).json()
    assert emails[0] == {"email": "bob@example.com", "primary": True, "verified": True, "visibility": "public"}


def test_it_answers_urlencoded_unless_asked_for_json(sim):
    callback = authorize(sim)
    token = exchange(sim, json_reply=False, code=callback["code"], code_verifier=VERIFIER)
    assert token["access_token"].startswith("ghu_")
    assert token["scope"] == ""


def test_it_refuses_a_wrong_pkce_verifier(sim):
    callback = authorize(sim)
    reply = exchange(sim, code=callback["code"], code_verifier="not-the-verifier-" + "x" * 40)
    assert reply["error"] == "bad_verification_code"
    assert "error_description" in reply
    assert "access_token" not in reply


def test_it_refuses_a_missing_pkce_verifier(sim):
    callback = authorize(sim)
    assert exchange(sim, code=callback["code"])["error"] == "bad_verification_code"


def test_it_refuses_a_replayed_code(sim):
    callback = authorize(sim)
    assert "access_token" in exchange(sim, code=callback["code"], code_verifier=VERIFIER)
    assert exchange(sim, code=callback["code"], code_verifier=VERIFIER)["error"] == "bad_verification_code"


def test_it_refuses_a_code_after_ten_minutes(sim):
    callback = authorize(sim)
    sim.advance(601)
    assert exchange(sim, code=callback["code"], code_verifier=VERIFIER)["error"] == "bad_verification_code"


def test_it_refuses_another_redirect_uri(sim):
    callback = authorize(sim)
    reply = exchange(sim, code=callback["code"], code_verifier=VERIFIER, redirect_uri="http://evil.example/cb")
    assert reply["error"] == "redirect_uri_mismatch"


def test_it_refuses_wrong_client_credentials(sim):
    callback = authorize(sim)
    reply = exchange(sim, code=callback["code"], code_verifier=VERIFIER, client_secret="wrong")
    assert reply["error"] == "incorrect_client_credentials"


def test_it_expires_user_tokens_after_eight_hours(sim):
    callback = authorize(sim)
    token = exchange(sim, code=callback["code"], code_verifier=VERIFIER)["access_token"]
    sim.advance(8 * 3600 - 1)
    assert Api(sim, token).get("/user").status_code == 200
    sim.advance(1)
    assert Api(sim, token).get("/user").status_code == 401


def test_it_uses_a_shorter_token_lifetime_when_configured(sim):
    sim.set_faults(token_ttl=60)
    callback = authorize(sim)
    reply = exchange(sim, code=callback["code"], code_verifier=VERIFIER)
    assert reply["expires_in"] == 60
    sim.advance(60)
    assert Api(sim, reply["access_token"]).get("/user").status_code == 401


def test_it_refreshes_once_per_refresh_token(sim):
    callback = authorize(sim)
    first = exchange(sim, code=callback["code"], code_verifier=VERIFIER)
    sim.advance(9 * 3600)
    second = exchange(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second["access_token"] != first["access_token"]
    assert Api(sim, second["access_token"]).get("/user").status_code == 200
    replay = exchange(sim, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay["error"] == "bad_refresh_token"


def test_it_shows_a_picker_when_asked_to_select_an_account(sim):
    params = {"client_id": sim.config.client_id, "redirect_uri": CALLBACK, "prompt": "select_account"}
    page = requests.get(f"{sim.url}/login/oauth/authorize", params=params, timeout=10)
    assert "Sign in as dana" in page.text
    form = {"client_id": sim.config.client_id, "redirect_uri": CALLBACK, "state": "s", "login": "dana"}
    chosen = requests.post(f"{sim.url}/login/oauth/authorize", data=form, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(chosen.headers["Location"]).query)["code"][0]
    token = exchange(sim, code=code)["access_token"]
    assert Api(sim, token).get("/user").json()["login"] == "dana"


def test_it_rejects_an_unknown_client_on_authorize(sim):
    page = requests.get(f"{sim.url}/login/oauth/authorize", params={"client_id": "Iv1.other"}, timeout=10)
    assert page.status_code == 404


def basic(sim) -> tuple[str, str]:
    return sim.config.client_id, sim.config.client_secret


def test_it_revokes_one_token_through_the_applications_api(sim):
    keep, drop = sim.user_token("alice"), sim.user_token("alice")
    response = requests.delete(
        f"{sim.api_url}/applications/{sim.config.client_id}/token",
        json={"access_token": drop},
        auth=basic(sim),
        timeout=10,
    )
    assert response.status_code == 204
    assert Api(sim, drop).get("/user").status_code == 401
    assert Api(sim, keep).get("/user").status_code == 200


def test_it_revokes_the_whole_grant_through_the_applications_api(sim):
    one, two = sim.user_token("alice"), sim.user_token("alice")
    response = requests.delete(
        f"{sim.api_url}/applications/{sim.config.client_id}/grant",
        json={"access_token": one},
        auth=basic(sim),
        timeout=10,
    )
    assert response.status_code == 204
    assert Api(sim, two).get("/user").status_code == 401


def test_it_refuses_revocation_without_the_client_secret(sim):
    token = sim.user_token("alice")
    response = requests.delete(
        f"{sim.api_url}/applications/{sim.config.client_id}/token",
        json={"access_token": token},
        auth=(sim.config.client_id, "wrong"),
        timeout=10,
    )
    assert response.status_code == 401
    assert Api(sim, token).get("/user").status_code == 200


def test_it_sends_github_app_authorization_revoked_when_a_user_revokes(sim):
    token = sim.user_token("bob")
    sim.revoke("bob")
    assert Api(sim, token).get("/user").status_code == 401
    revoked = sim.receiver.received[-1]
    assert (revoked.event, revoked.action) == ("github_app_authorization", "revoked")
    assert revoked.payload["sender"]["login"] == "bob"


def test_it_expires_tokens_on_demand(sim):
    token = sim.user_token("alice")
    assert sim.expire_tokens(login="alice") == 1
    assert Api(sim, token).get("/user").status_code == 401
