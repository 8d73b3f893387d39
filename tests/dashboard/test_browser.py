"""The pages in a real Chromium against the simulator: the overview, filters that survive a reload, the failing
step, re-run for writers only, kiosk mode, both themes, keyboard shortcuts, an accessibility audit, and nothing
the Content-Security-Policy refuses."""

from pathlib import Path

import pytest

from tests.runs.conftest import settle

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
DEMO_REPOS = ["acme/api", "acme/payroll", "acme/storefront", "globex/data-pipeline", "globex/engine"]


@pytest.fixture
def demo(github_sim, live_app, settings):
    """The simulator's webhooks go to the live app; each demo repository has finished runs, acme/api a failure."""
    github_sim.set_hook(url=f"{live_app}/webhooks/github", secret=settings.GITHUB_WEBHOOK_SECRET)
    for repo in DEMO_REPOS:
        github_sim.trigger(repo, "ci", outcome="failure" if repo == "acme/api" else "success", branch="main",
                           event="push")  # fmt: skip
    settle(github_sim)
    return github_sim


def shown(page) -> list[str]:
    return page.eval_on_selector_all("#board > article", "cards => cards.map(card => card.dataset.repo)")


def test_the_overview_shows_every_demo_repository_and_a_filter_survives_reload(signed_in_page, demo):
    page = signed_in_page("alice")
    assert sorted(shown(page)) == DEMO_REPOS
    assert shown(page)[0] == "acme/api"  # failures first

    page.get_by_label("Organisation").fill("globex")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/?*org=globex*")
    assert sorted(shown(page)) == ["globex/data-pipeline", "globex/engine"]
    page.reload()
    assert sorted(shown(page)) == ["globex/data-pipeline", "globex/engine"]
    assert page.get_by_label("Organisation").input_value() == "globex"


def test_a_failing_run_shows_its_failing_step_and_a_writer_can_re_run_it(signed_in_page, demo):
    page = signed_in_page("alice")
    page.locator('article[data-repo="acme/api"] tr[data-category="failure"] a').first.click()
    failing = page.get_by_test_id("failing-step")
    assert failing.count() >= 1
    assert "failure" in failing.first.locator("xpath=ancestor::li[1]").get_attribute("class")

    page.get_by_test_id("rerun-failed").click()
    assert page.get_by_test_id("message").inner_text() == "Re-run of the failed jobs requested."
    # The run going again reaches the page live, through the simulator's webhooks as its clock moves.
    demo.advance(60)
    page.wait_for_function("() => document.querySelector('.facts').dataset.category !== 'failure'")


def test_a_reader_sees_no_re_run_or_cancel_buttons(signed_in_page, demo):
    run = next(run for run in demo.truth()["runs"] if run["repository"] == "acme/api")
    page = signed_in_page("bob", f"/repos/acme/api/runs/{run['id']}")
    assert page.get_by_test_id("failing-step").count() >= 1
    assert page.get_by_test_id("actions").count() == 0
    assert page.get_by_role("button", name="Re-run").count() == 0


def test_kiosk_mode_has_no_chrome_and_large_type(signed_in_page, demo):
    page = signed_in_page("alice", "/?kiosk=1")
    assert page.locator(".topbar").count() == 0
    assert page.locator("form.filters").count() == 0
    assert sorted(shown(page)) == DEMO_REPOS
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 16
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") > size


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_themes_render_and_pass_an_accessibility_audit(signed_in_page, demo, scheme):
    # axe goes in as an inline script, which the pages' Content-Security-Policy rightly refuses.
    page = signed_in_page("alice", color_scheme=scheme, bypass_csp=True)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(13, 17, 23)")
    for path in ("/", "/repos/acme/api", "/repos/acme/api/insights"):
        page.goto(page.app_url + path)
        page.add_script_tag(path=str(AXE))
        audit = "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})"
        violations = page.evaluate(audit + ".then(r => r.violations.map(v => [v.id, v.nodes.length]))")
        assert violations == [], f"{path} ({scheme}): {violations}"


def test_the_theme_switch_and_keyboard_shortcuts(signed_in_page, demo):
    page = signed_in_page("alice")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()

    page.keyboard.press("t")  # system -> light, saved in the user's settings
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.wait_for_function("() => fetch('/api/settings').then(r => r.json()).then(s => s.theme === 'light')")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    first = shown(page)[0]
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.repo") == first
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/repos/{first}")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"


