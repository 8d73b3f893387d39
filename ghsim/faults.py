"""The fault knobs, switchable at run time through `/_sim/faults` or `Simulator.set_faults()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ghsim.clock import iso


class FaultError(ValueError):
    """A fault setting that does not exist or has the wrong type."""


@dataclass
class Faults:
    """Every knob, with GitHub's normal behaviour as the default."""

    # Webhooks
    duplicate_rate: float = 0.0  # share of deliveries GitHub sends twice (same X-GitHub-Delivery)
    reorder_window: float = 0.0  # seconds of simulated time a delivery may be held back, so later ones overtake it
    drop_rate: float = 0.0  # share of deliveries never sent, recorded as failed (redelivery heals them)
    outage_start: float | None = None  # epoch seconds: every delivery due in [start, end) fails
    outage_end: float | None = None
    # REST API
    api_error_rate: float = 0.0  # share of API requests answered with `api_error_status`
    api_error_status: int = 502
    api_timeout_rate: float = 0.0  # share of API requests that sleep `api_timeout_seconds` (real time) first
    api_timeout_seconds: float = 11.0
    secondary_rate_limit_rate: float = 0.0  # share of API requests refused with a secondary rate limit 403
    secondary_retry_after: int = 60
    rate_limit: int = 5000  # per hour, for user tokens (per user) and installation tokens (per installation)
    rate_limit_exhausted: bool = False  # every bucket reports 0 remaining until switched off
    rate_limit_status: int = 403  # GitHub answers a spent primary limit with 403 or 429
    # Tokens
    token_ttl: int = 8 * 3600  # lifetime of new user tokens (ghu_)
    installation_token_ttl: int = 3600  # lifetime of new installation tokens (ghs_)

    def update(self, changes: dict, *, now: float) -> None:
        """Apply a partial update; `webhook_outage_seconds` opens an outage from now, 0 or null closes it."""
        changes = dict(changes)
        if "webhook_outage_seconds" in changes:
            seconds = changes.pop("webhook_outage_seconds")
            self.outage_start, self.outage_end = (now, now + float(seconds)) if seconds else (None, None)
        known = {field.name: field for field in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise FaultError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, _coerce(name, known[name].type, value))

    def in_outage(self, when: float) -> bool:
        """Whether a delivery due at `when` falls in the webhook outage window."""
        return (
            self.outage_start is not None
            and self.outage_end is not None
            and self.outage_start <= when < self.outage_end
        )

    def as_dict(self) -> dict:
        """The knobs as JSON (the outage window also as ISO times)."""
        data = asdict(self)
        data["outage"] = (
            {"start": iso(self.outage_start), "end": iso(self.outage_end)}
            if self.outage_start is not None and self.outage_end is not None
            else None
        )
        return data


def _coerce(name: str, kind: str, value):
    """Check and convert a JSON value to the knob's type."""
    try:
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if value is None and "None" in kind:
            return None
        number = float(value) if "float" in kind else int(value)
    except (TypeError, ValueError) as exc:
        raise FaultError(f"{name} must be a {kind}") from exc
    if name.endswith("_rate") and not 0 <= number <= 1:
        raise FaultError(f"{name} must be between 0 and 1")
    if number < 0:
        raise FaultError(f"{name} must not be negative")
    return number
