"""Writes that must commit on their own: a rotated refresh token, a re-authorization mark.

Inside the caller's transaction a rollback would lose them, and a rotated refresh token is dead
at Salesforce once used; so they run in a durable transaction, and refuse to run inside another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import transaction

from connections.errors import InsideTransaction


@contextlib.contextmanager
def durable_transaction(action: str) -> Iterator[None]:
    """`transaction.atomic(durable=True)`, refusing with InsideTransaction inside another one."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(transaction.atomic(durable=True))
        except RuntimeError:
            raise InsideTransaction(
                f"{action} cannot run inside a database transaction: call Salesforce before "
                "opening one (a rotated refresh token would be lost on rollback)") from None
        yield
