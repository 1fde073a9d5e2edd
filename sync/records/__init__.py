"""Each record type's rules, one module per type, each declaring itself in a `RULES` tuple
of `RecordRules` that sync/registry.py collects."""

from collections.abc import Callable
from dataclasses import dataclass

from sync.store import Store
from sync.values import Mutation, Outcome, Principal


@dataclass(frozen=True)
class RecordRules:
    """One record type as the engine sees it."""

    entity: str
    # Where it comes in a batch's writes: a record after those it refers to.
    order: int
    # Applies one mutation of this type; raises Rejection when it breaks a rule.
    apply: Callable[[Store, Principal, Mutation, int], Outcome]
    # Held by a booth (has a booth_id), so the booth's scope decides who reads it.
    booth_scoped: bool = False
    # Personal data (rule 11 of docs/protocol.md): masked for most readers; a member's
    # is erased when consent is withdrawn.
    personal_fields: tuple[str, ...] = ()