def test_the_item_chosen_with_the_keyboard_stays_chosen_through_a_live_change(signed_in_page, demo):
    page = signed_in_page("alice")
    page.locator('#live-status[data-state="live"]').wait_for()
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = page.evaluate("document.activeElement.dataset.repo")
    assert chosen == shown(page)[1]

    demo.trigger(chosen, "ci", outcome="failure", branch="main", event="push")
    settle(demo)
    # The board region is replaced by the change (the card is a new element, highlighted as changed)...
    page.locator(f'article[data-repo="{chosen}"] tr.changed, article.changed[data-repo="{chosen}"]').first.wait_for()

    # ...and the keyboard is still where the user left it.
    assert page.evaluate("document.activeElement.dataset.repo") == chosen
    assert page.locator(f'article.selected[data-repo="{chosen}"]').count() == 1


def test_the_pages_work_without_javascript(chromium, live_app, demo):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_app}/auth/github?next=/%3Fstatus%3Dfailure")
    assert shown(page) == ["acme/api"]
    page.locator("#board a.repo-link").first.click()
    assert page.locator("#history tr[data-run]").count() >= 1
    context.close()


# Records the notifications the page raises, as the browser's own Notification would show them.
RECORD_NOTIFICATIONS = """
window.shown = [];
window.Notification = function (title, options) { window.shown.push([title, options.body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = () => Promise.resolve("granted");
"""


def test_notifications_follow_the_users_rules_and_auto_refresh_off_waits(signed_in_page, demo):
    page = signed_in_page("alice")
    page.context.add_init_script(RECORD_NOTIFICATIONS)
    rules = {"enabled": True, "on_failure": True, "pinned_only": True, "default_branch_only": True}
    saved = page.evaluate(
        """rules => fetch('/api/settings', {method: 'PATCH', headers: {'Content-Type': 'application/json',
             'X-CSRFToken': document.querySelector('input[name=csrfmiddlewaretoken]').value},
             body: JSON.stringify({notifications: rules, pinned_repos: ['acme/api'], auto_refresh: false})})
           .then(r => r.status)""",
        rules,
    )
    assert saved == 200
    page.reload()
    page.locator('#live-status[data-state="live"]').wait_for()

    demo.trigger("acme/storefront", "ci", outcome="failure", branch="main", event="push")  # not pinned
    demo.trigger("acme/api", "ci", outcome="failure", branch="feature/checkout", event="push")  # not the default
    demo.trigger("acme/api", "ci", outcome="failure", branch="main", event="push")
    settle(demo)

    page.wait_for_function("() => window.shown.length > 0")
    page.wait_for_function("() => document.getElementById('updates').hidden === false")
    assert [title for title, _ in page.evaluate("window.shown")] == ["Failed: acme/api · CI"]
    # Auto-refresh is off: the board is as it was until the user asks for the changes.
    assert page.locator('article[data-repo="acme/storefront"] tr[data-category="failure"]').count() == 0
    page.locator("#updates a").click()
    page.locator('article[data-repo="acme/storefront"] tr[data-category="failure"]').wait_for()


# Records every Content-Security-Policy violation of the page, from before its first script runs.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", event => {
  window.violations.push(event.effectiveDirective + " refused " + (event.blockedURI || "inline"));
});
"""


def test_the_pages_break_no_rule_of_their_content_security_policy(signed_in_page, demo):
    page = signed_in_page("alice")
    page.context.add_init_script(RECORD_VIOLATIONS)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else 0)
    run = next(run for run in demo.truth()["runs"] if run["repository"] == "acme/api")
    live = ["/", "/repos/acme/api", f"/repos/acme/api/runs/{run['id']}"]

    for path in [*live, "/repos/acme/api/insights", "/settings/"]:
        page.goto(page.app_url + path)
        if path in live:  # its script ran, and its WebSocket is open
            page.locator('#live-status[data-state="live"]').wait_for()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.violations") == [], path
    assert page.locator(".who img").evaluate("image => image.naturalWidth") > 0  # the avatar, from GitHub
    assert refused == []
