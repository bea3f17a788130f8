"""Personal information (PIPL): encryption, keyed lookup hash, masking.

- Encryption: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).  The key comes from the
  environment variable ``PII_ENCRYPTION_KEY`` (one Fernet key, or several separated by commas:
  the first encrypts, all decrypt — key rotation).  Without it, a key file
  ``<PII_KEY_DIR>/pii_encryption.key`` (default ``var/keys/``, mode 0600) is generated on first
  use: convenient for the embedded default, but it must then be backed up with the database.
- Lookup: HMAC-SHA256 of the normalised ID number keyed with ``PII_HASH_KEY`` (a different
  key; file ``pii_hash.key`` likewise), so an exact ID number can be found without decrypting.
- Masking: ``mask_id('11010519491231002X') == '110***********002X'``,
  ``mask_phone('13812345678') == '138****5678'``.

This module imports no model (the models import it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

ENCRYPTION_KEY_FILE = "pii_encryption.key"
HASH_KEY_FILE = "pii_hash.key"
UNREADABLE = "（无法解密）"

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class PIIError(ValueError):
    """A personal-information value is malformed (message in Chinese)."""


# --- keys -------------------------------------------------------------------------------


def _key_dir() -> Path:
    return Path(getattr(settings, "PII_KEY_DIR", Path(settings.BASE_DIR) / "var" / "keys"))


def _read_or_create_key_file(path: Path, make) -> str:
    """The key in ``path``; created (0600, exclusively) when missing, so concurrent first
    uses by several processes agree on one key."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(make() + "\n")
    return path.read_text(encoding="ascii").strip()


@lru_cache(maxsize=8)
def _fernet(configured: str, key_dir: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        keys = [_read_or_create_key_file(Path(key_dir) / ENCRYPTION_KEY_FILE, lambda: Fernet.generate_key().decode())]
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


@lru_cache(maxsize=8)
def _hash_key(configured: str, key_dir: str) -> bytes:
    key = configured or _read_or_create_key_file(Path(key_dir) / HASH_KEY_FILE, lambda: secrets.token_urlsafe(48))
    return key.encode("utf-8")


def fernet() -> MultiFernet:
    return _fernet(getattr(settings, "PII_ENCRYPTION_KEY", ""), str(_key_dir()))


def keys_from_environment() -> bool:
    """True when both PII keys are configured (not the generated key files)."""
    return bool(getattr(settings, "PII_ENCRYPTION_KEY", "")) and bool(getattr(settings, "PII_HASH_KEY", ""))


# --- normalise, encrypt, hash -----------------------------------------------------------


def normalize_id_number(value: str) -> str:
    """A resident ID number (GB 11643-1999, 18 characters with check digit), upper case."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    number = re.sub(r"\s", "", str(value)).upper()
    try:
        ric.validate(number)
    except ValidationError as exc:
        raise PIIError("身份证号码格式或校验位不正确") from exc
    if len(number) != 18:
        raise PIIError("身份证号码应为18位")
    return number


def normalize_phone(value: str) -> str:
    """An 11-digit mobile number or a landline with area code."""
    phone = re.sub(r"[\s()（）]", "", str(value))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise PIIError("联系电话应为11位手机号码或带区号的固定电话")
    return phone


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text of ``token`` ('' for ''). Raises PIIError when no key opens it."""
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise PIIError("个人信息无法解密（密钥不匹配）") from exc


def decrypt_or_placeholder(token: str) -> str:
    try:
        return decrypt(token)
    except PIIError:
        return UNREADABLE


def id_lookup_hash(value: str) -> str:
    """HMAC-SHA256 (hex) of the normalised ID number, keyed with PII_HASH_KEY."""
    number = normalize_id_number(value)
    key = _hash_key(getattr(settings, "PII_HASH_KEY", ""), str(_key_dir()))
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


# --- masking ----------------------------------------------------------------------------


def _mask(value: str, head: int, tail: int) -> str:
    if not value or value == UNREADABLE:
        return value
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id(value: str) -> str:
    """``11010519491231002X`` → ``110***********002X`` (first 3 and last 4 kept)."""
    return _mask(value, 3, 4)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return _mask(value, 3, 4)


def mask_name(value: str) -> str:
    """``张三`` → ``张*``; ``欧阳娜娜`` → ``欧***``."""
    return value[:1] + "*" * (len(value) - 1) if value else value
