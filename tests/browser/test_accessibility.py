"""Accessibility and layout of the main pages, measured in a real Chromium (issue 6, item 7).

On every main page: each visible form control has an accessible label; the document is
``lang="zh-CN"`` with one h1 and a skip link; Tab from the top reaches the main
navigation and a form's submit button, always on a visible element with a focus ring;
text contrast (WCAG 2 relative luminance) is at least 4.5:1. The list, detail and
register pages must not scroll sideways at 1366×768 nor on a 390×844 phone.
Each page is screenshotted into test-artifacts/screenshots/ for a human look.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page

from tests.browser.support import DESKTOP, PHONE, axe_violations, login, screenshot

pytestmark = pytest.mark.browser

MIN_CONTRAST = 4.5
MAX_TABS = 150


@dataclass(frozen=True)
class Target:
    """A page to check: who looks at it and how to reach it."""

    name: str
    user: str | None
    path: str
    #: Submit the page's main form empty first, to show its error messages.
    submit_empty: bool = False
    #: Kinds of text the contrast sample must include on this page (besides body text).
    kinds: tuple[str, ...] = ("link", "button")


#: "{request}", "{concluded}", "{case}": ids of an open and a concluded request, a case.
PAGES = (
    Target("login", None, "/login"),
    Target("login-errors", None, "/login", submit_empty=True, kinds=("button", "error", "muted")),
    Target("dashboard", "shenhe", "/dashboard"),
    Target("reminders", "shenhe", "/reminders"),
    Target("list", "shenhe", "/requests", kinds=("link", "button", "muted")),
    Target("register", "dengji", "/requests/new"),
    Target("register-errors", "dengji", "/requests/new", submit_empty=True, kinds=("error",)),
    Target("detail", "shenhe", "/requests/{request}", kinds=("link", "button", "muted")),
    Target("detail-readonly", "dengji", "/requests/{concluded}"),
    Target("action", "shenhe", "/requests/{request}/act/decide"),
    Target("publication-candidates", "chayue", "/requests/publication-candidates"),
    Target("challenges", "fazhi", "/challenges"),
    Target("challenge", "fazhi", "/challenges/{case}"),
    Target("statistics", "shenhe", "/statistics"),
    Target("reports", "shenhe", "/reports"),
    Target("admin", "admin", "/admin"),
    Target("import", "admin", "/imports/ledger"),
    Target("tokens", "admin", "/admin/tokens", kinds=("link",)),
    Target("portal-queue", "dengji", "/portal/queue", kinds=("link",)),
    Target("portal-apply", None, "/apply/nanchang-etdz"),
    Target(
        "portal-apply-errors", None, "/apply/nanchang-etdz", submit_empty=True, kinds=("error",)
    ),
    Target("portal-status", None, "/apply/status"),
)
NO_SIDEWAYS_SCROLL = ("list", "detail", "register", "reminders")


# --------------------------------------------------------------------------- in-page probes

UNLABELLED_CONTROLS = """() => {
  const skip = new Set(["hidden", "submit", "button", "reset", "image"]);
  const textOf = (node) => {
    if (!node) return "";
    const copy = node.cloneNode(true);
    copy.querySelectorAll("input, select, textarea, [aria-hidden=true]").forEach((n) => n.remove());
    return copy.textContent.replace(/\\s+/g, "");
  };
  const bad = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "text").toLowerCase();
    if (el.tagName === "INPUT" && skip.has(type)) continue;
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility === "hidden") continue;
    const byLabel = Array.from(el.labels || []).some((label) => textOf(label));
    const byAria = (el.getAttribute("aria-label") || "").trim() !== "";
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const byRef = ids.length > 0 && ids.some((id) => textOf(document.getElementById(id)));
    if (!(byLabel || byAria || byRef)) bad.push(el.outerHTML.slice(0, 160));
  }
  return bad;
}"""

STRUCTURE = """() => {
  const skip = document.querySelector("body a[href^='#']");
  const target = skip ? document.getElementById(skip.getAttribute("href").slice(1)) : null;
  return {
    lang: document.documentElement.getAttribute("lang"),
    h1: document.querySelectorAll("h1").length,
    skipText: skip ? skip.textContent.trim() : null,
    skipTarget: !!target,
    firstFocusable: document.querySelector("a[href], button, input, select, textarea") === skip,
  };
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  const shown = r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.opacity !== "0"
    && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
    || s.boxShadow !== "none";
  const type = (el.getAttribute("type") || "").toLowerCase();
  return {
    key: el.tagName + "|" + (el.getAttribute("href") || el.name || el.id || "")
      + "|" + (el.textContent || "").trim().slice(0, 30),
    nav: !!el.closest("nav[aria-label='主导航']"),
    submit: !!el.closest("main form") && (
      (el.tagName === "BUTTON" && (type === "" || type === "submit"))
      || (el.tagName === "INPUT" && type === "submit")),
    shown, ring,
    html: el.outerHTML.slice(0, 120),
  };
}"""

TAB_TARGETS = """() => ({
  nav: Array.from(document.querySelectorAll("nav[aria-label='主导航'] a")).map(
    (a) => "A|" + a.getAttribute("href") + "|" + a.textContent.trim().slice(0, 30)),
  submit: Array.from(document.querySelectorAll("main form")).some((f) => Array.from(
    f.querySelectorAll("button:not([type]), button[type=submit], input[type=submit]")
  ).some((b) => !b.disabled && b.getClientRects().length)),
})"""

# WCAG 2.x: relative luminance of sRGB colours, contrast = (L1 + 0.05) / (L2 + 0.05).
# The background is found by compositing the background colours of the element and its
# ancestors (semi-transparent layers over what is below, white at the bottom).
LOW_CONTRAST = """(minimum) => {
  const parse = (value) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(value || "");
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const channel = (v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  const luminance = (c) =>
    0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const kind = (el) => {
    const errors = ".field-error, .danger, .box-error, .flash-error, .late-note, .overdue, .fail";
    if (el.closest(errors + ", .failed")) return "error";
    if (el.closest("button, .btn, [type=submit]")) return "button";
    if (el.closest("a")) return "link";
    const muted = ".muted, .help, .note, .deadline-note, .footer, .zero, .cell-note, .reasons";
    if (el.closest(muted + ", .subhead")) return "muted";
    return "body";
  };
  const ignored = "script, style, noscript, select, option, textarea, svg, title";
  const seen = {body: 0, link: 0, button: 0, error: 0, muted: 0};
  const bad = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(ignored)) continue;
    const hasText = Array.from(el.childNodes).some(
      (n) => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!hasText) continue;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (!el.getClientRects().length || s.visibility === "hidden" || r.right <= 0 || r.bottom <= 0
        || r.width <= 1 || r.height <= 1) continue;
    const fg = parse(s.color);
    if (!fg) continue;
    const bg = backdrop(el);
    const value = ratio(over(fg, bg), bg);
    const k = kind(el);
    seen[k] += 1;
    if (value < minimum) {
      bad.push({kind: k, ratio: Math.round(value * 100) / 100, color: s.color,
                background: "rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")",
                text: el.textContent.trim().slice(0, 40),
                html: el.outerHTML.slice(0, 100)});
    }
  }
  return {seen, bad};
}"""

SCROLL_WIDTH = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  widest: Array.from(document.body.querySelectorAll("*"))
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((el) => !el.closest("[class*='wrap']") && getComputedStyle(el).position !== "absolute")
    .slice(0, 5).map((el) => el.outerHTML.slice(0, 100)),
})"""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ids(server: str, browser) -> dict[str, str]:
    """Requests (open: the approver can decide it; concluded) and a case, found via the pages."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    login(page, server, "shenhe")
    page.goto(f"{server}/requests?state=in_review")
    href = page.locator("main table tbody a[href*='/requests/']").first.get_attribute("href")
    request_id = href.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{server}/requests?state=concluded")
    href = page.locator("main table tbody a[href*='/requests/']").first.get_attribute("href")
    concluded_id = href.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{server}/challenges")
    href = page.locator("main a[href*='/challenges/']").first.get_attribute("href")
    case_id = href.rstrip("/").rsplit("/", 1)[-1]
    context.close()
    return {"request": request_id, "concluded": concluded_id, "case": case_id}


def open_target(page_as, server: str, target: Target, ids: dict[str, str], viewport=None) -> Page:
    page = page_as(target.user, viewport)
    page.goto(server + target.path.format(**ids))
    if target.submit_empty:
        page.locator("main form").last.locator("button[type=submit]").first.click()
        page.wait_for_load_state()
    return page


# --------------------------------------------------------------------------- the checks


def _keyboard_problems(page: Page) -> list[str]:
    """Tab from the top: the skip link first, then the navigation and a submit button."""
    # Start from the top of the document (the login page autofocuses its first field):
    # focusing <body> moves the sequential-navigation starting point to the top.
    page.evaluate(
        "() => { const b = document.body; b.tabIndex = -1; b.focus();"
        " b.removeAttribute('tabindex'); }"
    )
    targets = page.evaluate(TAB_TARGETS)
    wanted_nav = set(targets["nav"])
    problems: list[str] = []
    reached_nav: set[str] = set()
    reached_submit = False
    first = None
    for i in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        if first is None:
            first = focused
            if "跳到正文" not in focused["key"]:
                problems.append(f"the first Tab does not reach the skip link: {focused['html']}")
        elif focused["key"] == first["key"] and i > 1:
            break  # went round the whole page
        if not focused["shown"]:
            problems.append(f"focus on an invisible element: {focused['html']}")
        if not focused["ring"]:
            problems.append(f"no visible focus indicator: {focused['html']}")
        if focused["nav"]:
            reached_nav.add(focused["key"])
        reached_submit = reached_submit or focused["submit"]
        if reached_nav >= wanted_nav and (reached_submit or not targets["submit"]):
            break
    missing = wanted_nav - reached_nav
    if missing:
        problems.append(f"navigation links never reached with Tab: {sorted(missing)}")
    if targets["submit"] and not reached_submit:
        problems.append("no submit button of a form in <main> reached with Tab")
    return problems


def _page_problems(page: Page) -> tuple[list[str], dict[str, int]]:
    problems = [f"unlabelled control: {html}" for html in page.evaluate(UNLABELLED_CONTROLS)]
    s = page.evaluate(STRUCTURE)
    if s["lang"] != "zh-CN":
        problems.append(f'<html lang="{s["lang"]}">, expected zh-CN')
    if s["h1"] != 1:
        problems.append(f"{s['h1']} h1 elements, expected exactly one")
    if not (s["skipText"] and s["skipTarget"] and s["firstFocusable"]):
        problems.append(f"no working skip link first in the page: {s}")
    contrast = page.evaluate(LOW_CONTRAST, MIN_CONTRAST)
    problems += [
        f"contrast {b['ratio']}:1 ({b['kind']}) {b['color']} on {b['background']}: "
        f"{b['text']!r} {b['html']}"
        for b in contrast["bad"]
    ]
    problems += _keyboard_problems(page)
    return problems, contrast["seen"]


@pytest.mark.parametrize("target", PAGES, ids=[t.name for t in PAGES])
def test_page_is_accessible(server: str, page_as, ids, target: Target) -> None:
    page = open_target(page_as, server, target, ids)
    assert page.locator("h1").count() >= 1, f"{target.path} did not render: {page.url}"
    screenshot(page, f"page-{target.name}-1366")
    problems, seen = _page_problems(page)
    assert not problems, f"{target.name} ({page.url}):\n  " + "\n  ".join(problems)
    missing = [kind for kind in ("body", *target.kinds) if not seen[kind]]
    assert not missing, f"{target.name}: no {missing} text measured for contrast ({seen})"


PORTAL_PAGES = [t for t in PAGES if t.name.startswith("portal-")]


@pytest.mark.parametrize("target", PORTAL_PAGES, ids=[t.name for t in PORTAL_PAGES])
def test_portal_page_passes_axe_core(server: str, page_as, ids, target: Target) -> None:
    """The public's pages (and the clerk's queue of them) pass axe-core's WCAG 2.1 A/AA
    rules too, on a desktop and on a phone."""
    for viewport in (DESKTOP, PHONE):
        page = open_target(page_as, server, target, ids, viewport)
        problems = axe_violations(page)
        assert not problems, f"axe-core on {target.name} ({viewport}):\n  " + "\n  ".join(problems)


def test_contrast_sample_covers_every_kind_of_text() -> None:
    """Body text, links, buttons, error and muted text are each measured on some page."""
    covered = {kind for target in PAGES for kind in ("body", *target.kinds)}
    assert covered == {"body", "link", "button", "error", "muted"}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
@pytest.mark.parametrize("name", NO_SIDEWAYS_SCROLL)
def test_no_sideways_scrolling(server: str, page_as, ids, name: str, viewport) -> None:
    target = next(t for t in PAGES if t.name == name)
    page = open_target(page_as, server, target, ids, viewport)
    size = page.evaluate(SCROLL_WIDTH)
    screenshot(page, f"page-{name}-{viewport['width']}")
    assert size["scrollWidth"] <= size["innerWidth"] + 1, size
