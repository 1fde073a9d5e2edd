"""The one registry of record types the engine knows, in the order a batch writes them
(parents before children).

Adding a record type: a rules module in sync/records/ declaring its `RULES`, and one
line below.
"""

from sync.records import RecordRules, conflicts, grievances, meetings, roster

__all__ = ["RECORD_TYPES", "RecordRules", "rules_for"]

RECORD_TYPES: tuple[RecordRules, ...] = tuple(
    sorted(
        (
            *roster.RULES,
            *grievances.RULES,
            *meetings.RULES,
            *conflicts.RULES,
        ),
        key=lambda rules: rules.order,
    )
)
_BY_ENTITY = {rules.entity: rules for rules in RECORD_TYPES}


def rules_for(entity: str) -> RecordRules:
    return _BY_ENTITY[entity]
