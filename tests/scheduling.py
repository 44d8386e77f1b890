"""How pytest-xdist shares the suite out: test by test, but the browser tests as one unit.

The browser tests drive one live server and one Chromium per worker (tests/browser/
conftest.py); split over two workers they would start both twice and share nothing.
xdist's own grouping (``--dist loadgroup`` with ``xdist_group`` marks) tags the node ids
in a way pytest 9.2 no longer keeps, so the group is chosen here from the path instead.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

BROWSER_TESTS = "tests/browser/"


class BrowserTogetherScheduling(LoadGroupScheduling):
    """``loadgroup`` where every test under tests/browser/ is in one group."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(BROWSER_TESTS):
            return BROWSER_TESTS
        return super()._split_scope(nodeid)
