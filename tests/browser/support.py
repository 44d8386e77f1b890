"""Constants and helpers shared by the browser tests (imported by conftest and tests)."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
#: ``--lang``: the browser's own UI language, which decides how date inputs are shown
#: (年/月/日 as a Chinese clerk sees them, not mm/dd/yyyy); the context's ``locale`` only
#: sets what pages are told.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--lang=zh-CN",
]
DEMO_PASSWORD = "gongkai-demo"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: Seconds to wait for the server to answer before giving up.
STARTUP_TIMEOUT = 30


def local_today() -> date:
    """Today where the agency is: the server refuses effective dates after this day."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of the page for a human to review (never committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


#: The axe-core rules checked: WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[str]:
    """What axe-core finds wrong with the page as it is now (WCAG 2.1 A/AA), one line per
    rule with the elements concerned. axe-core comes inside the ``axe-playwright-python``
    package and is injected by the test: no page loads anything from elsewhere."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    found = Axe().run(page, options=options).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found
    ]
