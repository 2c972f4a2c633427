"""Optional login: with a users file, each person sees only their own conversations."""

from __future__ import annotations

import pytest

from tests.ui.conftest import LOGIN_PASSWORDS as PASSWORDS
from tests.ui.conftest import ask, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app(app_servers):
    app_servers["login"].wait()
    return app_servers["login"]


def _login(browser, url: str, user: str, password: str):
    page = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
    page.goto(url)
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input[type=text]").first.fill(user)
    page.locator("input[type=password]").first.fill(password)
    page.keyboard.press("Enter")
    page.wait_for_selector("#galen-input textarea", timeout=60_000)
    page.wait_for_timeout(500)
    return page


def test_wrong_password_is_refused(browser, app):
    page = browser.new_context().new_page()
    page.goto(app.url)
    page.wait_for_selector("input[type=password]", timeout=60_000)
    page.locator("input[type=text]").first.fill("alice")
    page.locator("input[type=password]").first.fill("not-" + PASSWORDS["alice"])
    page.keyboard.press("Enter")
    page.wait_for_timeout(2500)
    screenshot(page, "8_login_refused")
    assert page.locator("#galen-input").count() == 0


def test_each_user_sees_only_their_threads(browser, app):
    alice = _login(browser, app.url, "alice", PASSWORDS["alice"])
    ask(alice, "What is the logP of CCCCO?")
    bob = _login(browser, app.url, "bob", PASSWORDS["bob"])
    screenshot(bob, "8_login_bob")
    assert "CCCCO" not in bob.inner_text("#galen-threads")
    assert "Signed in as" in bob.inner_text("#galen-header") and "bob" in bob.inner_text("#galen-header")
    # Alice in a second browser (another device) finds her conversation again.
    alice2 = _login(browser, app.url, "alice", PASSWORDS["alice"])
    screenshot(alice2, "8_login_alice_second_browser")
    assert "CCCCO" in alice2.inner_text("#galen-threads")
