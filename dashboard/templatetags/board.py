"""Template filters for showing runs: their state, durations, elapsed times, commits and links to GitHub."""

from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

from dashboard.lib.links import safe_github_url
from runs.insights import duration_text
from runs.summaries import run_category

register = template.Library()

# What each state looks like: a symbol that is not colour alone, and words for screen readers.
CATEGORY_LABELS = {
    "failure": ("✕", "Failing"),
    "running": ("●", "Running"),
    "queued": ("◌", "Queued"),
    "success": ("✓", "Passing"),
    "cancelled": ("⊘", "Cancelled"),
    "neutral": ("–", "Skipped"),
}


@register.filter
def category(run) -> str:
    """The board's state of a run (a RunSummary or a stored WorkflowRun)."""
    return getattr(run, "category", None) or run_category(run.status, run.conclusion)


@register.filter
def category_symbol(name: str) -> str:
    return CATEGORY_LABELS.get(name, CATEGORY_LABELS["neutral"])[0]


@register.filter
def category_label(name: str) -> str:
    return CATEGORY_LABELS.get(name, CATEGORY_LABELS["neutral"])[1]


@register.filter
def state_badge(name: str):
    """A state as the pages show it: a symbol for sight, a word for everyone, and the state for scripts."""
    symbol, label = CATEGORY_LABELS.get(name, CATEGORY_LABELS["neutral"])
    return format_html(
        '<span class="state {}" data-state="{}"><span aria-hidden="true">{}</span> {}</span>',
        name,
        name,
        symbol,
        label,
    )


@register.filter
def github_url(value: str | None) -> str | None:
    """A link GitHub sent (`html_url`), if a page may link to it (dashboard/lib/links.py); else None."""
    return safe_github_url(value)


@register.filter
def duration(seconds) -> str:
    return duration_text(seconds)


@register.filter
def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    return max(0.0, ((end or datetime.now(UTC)) - start).total_seconds())


@register.filter
def run_started(run) -> datetime | None:
    return getattr(run, "run_started_at", None) or getattr(run, "created_at", None) or getattr(run, "updated_at", None)


@register.filter
def short_sha(sha: str | None) -> str:
    return (sha or "")[:7]


@register.filter
def first_line(text: str | None) -> str:
    return (text or "").split("\n", 1)[0]


@register.filter
def percent(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio * 100:.0f}%"
