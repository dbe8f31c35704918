"""A stand-alone Salesforce org emulator served over real HTTPS on 127.0.0.1.

simple-salesforce and requests-oauthlib work against it unmodified. Start it with
`python -m sfemulator` or, in tests, `with Emulator.running(seed="none") as org:`.
No Django imports anywhere in this package.
"""

from __future__ import annotations

from .control import ControlClient, ControlError
from .errors import ApiError
from .server import Emulator
from .store import Org, RecordError

__all__ = ["ApiError", "ControlClient", "ControlError", "Emulator", "Org", "RecordError"]
