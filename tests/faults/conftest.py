"""The fault tests share the pull tests' cast."""

from tests.syncs.conftest import make_sync  # noqa: F401 - a fixture, used by name
