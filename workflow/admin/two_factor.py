"""TOTP two-factor sign-in (RFC 6238 through ``pyotp``), and its QR code drawn locally.

Required for administrators and approvers (``REQUIRED_ROLES``: they change accounts and
sign replies; 等保2.0 level 3 asks for two factors for administrators), optional for
everyone else. The QR code is an inline SVG made by ``segno`` on the server: the secret
never goes to a third-party QR service or a CDN.

A code is accepted in the current 30-second step or the one before or after (clocks of
phones drift); a code already used for this account is refused (``last_step``), so a
code seen over a shoulder cannot be replayed within its window.

Recovery codes (恢复码, ASVS V2.5.6/V2.8.x: a way back that is not a help-desk call): ten
random codes of 80 bits, shown once when two-factor sign-in is switched on or the set is
renewed, stored as SHA-256 only (80 random bits need no slow hash), each good for one
sign-in instead of the TOTP code.
"""

from __future__ import annotations

import hashlib
import io
import secrets
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


#: How many recovery codes a set has, and their alphabet (no 0/o, 1/l/i to misread).
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Characters per code (16 of 31 symbols: over 79 bits), shown in groups of four.
RECOVERY_LENGTH = 16


def new_recovery_codes() -> list[str]:
    """A fresh set of codes as shown to the user (``abcd-efgh-jkmn-pqrs``)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
    return codes


def normal_recovery_code(text: str) -> str | None:
    """The code as typed, without spaces, hyphens and case; None if it cannot be one."""
    raw = "".join(ch for ch in text.lower() if ch not in " -\t")
    if len(raw) != RECOVERY_LENGTH or not all(ch in RECOVERY_ALPHABET for ch in raw):
        return None
    return raw


def recovery_hash(code: str) -> str:
    """The stored form of a code (normalised first, so "ABCD EFGH…" matches)."""
    raw = normal_recovery_code(code) or ""
    return hashlib.sha256(raw.encode("ascii")).hexdigest()
