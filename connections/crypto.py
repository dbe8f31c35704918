"""Secrets at rest: MultiFernet over FORCEBRIDGE_ENCRYPTION_KEYS (the first key encrypts).

Columns hold ciphertext only; a `Secret` descriptor on the model decrypts on read, so list pages
and querysets that never touch the attribute never decrypt anything. Each model lists its
secret columns in SECRET_COLUMNS; `reencrypt_rows` (manage.py reencrypt_secrets) moves them to
the first key so an old one can be dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models, transaction


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


@functools.lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    # Keyed on the tuple so a test (or a reload) with other keys gets its own instance.
    return _multifernet(tuple(settings.FORCEBRIDGE_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Ciphertext for a non-empty string; the empty string stays empty (nothing stored)."""
    if not plaintext:
        return ""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with FORCEBRIDGE_ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?)"
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first key (keeps the original timestamp); empty stays empty."""
    if not ciphertext:
        return ""
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with FORCEBRIDGE_ENCRYPTION_KEYS"
        ) from None


def reencrypt_rows(model: type[models.Model], columns: Sequence[str]) -> int:
    """Re-encrypt `columns` of every row of `model` under the first key; return rows changed.

    Rows are rotated one at a time under a row lock, so a worker refreshing a token at the
    same moment is never overwritten with an older ciphertext.
    """
    changed = 0
    for pk in model.objects.values_list("pk", flat=True):
        with transaction.atomic():
            row = model.objects.select_for_update().filter(pk=pk).values(*columns).first()
            if row is None:
                continue
            rotated = {column: rotate(value) for column, value in row.items()}
            if rotated != row:
                model.objects.filter(pk=pk).update(**rotated)
                changed += 1
    return changed


class Secret:
    """`access_token = Secret("access_token_encrypted")`: plaintext in, ciphertext in the column."""

    def __init__(self, column: str) -> None:
        self.column = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return decrypt(getattr(instance, self.column))

    def __set__(self, instance: Any, value: str) -> None:
        setattr(instance, self.column, encrypt(value or ""))
        Secret.changed(instance).add(self.column)

    @staticmethod
    def changed(instance: Any) -> set[str]:
        """The secret columns set through a descriptor since the instance was last saved."""
        return instance.__dict__.setdefault("_secrets_changed", set())
