"""The shared admin pieces: a read-only admin for tables the engine writes, and its paginator.

Tables of millions of rows (record logs, runs, the hub) are browsed, never edited by hand, and
their paginator counts at most `CAP` rows, never the table: the admin's changelist asks the
paginator for `count` on every page, and on a big log table a `COUNT(*)` is a full scan.
Counting `LIMIT CAP + 1` rows instead keeps every page cheap; past the cap the page says "more
than CAP" and offers the first CAP rows, which is enough with the filters and search that
narrow a log down.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

CAP = 10_000


class CappedPaginator(Paginator):
    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by().values("pk")[:CAP + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, CAP)

    @property
    def capped(self) -> bool:
        return self._counted > CAP


# The longest search an admin list takes: far above any id, e-mail or name, and short enough
# for every database's LIKE (SQLite refuses patterns over 50,000 bytes).
MAX_SEARCH = 200


class BoundedSearchAdmin(admin.ModelAdmin):
    """Every admin list of the project: a search longer than `MAX_SEARCH` is refused with a
    message (an empty list), never sent to the database. Lists with a search of their own
    override `search`."""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet,
                           search_term: str) -> tuple[QuerySet, bool]:
        if len(search_term) > MAX_SEARCH:
            messages.warning(request, f"Search not run: {len(search_term):,} characters; at "
                             f"most {MAX_SEARCH}.")
            return queryset.none(), False
        return self.search(request, queryset, search_term)

    def search(self, request: HttpRequest, queryset: QuerySet,
               search_term: str) -> tuple[QuerySet, bool]:
        """The search itself: Django's, by `search_fields`."""
        return super().get_search_results(request, queryset, search_term)


class ReadOnlyAdmin(BoundedSearchAdmin):
    """Browse-only admin for tables written by the engine: no add, change or delete by hand.

    Record logs leave through retention (`RecordLog.prune`), runs go with their sync, and the
    hub is written only by `workspace.hub`. Lists never count whole tables.
    """

    paginator = CappedPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
