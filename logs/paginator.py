"""A paginator for tables of millions of rows: it counts at most `CAP` rows, never the table.

The admin's changelist asks the paginator for `count` on every page; on a big log table a
`COUNT(*)` is a full scan. Counting `LIMIT CAP + 1` rows instead keeps every page cheap; past
the cap the page says "more than CAP" and offers the first CAP rows, which is enough with the
filters and search that narrow a log down.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

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
