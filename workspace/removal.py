"""Removing (or marking deleted) what deleted source records produced (`HubWriter.delete`)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from workspace.items import Result
from workspace.lock import lock_hub
from workspace.models import Event, Object, Person, Relationship, SourceRecord
from workspace.outbox import Outbox

Kind = SourceRecord.Kind
MODELS = {Kind.PERSON: Person, Kind.OBJECT: Object, Kind.RELATIONSHIP: Relationship,
          Kind.EVENT: Event}


class Removal:
    """Deletes the hub rows of one source's deleted records, announcing each in its outbox."""

    def __init__(self, source: str, outbox: Outbox) -> None:
        self.source = source
        self.outbox = outbox

    def delete(self, record_ids: Iterable[str], *, mark: bool = False) -> list[Result]:
        """Remove (or mark deleted) what these source records produced; unknown ids are ignored.

        A person or object that other source records still point at (a deleted lead whose
        person became a contact) only loses this link.
        """
        lock_hub()
        links = list(SourceRecord.objects.filter(source=self.source,
                                                 record_id__in=list(record_ids)))
        if mark:
            links = [link for link in links if link.modstamp != "deleted"]
        results, gone, unlink = [], {}, []
        shared = self._still_linked(links)
        for link in links:
            ref = f"{link.kind}:{link.target_id}"
            if (link.kind, link.target_id) in shared:
                unlink.append(link.pk)
                results.append(Result(link.record_id, "deleted", ref,
                                      message="unlinked; other records still produce it"))
                continue
            gone.setdefault(link.kind, set()).add(link.target_id)
            results.append(Result(link.record_id, "deleted", ref))
        SourceRecord.objects.filter(pk__in=unlink).delete()
        for kind, pks in gone.items():
            rows = MODELS[kind].objects.filter(pk__in=pks)
            if mark:
                rows.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())
                SourceRecord.objects.filter(pk__in=[x.pk for x in links if x.kind == kind]
                                            ).update(modstamp="deleted")
            else:
                rows.delete()
            self.outbox.add(kind, [(pk, "deleted", []) for pk in sorted(pks)])
        return results

    @staticmethod
    def _still_linked(links: list[SourceRecord]) -> set[tuple[str, int]]:
        """(kind, id) of people/objects that some other source record also produced."""
        shared = set()
        for kind in (Kind.PERSON, Kind.OBJECT):
            ids = {link.target_id for link in links if link.kind == kind}
            if not ids:
                continue
            others = SourceRecord.objects.filter(**{f"{kind}_id__in": ids}).exclude(
                pk__in=[link.pk for link in links]).values_list(f"{kind}_id", flat=True)
            shared.update((kind, pk) for pk in others)
        return shared
