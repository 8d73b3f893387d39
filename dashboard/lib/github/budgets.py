"""Rate-limit budgets, one per credential: what GitHub last said is left, and until when nothing may be sent.

Once GitHub says a credential is limited, nothing more is sent with it until the reset; other containers learn
it from DynamoDB (`budget#<identity>` in the github-state table).
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from dashboard.lib import metrics
from dashboard.lib.github.errors import RateLimited, epoch, header_number
from dashboard.lib.github.state import GitHubState

logger = logging.getLogger(__name__)


@dataclass
class Budget:
    """What GitHub last said about one credential's rate limit."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    blocked_until: datetime | None = None
    checked_shared: bool = False  # whether this container has read what other containers know

    def as_json(self) -> dict[str, int | str | None]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "remaining": self.remaining,
            "limit": self.limit,
            "reset_at": iso(self.reset_at),
            "blocked_until": iso(self.blocked_until),
        }


_budgets: dict[str, Budget] = {}
_budgets_lock = threading.Lock()


def budget(identity: str) -> Budget:
    """The rate-limit budget of one credential (`user:<id>`, `installation:<id>`, `app`), as last seen."""
    with _budgets_lock:
        return _budgets.setdefault(identity, Budget())


def _shared_block(identity: str) -> datetime | None:
    try:
        return GitHubState.get(f"budget#{identity}").blocked_until
    except GitHubState.DoesNotExist:
        return None


def check(identity: str) -> None:
    """Refuse to send while the credential is rate limited, here or (as another container found) elsewhere."""
    current = budget(identity)
    if not current.checked_shared:
        current.blocked_until = max(filter(None, [current.blocked_until, _shared_block(identity)]), default=None)
        current.checked_shared = True
    if current.blocked_until and current.blocked_until > datetime.now(UTC):
        raise RateLimited(
            f"rate limited until {current.blocked_until.isoformat()}", status=429, retry_at=current.blocked_until
        )


RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def note(identity: str, response: requests.Response) -> None:
    """Remember what an answer's rate-limit headers say; a header that is absent or not a number is ignored.

    GitHub Enterprise Server with rate limiting turned off sends none of them: then there is no limit to remember,
    so what an earlier answer said is forgotten, no metric is emitted, and nothing is ever blocked for it. (A 5xx
    may come from a proxy in front of GitHub, so only GitHub's own answers, below 500, say that.)
    https://docs.github.com/en/enterprise-server/admin/configuration/configuring-your-enterprise/configuring-rate-limits
    """
    headers = response.headers
    current = budget(identity)
    if response.status_code < 500 and not any(name in headers for name in RATE_LIMIT_HEADERS):
        current.remaining = current.limit = current.reset_at = None
        return
    remaining = header_number(headers.get("x-ratelimit-remaining"))
    if remaining is not None:
        current.remaining = remaining
        # By kind of credential (`user`, `installation`, `app`), never by id: a dimension per user would be a
        # metric per user.
        metrics.emit({"GitHubRateLimitRemaining": current.remaining}, dimensions={"Credential": identity.split(":")[0]})
    limit = header_number(headers.get("x-ratelimit-limit"))
    if limit is not None:
        current.limit = limit
    reset_at = epoch(header_number(headers.get("x-ratelimit-reset")))
    if reset_at is not None:
        current.reset_at = reset_at


def block(identity: str, until: datetime) -> None:
    """Send nothing with this credential before `until`, in this container and (through DynamoDB) the others."""
    budget(identity).blocked_until = until
    GitHubState(key=f"budget#{identity}", blocked_until=until, updated_at=datetime.now(UTC), expires_at=until).save()
    logger.warning("GitHub rate limit for %s: nothing will be sent until %s", identity, until.isoformat())


def forget() -> None:
    """Drop every budget this process remembers."""
    with _budgets_lock:
        _budgets.clear()
