"""One run held by a claim, whichever engine does the work (pull or push).

`run_held` opens the client with the claim's heartbeat, calls the engine's `execute(client)`,
and closes the run with its status whatever happened: QuotaExhausted → deferred (the engine
resumes from its position), a lost claim or a Salesforce/validation failure → failed with the
reason, anything else → failed and logged with its traceback. `Pull.run` and `Push.run` both
call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError

from connections.client import SalesforceClient
from connections.errors import QuotaExhausted, SalesforceError
from connections.models import Connection
from syncs.models import SyncRun
from syncs.queue import Claim, LostClaim, Status

logger = logging.getLogger(__name__)


def run_held(claim: Claim, run: SyncRun, connection: Connection,
             execute: Callable[[SalesforceClient], None], *, resumes: str,
             known: tuple[type[Exception], ...] = ()) -> bool:
    """Run `execute` for `run` and close the run; whether it was deferred (quota)."""
    claim.start(run)
    status, error, deferred = Status.SUCCEEDED, "", False
    client = None
    try:
        client = SalesforceClient.for_connection(connection, heartbeat=claim.beat)
        execute(client)
    except QuotaExhausted as exc:
        deferred = True
        status, error = Status.DEFERRED, f"{exc} {resumes}"
    except LostClaim as exc:
        status, error = Status.FAILED, str(exc)
    except (SalesforceError, ValidationError, *known) as exc:
        status, error = Status.FAILED, error_text(exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the run and logged with traceback
        logger.exception("%s: run %s crashed", run.owner, run.pk)
        status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
    claim.close(run, status, error, api_calls=client.api_calls if client else 0)
    return deferred


def error_text(exc: BaseException) -> str:
    """A run's error: a ValidationError's messages by field, anything else as it says."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return "; ".join(exc.messages)
    return str(exc)
