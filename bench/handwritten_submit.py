"""The same submission as `assistant submit demo`, written by hand in plain Playwright.

The baseline for bench_submit.py: the same page actions, the same screenshots
(one after each action, the named full-page ones), no flow file, no evidence
package, no journal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from assistant.run.browser import connect, discover

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "flows" / "samples"


def main(base_url: str, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    def shot(page, full=False):
        (out / f"{next(shots):03d}.png").write_bytes(page.screenshot(full_page=full))

    with sync_playwright() as p:
        browser = connect(p, discover())
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(base_url + "/")
        shot(page)
        shot(page, True)
        page.click("#help-link")
        shot(page)
        page.wait_for_selector("#contact-support")
        shot(page, True)
        page.click("#contact-support")
        shot(page)
        page.wait_for_selector("form#support-form")
        page.select_option("#category", "payment")
        shot(page)
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
            shot(page)
        page.set_input_files("#attachments", [SAMPLES / "demo-app-error.png", SAMPLES / "demo-receipt.pdf"])
        shot(page)
        page.check("#consent")
        shot(page)
        shot(page, True)
        page.click("#submit-request")
        page.wait_for_load_state("load")
        shot(page)
        page.get_by_text("Your request has been registered").wait_for()
        number = page.inner_text("#ticket-number").strip()
        shot(page, True)
        browser.close()
    return number


if __name__ == "__main__":
    print(main(sys.argv[1], Path(sys.argv[2])))
