"""Signing in to the counter console in a real browser (shared by the console tests)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

DEMO_PASSWORD = "motcua-demo"


def sign_in(context_factory, base_url: str, username: str, counter: int, password: str = DEMO_PASSWORD):
    """A new page signed in as `username` through the login form, on its counter's console."""
    page = context_factory().new_page()
    page.goto(base_url + "/counter")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/counter/{counter}$"))
    # The address changes when the console's page arrives, before its scripts have run:
    # wait for the whole page (scripts included) as a member of staff would before clicking.
    page.wait_for_load_state("load")
    return page
