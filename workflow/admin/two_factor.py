"""TOTP two-factor sign-in (RFC 6238 through ``pyotp``), and its QR code drawn locally.

Required for administrators and approvers (``REQUIRED_ROLES``: they change accounts and
sign replies; 等保2.0 level 3 asks for two factors for administrators), optional for
everyone else. The QR code is an inline SVG made by ``segno`` on the server: the secret
never goes to a third-party QR service or a CDN.

A code is accepted in the current 30-second step or the one before or after (clocks of
phones drift); a code already used for this account is refused (``last_step``), so a
code seen over a shoulder cannot be replayed within its window.
"""

from __future__ import annotations

import io
from datetime import datetime

import pyotp
import segno

REQUIRED_ROLES = frozenset({"admin", "approver"})
ISSUER = "Gongkai 依申请公开"
STEP = 30
DIGITS = 6


def new_secret() -> str:
    return pyotp.random_base32()


def required_for(roles: frozenset[str]) -> bool:
    return bool(roles & REQUIRED_ROLES)


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (no external image, fits the CSP)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True)
    return out.getvalue().decode("utf-8")


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step the code belongs to (within one step of ``at``), else None."""
    code = "".join(code.split())
    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    now_step = int(at.timestamp()) // STEP
    for step in (now_step, now_step - 1, now_step + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
