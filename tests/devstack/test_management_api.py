"""The Management API stand-in answers botocore's own `apigatewaymanagementapi` client as AWS does."""

import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import botocore.client
import botocore.exceptions
import botocore.session
import pytest

from devstack.management_api import MESSAGE_LIMIT, ManagementApiStandIn

# API Gateway's connection ids end in `=`, which botocore percent-encodes in the path.
ALICE, BOB = "alice-1=", "bob-1="


@pytest.fixture
def standin():
    with ManagementApiStandIn() as running:
        running.connect(ALICE, source_ip="192.0.2.1", user_agent="Mozilla/5.0 (test)")
        running.connect(BOB)
        yield running


def management_client(endpoint: str):
    return botocore.session.get_session().create_client(
        "apigatewaymanagementapi",
        region_name="eu-west-2",
        endpoint_url=endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=botocore.client.Config(max_pool_connections=16),
    )


@pytest.fixture
def client(standin):
    return management_client(standin.endpoint)


def test_it_records_posts_in_order(standin, client):
    for data in (b"one", b"two", b"three"):
        client.post_to_connection(ConnectionId=ALICE, Data=data)

    assert standin.messages(ALICE) == [b"one", b"two", b"three"]
    assert standin.messages(BOB) == []
    assert standin.posts == 3
    assert standin.statuses == {200: 3}


def test_it_answers_gone_for_an_unknown_connection(standin, client):
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="nobody=", Data=b"hello")

    assert standin.statuses == {410: 1}


def test_it_refuses_posts_to_a_throttled_connection_as_api_gateway_throttles(standin, client):
    standin.throttle(ALICE)

    with pytest.raises(client.exceptions.LimitExceededException):
        client.post_to_connection(ConnectionId=ALICE, Data=b"refused")
    client.post_to_connection(ConnectionId=BOB, Data=b"fine")

    assert standin.messages(ALICE) == []
    assert standin.statuses[429] >= 1  # botocore retries a 429 before raising


def test_it_answers_gone_for_a_connection_marked_gone(standin, client):
    client.post_to_connection(ConnectionId=ALICE, Data=b"before")
    standin.gone(ALICE)

    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=ALICE, Data=b"after")
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId=ALICE)

    assert standin.messages(ALICE) == [b"before"]
    assert standin.posts == 2
    assert standin.statuses == {200: 1, 410: 1}


def test_it_refuses_a_message_over_128_kib_and_records_nothing(standin, client):
    with pytest.raises(client.exceptions.PayloadTooLargeException):
        client.post_to_connection(ConnectionId=ALICE, Data=b"x" * (128 * 1024 + 1))

    assert standin.messages(ALICE) == []
    assert standin.statuses == {413: 1}


def test_it_accepts_a_message_of_exactly_128_kib(standin, client):
    client.post_to_connection(ConnectionId=ALICE, Data=b"x" * MESSAGE_LIMIT)

    assert MESSAGE_LIMIT == 131072
    assert standin.messages(ALICE) == [b"x" * 131072]


def test_it_answers_gone_after_a_delete(standin, client):
    answer = client.delete_connection(ConnectionId=ALICE)

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=ALICE, Data=b"hello")
    with pytest.raises(client.exceptions.GoneException):
        client.delete_connection(ConnectionId=ALICE)
    client.post_to_connection(ConnectionId=BOB, Data=b"still here")
    assert standin.messages(BOB) == [b"still here"]


def test_it_describes_a_connection_as_aws_does(standin, client):
    described = client.get_connection(ConnectionId=ALICE)

    assert described["Identity"] == {"SourceIp": "192.0.2.1", "UserAgent": "Mozilla/5.0 (test)"}
    assert isinstance(described["ConnectedAt"], datetime)
    assert described["ConnectedAt"].tzinfo is not None
    assert described["LastActiveAt"] == described["ConnectedAt"]
    assert standin.posts == 0  # only posts are counted


def test_it_records_200_concurrent_posts_from_16_threads(standin, client):
    ids = [f"conn-{number}=" for number in range(8)]
    for connection_id in ids:
        standin.connect(connection_id)
    sent = [(ids[number % 8], f"message {number}".encode()) for number in range(200)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda post: client.post_to_connection(ConnectionId=post[0], Data=post[1]), sent))

    assert standin.posts == 200
    assert standin.statuses == {200: 200}
    for connection_id in ids:
        wanted = sorted(data for to, data in sent if to == connection_id)
        assert sorted(standin.messages(connection_id)) == wanted


def test_it_waits_its_delay_before_answering_a_post():
    with ManagementApiStandIn(delay_seconds=0.2) as slow:
        slow.connect(ALICE)
        slow_client = management_client(slow.endpoint)
        started = time.monotonic()
        slow_client.post_to_connection(ConnectionId=ALICE, Data=b"hello")

        assert time.monotonic() - started >= 0.2
        assert slow.messages(ALICE) == [b"hello"]


def test_it_refuses_an_unsigned_request(standin):
    request = urllib.request.Request(f"{standin.endpoint}/@connections/alice-1%3D", data=b"hello", method="POST")

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)

    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert standin.messages(ALICE) == []
    assert standin.statuses == {403: 1}


def test_it_answers_only_under_its_stage(standin):
    # Without the stage in the endpoint, as API Gateway would, no route matches.
    port = standin.endpoint.rsplit(":", 1)[1].split("/")[0]
    stageless = management_client(f"http://127.0.0.1:{port}")

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        stageless.post_to_connection(ConnectionId=ALICE, Data=b"hello")

    assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert standin.messages(ALICE) == []
