"""One human, one person: a person made for a customer id and a lead's person for the same
e-mail become one.

A relationship or task sync can make a bare person for a contact id before the contact itself
arrives; if a lead already holds the contact's e-mail, the contact finds two people. They are
the same human, so they are merged, whichever order the syncs ran in:
1. The older hub id survives (links and exports that name it stay valid).
2. The other's relationships, events and source links move to the survivor (a relationship to
   an object the survivor already relates to is dropped with the person).
3. The survivor takes the customer id, the lead's e-mail and both attribute sets (the
   customer id's person wins on a name both have), and the other person is deleted.
4. The outbox gets no deletion: the human still exists, so a delete action must not delete
   the merged-away person's Salesforce records (their links now name the survivor). The
   survivor's update comes with the record that merged it.
5. `person_merged` is sent, inside the merge's transaction, so what other apps keep about
   hub people follows the links to the survivor (syncs/exchanges.py).
"""

from __future__ import annotations

from django.dispatch import Signal

from workspace.models import Event, Person, Relationship, SourceRecord
from workspace.people import PersonIndex, PersonRow

# Sent with `gone` and `survivor` (hub person ids) once the merge's rows are written.
person_merged = Signal()


def merge_people(index: PersonIndex, holder: PersonRow,
                 lead: PersonRow) -> tuple[PersonRow, str]:
    """Merge `lead` (e-mail only) and `holder` (the customer id's person) into the older one;
    the survivor and a sentence saying what was merged."""
    survivor, gone = (holder, lead) if holder.pk < lead.pk else (lead, holder)
    related = Relationship.objects.filter(person_id=survivor.pk).values("object_id")
    Relationship.objects.filter(person_id=gone.pk).exclude(object_id__in=related).update(
        person_id=survivor.pk)
    Event.objects.filter(person_id=gone.pk).update(person_id=survivor.pk)
    SourceRecord.objects.filter(person_id=gone.pk).update(person_id=survivor.pk)
    Person.objects.filter(pk=gone.pk).delete()
    person_merged.send(sender=Person, gone=gone.pk, survivor=survivor.pk)
    index.forget(gone)
    customer_id, email = holder.customer_id, lead.email
    survivor.attributes = {**lead.attributes, **holder.attributes}
    survivor.owned = sorted(holder.attributes) if holder.attributes else None
    Person.objects.filter(pk=survivor.pk).update(
        customer_id=customer_id, email=email, attributes=survivor.attributes,
        owned=survivor.owned)
    index.reidentify(survivor, customer_id, email)
    # The survivor's update is the caller's: the record then writes to it as to any person.
    # No "deleted" change for the other: a merge is not a deletion (see 4. above).
    return survivor, (f"merged hub person #{gone.pk} into #{survivor.pk}: {customer_id} and "
                      f"the lead with e-mail {email} are one person")
