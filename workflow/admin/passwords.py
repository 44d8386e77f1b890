"""Password rules (ASVS 4.0.3 V2.1.1, V2.1.7; 等保2.0 8.1.4.1 身份鉴别 "口令复杂度").

* at least ``MIN_PASSWORD`` (12) characters and at most ``MAX_PASSWORD`` (what the login
  form accepts);
* not one of the common passwords shipped in ``common-passwords.txt`` (compared in lower
  case, so "Password1234" is as common as "password1234");
* not the username, nor containing it, nor made of fewer than ``MIN_DISTINCT`` different
  characters ("aaaaaaaaaaaa", "abababababab");
* never the demo password (it is published in the README).

No rule about character classes: length and a blocklist are what NIST SP 800-63B and
ASVS ask for, and composition rules only breed "Password1!".
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_PASSWORD = 12
#: The login form accepts at most this many characters, so a longer password could never
#: be typed in again.
MAX_PASSWORD = 256
MIN_DISTINCT = 5
#: Usernames shorter than this are not looked for inside the password ("li" is in many).
MIN_USERNAME_INSIDE = 4
COMMON_FILE = Path(__file__).with_name("common-passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def password_problem(password: str, username: str = "", *, forbidden: str = "") -> str | None:
    """Why ``password`` is refused, in words a clerk understands; None when it is fine.

    ``forbidden`` is one more password never accepted (the demo password).
    """
    if len(password) < MIN_PASSWORD:
        return f"密码至少{MIN_PASSWORD}位"
    if len(password) > MAX_PASSWORD:
        return f"密码不能超过{MAX_PASSWORD}位"
    lowered = password.lower()
    name = username.strip().lower()
    if name and (lowered == name or (len(name) >= MIN_USERNAME_INSIDE and name in lowered)):
        return "密码不能是用户名，也不能包含用户名"
    if forbidden and password == forbidden:
        return "不能使用公开的演示密码"
    if len(set(password)) < MIN_DISTINCT:
        return f"密码过于简单：至少要有{MIN_DISTINCT}个不同的字符"
    if lowered in common_passwords():
        return "这是常见密码，很容易被猜中，请换一个"
    return None
