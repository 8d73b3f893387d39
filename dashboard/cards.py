"""The overview's repository cards, rendered in Python rather than a template.

A card repeats for every repository (50 and more on a busy board), and Django's template engine spends most of
the overview's server time resolving the variables of these repeats; plain string building takes a fraction of
it (BENCHMARKS.md, the overview's server time). The markup is the same a template would give, escaped the same.
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dashboard.templatetags.board import category_label, duration, seconds_between, state_badge
from runs.board import BoardRepo
from runs.summaries import RunSummary


def _timing(run: RunSummary) -> str:
    if run.finished:
        return duration(seconds_between(run.run_started_at, run.updated_at))
    if run.run_started_at is None:
        return ""
    started = run.run_started_at.isoformat()
    return f'<time data-elapsed-from="{started}">{duration(seconds_between(run.run_started_at, None))}</time>'


def _row(repo: BoardRepo, run: RunSummary) -> str:
    attempt = f' <span class="muted">attempt {run.run_attempt}</span>' if run.run_attempt > 1 else ""
    event = f' <span class="muted">{escape(run.event)}</span>' if run.event and run.event != "push" else ""
    return (
        f'<tr data-workflow="{run.workflow_id}" data-run="{run.run_id}" data-category="{run.category}">'
        f'<th scope="row">{escape(run.workflow_name or "")}</th><td>{state_badge(run.category)}</td>'
        f'<td><a href="{escape(repo.url)}/runs/{run.run_id}">#{run.run_number}</a>{attempt}</td>'
        f'<td class="branch">{escape(run.head_branch or "")}{event}</td><td class="time">{_timing(run)}</td></tr>'
    )


def _mark(run: RunSummary) -> str:
    title = f"{run.workflow_name} #{run.run_number} {run.head_branch}: {category_label(run.category)}"
    return f'<li class="mark {run.category}" title="{escape(title)}"></li>'


def repo_card(repo: BoardRepo, index: int, *, kiosk: bool) -> SafeString:
    """One repository's card: its name and tags, its recent runs as marks, its workflows' latest runs."""
    link = escape(repo.url) + ("?kiosk=1" if kiosk else "")
    tags = "".join(
        [
            '<span class="tag">pinned</span>' if repo.pinned else "",
            '<span class="tag">private</span>' if repo.access.private else "",
            *(f'<a class="tag" href="?topic={escape(topic)}">{escape(topic)}</a>' for topic in repo.access.topics),
        ]
    )
    parts = [
        f'<article class="repo {repo.category}{" pinned" if repo.pinned else ""}" data-repo="{escape(repo.full_name)}"'
        f' data-category="{repo.category}" tabindex="-1" aria-labelledby="r{index}">'
        f'<header><h2 id="r{index}"><a href="{link}" class="repo-link">{escape(repo.full_name)}</a></h2>{tags}</header>'
    ]
    if repo.history:
        marks = "".join(_mark(run) for run in repo.history)
        parts.append(f'<ol class="marks" aria-label="Recent runs, newest first" data-testid="marks">{marks}</ol>')
    if repo.latest:
        parts.append(
            '<table class="runs" aria-label="The latest run of each workflow"><tbody>'
            + "".join(_row(repo, run) for run in repo.latest)
            + "</tbody></table>"
        )
    elif repo.load_error:
        parts.append(
            f'<p class="muted">Its runs could not be loaded from GitHub ({escape(repo.load_error)}); '
            "the next view tries again.</p>"
        )
    else:
        parts.append(f'<p class="muted">No runs on {escape(repo.access.default_branch)} yet.</p>')
    parts.append("</article>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)
