"""`manage.py create_api_key NAME`: a new inbound API key, printed once (only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workspace.models import ApiKey


class Command(BaseCommand):
    help = "Create an inbound API key and print it once; store it now, it cannot be shown again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what will use the key (e.g. 'website').")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        if not name.strip():
            raise CommandError("NAME: must not be blank")
        try:
            api_key, key = ApiKey.issue(name.strip())
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages
                                         in error.message_dict.items())) from None
        self.stderr.write(f"API key #{api_key.pk} {api_key.name!r} created. It is shown this "
                          "once; only its hash is stored:")
        self.stdout.write(key)
