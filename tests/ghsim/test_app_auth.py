"""GitHub App authentication: JWTs checked like GitHub does, and hour-long installation tokens."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.ghsim.conftest import Api


def as_app(sim, token: str) -> Api:
    client = Api(sim)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client


def test_it_accepts_a_jwt_signed_with_the_apps_key(sim):
    response = as_app(sim, sim.app_jwt()).get("/app")
    assert response.status_code == 200
    assert response.json()["id"] == sim.config.app_id
    assert response.json()["client_id"] == sim.config.client_id


def test_it_accepts_the_jwt_the_app_signs_from_the_written_key(sim, tmp_path):
    path = sim.write_private_key(tmp_path / "app.pem")
    now = int(sim.now())
    token = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(sim.config.app_id)}, path.read_bytes(), algorithm="RS256"
    )
    assert as_app(sim, token).get("/app/installations").status_code == 200
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_it_refuses_a_jwt_signed_with_another_key(sim):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(sim.now())
    token = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(sim.config.app_id)}, other, algorithm="RS256")
    response = as_app(sim, token).get("/app")
    assert response.status_code == 401
    assert response.json()["message"] == "A JSON web token could not be decoded"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"lifetime": -120}, "'Expiration time' claim ('exp') must be a numeric value"),
        ({"lifetime": 3600}, "'Expiration time' claim ('exp') is too far in the future"),
        ({"backdate": -600}, "'Issued at' claim ('iat')"),
        ({"iss": 999}, "A JSON web token could not be decoded"),
    ],
)
def test_it_refuses_a_jwt_with_bad_claims(sim, claims, message):
    response = as_app(sim, sim.app_jwt(**claims)).get("/app")
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)


def test_it_allows_githubs_sixty_seconds_of_clock_drift(sim):
    assert as_app(sim, sim.app_jwt(backdate=-59)).get("/app").status_code == 200


def test_it_expires_a_jwt_with_the_simulated_clock(sim):
    token = sim.app_jwt()
    sim.advance(540 + 61)
    assert as_app(sim, token).get("/app").status_code == 401


def test_it_refuses_a_user_token_on_app_endpoints(sim):
    assert Api(sim, sim.user_token("alice")).get("/app").status_code == 401


def test_it_issues_installation_tokens_that_expire_after_an_hour(sim):
    created = as_app(sim, sim.app_jwt()).post("/app/installations/70002/access_tokens")
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("ghs_")
    assert body["permissions"]["actions"] == "write"
    installation = Api(sim, body["token"])
    names = {repo["full_name"] for repo in installation.get("/installation/repositories").json()["repositories"]}
    assert names == {"globex/engine", "globex/data-pipeline", "globex/skunkworks"}
    sim.advance(3599)
    assert installation.get("/repos/globex/engine").status_code == 200
    sim.advance(1)
    assert installation.get("/repos/globex/engine").status_code == 401


def test_it_lists_installations_and_finds_a_repositorys_installation(sim):
    app = as_app(sim, sim.app_jwt())
    assert [inst["id"] for inst in app.get("/app/installations").json()] == [70001, 70002]
    assert app.get("/repos/globex/engine/installation").json()["id"] == 70002
    assert app.get("/app/installations/70001").json()["account"]["login"] == "acme"


def test_it_refuses_tokens_for_a_suspended_or_deleted_installation(sim):
    app = as_app(sim, sim.app_jwt())
    sim.change_installation(70002, "suspend")
    assert app.post("/app/installations/70002/access_tokens").status_code == 403
    sim.change_installation(70002, "unsuspend")
    token = sim.installation_token(70002)
    sim.change_installation(70002, "delete")
    assert app.post("/app/installations/70002/access_tokens").status_code == 404
    assert Api(sim, token).get("/installation/repositories").status_code == 401
    assert [item.action for item in sim.receiver.received] == ["suspend", "unsuspend", "deleted"]


def test_it_refuses_a_narrowed_token_for_a_repository_outside_the_installation(sim):
    response = as_app(sim, sim.app_jwt()).post(
        "/app/installations/70001/access_tokens", json={"repositories": ["engine"]}
    )
    assert response.status_code == 422
