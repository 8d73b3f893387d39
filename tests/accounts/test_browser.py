"""A person signs in through the simulator in a real Chromium, changes a setting, and signs out."""

import pytest

pytestmark = pytest.mark.browser


def test_a_person_signs_in_changes_a_setting_and_signs_out(page, github_sim, settings):
    page.goto(page.app_url + "/")
    page.get_by_role("link", name="Sign in with GitHub").first.click()
    # The simulator approves at once as its default demo user and sends the browser back.
    page.wait_for_url(page.app_url + "/")
    assert page.get_by_test_id("user-name").inner_text() == "Alice Archer"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_label("Theme").select_option("dark")
    page.get_by_label("Show acme/api").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text().strip() == "Your settings were saved."
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert page.get_by_label("Show acme/api").is_checked()

    old_cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_test_id("signed-out").is_visible()

    # The cookie from before signing out is worth nothing now.
    page.context.clear_cookies()
    page.context.add_cookies(old_cookies)
    page.goto(page.app_url + "/")
    assert page.get_by_test_id("signed-out").is_visible()
    assert page.get_by_test_id("user-name").count() == 0


def test_the_repository_search_filters_the_picker(page, github_sim):
    page.goto(page.app_url + "/auth/github?next=/settings/")
    page.wait_for_url(page.app_url + "/settings/")

    page.get_by_label("Search").fill("globex")

    visible = page.locator(".repo-picker tbody tr:visible th").all_inner_texts()
    assert visible == ["globex/data-pipeline", "globex/engine"]
