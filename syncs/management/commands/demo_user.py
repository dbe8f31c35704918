"""Create the demo staff user once and print its login (``make run`` calls this)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo staff user 'admin' if no user exists, printing its password once."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("A user already exists; no demo user created.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", email="", password=password)
        # Kept in var/ (git-ignored, owner-only) so a login missed in the scroll-back is not lost.
        path = settings.VAR_DIR / "demo-login.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"username: admin\npassword: {password}\n")
        self.stdout.write(self.style.SUCCESS(
            f"Demo staff user created. Log in at http://127.0.0.1:8000/admin/ as "
            f"admin / {password}  (also saved in {path})"
        ))
