"""The demo submission as a person would script it by hand: the least Playwright can do.

The baseline bench_submit.py holds `assistant submit demo` to: the same browser
with the same launch arguments, the same page actions, and only the four
captures the flow declares (home, help centre, filled form, confirmation, all
full page). No screenshot per action, no page snapshots, no evidence package.
It prints the request number the moment it reads it, then takes the last
capture, as the tool does.

    python bench/minimal_submit.py BASE_URL OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from assistant.run.browser import connect, discover

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "flows" / "samples"


def main(base_url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = connect(p, discover())
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(base_url + "/")
        page.screenshot(path=out / "home.png", full_page=True)
        page.click("#help-link")
        page.wait_for_selector("#contact-support")
        page.screenshot(path=out / "help-centre.png", full_page=True)
        page.click("#contact-support")
        page.wait_for_selector("form#support-form")
        page.select_option("#category", "payment")
        for selector, value in [
            ("#subject", "Card charged but order not placed"),
            ("#description", "On 20 November 2026 at 14:35 I paid for order DM-2026-114512 by card. " * 3),
            ("#order_number", "DM-2026-114512"),
            ("#incident_date", "2026-11-20"),
            ("#incident_time", "14:35"),
            ("#full_name", "Анна Петрова"),
            ("#phone", "+7 912 345-67-89"),
            ("#email", "anna.petrova@example.com"),
        ]:
            page.fill(selector, value)
        page.set_input_files("#attachments", [SAMPLES / "demo-app-error.png", SAMPLES / "demo-receipt.pdf"])
        page.check("#consent")
        page.screenshot(path=out / "filled-form.png", full_page=True)
        page.click("#submit-request")
        page.get_by_text("Your request has been registered").wait_for()
        print(page.inner_text("#ticket-number").strip(), flush=True)
        page.screenshot(path=out / "confirmation.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
