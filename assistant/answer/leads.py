"""The opening of each retrieved article: news puts the answer in its headline and first sentences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from assistant.types import Chunk, Passage


class LeadSource(Protocol):
    """What the leads need of a store."""

    def lead_chunks(self, doc_ids: Sequence[str]) -> dict[str, Chunk]: ...


def with_leads(
    store: LeadSource, passages: Sequence[Passage], weights: Mapping[str, float]
) -> tuple[list[Passage], dict[str, float]]:
    """``passages`` followed by the first chunk of every article they come from that is not among them yet, each
    scored and weighted as its article's best passage (so a headline competes as a sentence of that story).

    The leads only widen the sentences evidence is chosen from; what was retrieved stays as it is."""
    held = {p.chunk.id for p in passages}
    best: dict[str, Passage] = {}
    for passage in passages:
        best.setdefault(passage.chunk.doc_id, passage)
    leads = store.lead_chunks(list(best))
    added: list[Passage] = []
    widened = dict(weights)
    for doc_id, lead in leads.items():
        if lead.id in held:
            continue
        top = best[doc_id]
        added.append(Passage(chunk=lead, score=top.score))
        widened[lead.id] = weights.get(top.chunk.id, 1.0)
    return [*passages, *added], widened
