"""Re-encrypt stored tokens and secrets under the first FORCEBRIDGE_ENCRYPTION_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connections.crypto import SecretUnreadable, reencrypt_rows
from connections.models import Connection, PendingAuthorization


class Command(BaseCommand):
    help = ("Re-encrypt every stored secret with the first key of FORCEBRIDGE_ENCRYPTION_KEYS, "
            "so an old key can then be removed.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            changed = sum(reencrypt_rows(model, model.SECRET_COLUMNS)
                          for model in (Connection, PendingAuthorization))
        except SecretUnreadable as error:
            raise CommandError(f"{error}; keep the old key in the list until this succeeds") from None
        self.stdout.write(f"Re-encrypted the secrets of {changed} row(s).")
