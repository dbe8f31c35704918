"""Generated junk posted to the guided set-up and the mapping editor: an answer with a message
or a redirect, never a 500, and nothing stored changed by a refused request."""

from __future__ import annotations

from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.config.test_junk_input import (
    HYPOTHESIS,
    JUNK,
    SYNC_FIELDS,
    check,
    junk_for,
    pages,  # noqa: F401 - the fixture
    snapshot,
)

SETUP_FIELDS = [*SYNC_FIELDS, "new_type_singular", "new_type_plural", "_object",
                "_test_filter", "_carried"]
ROW_COLUMNS = st.fixed_dictionaries({}, optional={
    name: st.lists(JUNK, max_size=4) for name in ("source", "target", "transform", "default")})


@HYPOTHESIS
@given(data=junk_for(SETUP_FIELDS))
def test_the_guided_set_up_answers_junk_with_messages(pages, data):  # noqa: F811
    client, _, sync = pages
    for url in (reverse("admin:syncs_sync_setup"),
                reverse("admin:syncs_sync_setup_edit", args=[sync.pk])):
        before = snapshot()
        check(client.post(url, data), before)
        check(client.get(url, data), before)


@HYPOTHESIS
@given(data=ROW_COLUMNS, preview=st.booleans())
def test_the_mapping_editor_answers_junk_with_messages(pages, data, preview):  # noqa: F811
    client, _, sync = pages
    url = reverse("admin:syncs_sync_mapping", args=[sync.pk])
    rows = list(sync.field_mappings.values("source", "target", "transform", "default"))
    response = client.post(url, {**data, **({"_preview": "1"} if preview else {})})
    assert response.status_code < 500, response.content[:500]
    if response.status_code != 302:
        assert list(sync.field_mappings.values("source", "target", "transform",
                                               "default")) == rows
