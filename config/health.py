"""``/healthz``: is the database answering, is the broker answering, when did a worker last run."""

from __future__ import annotations

import logging
import os

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.models import Success

logger = logging.getLogger(__name__)


def _check_database() -> tuple[bool, str, str | None]:
    """Reach the database and read the last finished task (fails too if not migrated)."""
    try:
        last = Success.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    except Exception as exc:  # noqa: BLE001 - any failure means "not answering"; reported below
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        return False, type(exc).__name__, None
    return True, connection.vendor, last.isoformat() if last else None


def _check_broker() -> tuple[bool, str]:
    """Ping the configured django-q2 broker (the ORM broker is the database itself)."""
    try:
        broker = get_broker()
        ok = bool(broker.ping())
    except Exception as exc:  # noqa: BLE001 - any failure means "not answering"; reported below
        logger.warning("healthz: broker check failed: %s", type(exc).__name__)
        return False, type(exc).__name__
    return ok, broker.info()


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when database and broker both answer, 503 otherwise."""
    db_ok, db_info, last_task = _check_database()
    broker_ok, broker_info = _check_broker()
    healthy = db_ok and broker_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": {"ok": db_ok, "info": db_info},
        "broker": {"ok": broker_ok, "info": broker_info},
        "last_task_finished": last_task,
    }
    return JsonResponse(body, status=200 if healthy else 503)


def heartbeat() -> dict:
    """A django-q2 task that proves a worker can run code and reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"pid": os.getpid(), "database": connection.vendor}
