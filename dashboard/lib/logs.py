"""Structured logs for deployed stages: one JSON object per line, which CloudWatch Logs Insights can query.

Nothing secret leaves through them: the configured secrets and anything shaped like a GitHub token, a bearer
credential, a private key or a webhook signature are masked wherever they appear, and extra fields that could
carry a request's headers, cookies or body are dropped, not printed. Metric records (dashboard/lib/metrics.py)
are printed as their embedded-metric-format document, which is what CloudWatch reads metrics from.
"""

import json
import logging
import re
import traceback
from datetime import UTC, datetime

MASK = "[redacted]"

# GitHub's token prefixes (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/),
# bearer and basic credentials, PEM blocks, HMAC signatures, and OAuth codes or tokens in query strings.
PATTERNS = [
    re.compile(r"\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{16,}"),
    re.compile(r"(?i)\b((?:bearer|token|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
    re.compile(r"\bsha(?:1|256)=[0-9a-fA-F]{40,}"),
    re.compile(r"(?i)([?&](?:code|state|access_token|refresh_token|client_secret)=)[^&\s]+"),
]

# Extra fields never printed, whatever they hold: requests, headers, cookies, bodies, payloads, credentials.
DROPPED = re.compile(r"(?i)request|header|cookie|body|payload|secret|token|password|authorization|signature|key")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName", "emf"}

_SECRET_SETTINGS = (
    "SECRET_KEY",
    "GITHUB_CLIENT_SECRET",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_WEBHOOK_SECRET_PREVIOUS",
    "GITHUB_APP_PRIVATE_KEY",
)


def _configured_secrets() -> list[str]:
    try:
        from django.conf import settings

        values = [getattr(settings, name, "") for name in _SECRET_SETTINGS]
    except Exception:  # settings not configured (yet): the patterns still apply
        return []
    return sorted((value for value in values if isinstance(value, str) and len(value) >= 8), key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every configured secret and every secret-shaped string masked."""
    for secret in _configured_secrets() if secrets is None else secrets:
        text = text.replace(secret, MASK)
    for pattern in PATTERNS:
        text = pattern.sub(_masked, text)
    return text


def _masked(match: re.Match[str]) -> str:
    """The match masked, keeping what its first group names (`Bearer `, `?code=`)."""
    return (match.group(1) if match.re.groups else "") + MASK


def _plain(value: object) -> object:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the safe extra fields, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        emf = getattr(record, "emf", None)
        if emf is not None:
            return json.dumps(emf, separators=(",", ":"), default=str)
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and not DROPPED.search(name):
                entry[name] = _plain(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = redact("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(entry, separators=(",", ":"), default=str)
