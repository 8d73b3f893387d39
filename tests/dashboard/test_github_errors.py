"""GitHub's error answers become the named exceptions callers handle, whatever their headers hold."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from dashboard.lib import github


def _answer(status: int, **headers) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response._content = b'{"message": "API rate limit exceeded"}'
    return response


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "²"},  # a digit to str.isdigit, not to int()
        {"retry-after": "99999999999999999999"},  # no datetime holds it
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9" * 30},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"},
    ],
)
def test_a_rate_limit_with_unusable_headers_waits_a_minute_rather_than_failing(headers):
    with pytest.raises(github.RateLimited) as limited:
        github.raise_for_status(_answer(429, **headers))

    assert abs(limited.value.retry_at - (datetime.now(UTC) + timedelta(seconds=60))) < timedelta(seconds=5)


def test_a_rate_limit_says_until_when_from_its_headers():
    reset = int((datetime.now(UTC) + timedelta(minutes=7)).timestamp())

    with pytest.raises(github.RateLimited) as waited:
        github.raise_for_status(_answer(429, **{"retry-after": "30"}))
    with pytest.raises(github.RateLimited) as reset_at:
        github.raise_for_status(_answer(403, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}))

    assert abs(waited.value.retry_at - (datetime.now(UTC) + timedelta(seconds=30))) < timedelta(seconds=5)
    assert reset_at.value.retry_at == datetime.fromtimestamp(reset, UTC)
