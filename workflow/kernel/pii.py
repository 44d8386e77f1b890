"""Applicants' personal data at rest: AES-GCM encryption and a keyed hash for exact search.

Issue 18 item 9 (个人信息保护法 Art. 51(三) "采取相应的加密、去标识化等安全技术措施";
GB/T 22239-2019 level 3, 8.1.4.8 数据保密性). Where the deployment sets a key
(``GONGKAI_PII_KEY``: 32 random bytes, URL-safe base64), an ID number, phone number or
address is stored as ``pii1:<base64(nonce ‖ ciphertext ‖ tag)>`` (AES-256-GCM from the
``cryptography`` package, a fresh 96-bit nonce per value, the column's name as associated
data so a value copied into another column does not decrypt). AES-GCM is randomised, so
the same ID number gives a different text each time: the database cannot compare them.
Exact search goes through a second column holding HMAC-SHA256 of the normalised value
(a "blind index"), under a key derived separately from the same secret (HKDF-SHA256 with
distinct ``info``), so the index reveals which rows share a value and nothing else.

An empty value stays empty (it is not personal data, and "has no ID number" stays a
plain SQL test). This module is pure: ``models.pii`` applies it to the columns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "pii1:"
NONCE = 12
KEY_BYTES = 32


class PiiKeyError(RuntimeError):
    """The key is missing, malformed, or not the one the data was encrypted with."""


MISSING_KEY = (
    "数据库中的申请人个人信息（证件号码、电话、地址）已加密，但未设置环境变量 "
    "GONGKAI_PII_KEY，无法读取。请设置加密时使用的密钥后再启动"
)
WRONG_KEY = (
    "环境变量 GONGKAI_PII_KEY 与数据库中已加密的个人信息不符（密钥错误，或数据被改动），"
    "无法解密。请使用加密时的密钥"
)


def new_key() -> str:
    """A fresh key as the setting takes it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True)
class PiiKeys:
    """The two keys derived from the one secret: one encrypts, one makes the index."""

    encryption: bytes
    index: bytes
    #: Encryption keys of earlier secrets (``GONGKAI_PII_OLD_KEYS``): decrypting only.
    previous: tuple[bytes, ...] = ()

    @classmethod
    def from_setting(cls, text: str, old: tuple[str, ...] = ()) -> PiiKeys:
        """Parse ``GONGKAI_PII_KEY`` (and earlier keys); a malformed key is refused."""
        secret = _secret(text, "GONGKAI_PII_KEY")
        return cls(
            _derive(secret, b"gongkai personal data encryption v1"),
            _derive(secret, b"gongkai personal data blind index v1"),
            tuple(
                _derive(_secret(t, "GONGKAI_PII_OLD_KEYS"), b"gongkai personal data encryption v1")
                for t in old
            ),
        )

    def encrypt(self, field: str, value: str) -> str:
        """``value`` as stored in column ``field`` (empty and already-encrypted kept)."""
        if not value or is_encrypted(value):
            return value
        nonce = os.urandom(NONCE)
        sealed = AESGCM(self.encryption).encrypt(nonce, value.encode("utf-8"), field.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")

    def decrypt(self, field: str, stored: str, *, current_only: bool = False) -> str:
        """The clear value of a stored one (a clear one is returned as it is).

        Tries the current key, then the earlier ones (AES-GCM authenticates, so a wrong
        key fails rather than giving garbage)."""
        if not is_encrypted(stored):
            return stored
        body = stored[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise PiiKeyError(WRONG_KEY) from None
        candidates = (self.encryption,) if current_only else (self.encryption, *self.previous)
        for key in candidates:
            try:
                clear = AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], field.encode())
            except (InvalidTag, ValueError):
                continue
            return clear.decode("utf-8")
        raise PiiKeyError(WRONG_KEY)

    def is_current(self, field: str, stored: str) -> bool:
        """Whether ``stored`` is encrypted under the current key (not an earlier one)."""
        try:
            self.decrypt(field, stored, current_only=True)
        except PiiKeyError:
            return False
        return is_encrypted(stored)

    def blind(self, field: str, value: str) -> str | None:
        """The keyed hash the exact search compares (None for an empty value)."""
        normal = normalise(field, value)
        if not normal:
            return None
        message = f"{field}\x00{normal}".encode()
        return hmac.new(self.index, message, hashlib.sha256).hexdigest()


def _secret(text: str, name: str) -> bytes:
    try:
        secret = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise PiiKeyError(
            f"环境变量 {name} 格式不对：应为32个随机字节的URL安全Base64编码"
            "（可用 python app.py pii-new-key 生成）"
        )
    return secret


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def normalise(field: str, value: str) -> str:
    """What counts as the same value, as the clear columns compare it: trimmed, and ID
    numbers in upper case (the check character X in either case)."""
    text = (value or "").strip()
    return text.upper() if field == "id_number" else text
