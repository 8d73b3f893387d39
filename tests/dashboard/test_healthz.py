import botocore.client
import botocore.session
import pytest

from dashboard.lib import dynamo
from devstack.dynamodb_local import free_port


def test_it_reports_healthy_when_dynamodb_answers(client, dynamodb):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dynamodb": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def unreachable_dynamodb(monkeypatch):
    """Point the shared client at a port nobody listens on."""
    session = botocore.session.get_session()
    session.set_credentials("local", "local")
    client = session.create_client(
        "dynamodb",
        "eu-west-2",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=botocore.client.Config(connect_timeout=0.2, read_timeout=0.2, retries={"total_max_attempts": 1}),
    )
    monkeypatch.setattr(dynamo, "_client", client)


def test_it_answers_503_with_a_reason_when_dynamodb_is_unreachable(client, unreachable_dynamodb):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["dynamodb"].startswith("DynamoDB did not answer: Could not connect")


def test_it_answers_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405
