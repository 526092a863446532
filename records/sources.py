"""Source links (SPEC §7): several ``(source, sourceId)`` pairs per record, unique per type."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Model, Q

from config.api.errors import ApiError

Pair = tuple[str, str]


def pairs_condition(pairs: list[Pair]) -> Q:
    condition = Q(pk__in=[])
    for source, source_id in pairs:
        condition |= Q(source=source, source_id=source_id)
    return condition


def sync_sources(
    *,
    owner: Model,
    link_model: type[Model],
    owner_field: str,
    pairs: list[Pair],
    replace: bool,
    exists_error: type[ApiError],
    label: str,
) -> bool:
    """Add ``pairs`` to ``owner`` (or make them its whole set when ``replace``).

    Raises ``exists_error`` (409) when a pair belongs to another record. Returns whether the
    owner's set of links changed. Three statements at most, whatever the number of pairs.
    """
    current = set(
        link_model.objects.filter(**{owner_field: owner}).values_list("source", "source_id")
    )
    wanted = list(dict.fromkeys(pairs))
    new = [p for p in wanted if p not in current]
    if new:
        taken = (
            link_model.objects.filter(pairs_condition(new))
            .exclude(**{owner_field: owner})
            .values_list("source", "source_id")
            .first()
        )
        if taken:
            raise exists_error(
                f"{label} with sourceId [{taken[1]}] and source [{taken[0]}] already exists."
            )
    stale = current - set(wanted) if replace else set()
    if stale:
        link_model.objects.filter(**{owner_field: owner}).filter(
            pairs_condition(list(stale))
        ).delete()
    if new:
        try:  # a concurrent write may have taken a pair since the check: 409, not 500
            with transaction.atomic():
                link_model.objects.bulk_create(
                    [
                        link_model(**{owner_field: owner, "source": s, "source_id": i})
                        for s, i in new
                    ]
                )
        except IntegrityError as exc:
            raise exists_error(
                f"{label} source pair taken by a {label.lower()} written at the same time; "
                "retry to see it."
            ) from exc
    return bool(new or stale)


def sources_output(owner: Model) -> list[dict[str, str]]:
    """Reads the prefetched ``sources`` relation in a stable order."""
    links = sorted(owner.sources.all(), key=lambda link: link.pk)
    return [{"source": link.source, "sourceId": link.source_id} for link in links]
