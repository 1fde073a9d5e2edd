"""The rules of docs/protocol.md, applied one mutation at a time.

The engine decides; a store (server/syncing/store.py) reads and writes. Every function
here takes plain values: a `Principal` for who acts, `Record`s for what is stored.
A mutation that breaks a rule raises `Rejection`; the caller rolls back what the mutation
wrote (a savepoint) and answers `rejected`, so one bad mutation never blocks the rest.

What is common to every record type is checked here; each type's own rules are in its
module of sync/records/, found through sync/registry.py; the merge is in sync/merge.py.
"""

from sync.registry import rules_for
from sync.scope import can_see
from sync.store import Store
from sync.values import Mutation, Outcome, Principal, Rejection, not_found

__all__ = ["apply_mutation", "check_base", "check_unseen"]


def apply_mutation(store: Store, actor: Principal, m: Mutation, now: int) -> Outcome:
    """Apply one mutation by the rules; raises Rejection when it breaks one."""
    check_unseen(store, actor, m)
    check_base(store, m)
    return rules_for(m.entity).apply(store, actor, m, now)


def check_unseen(store: Store, actor: Principal, m: Mutation):
    """A record the pusher may not read (can_see, rule 10) is answered exactly as one
    that does not exist, on every entity's update and delete path: neither its existence
    nor why it is hidden (a complaint's category, another booth) is revealed."""
    record = store.load(m.entity, m.id)
    if record is not None and not can_see(store, actor, record):
        raise not_found(m.entity)


def check_base(store: Store, m: Mutation):
    """A base_version above the record's version was never given out by the server: taken
    as is, it would hide every change since and overwrite them without a conflict."""
    record = store.load(m.entity, m.id) if m.base_version is not None else None
    if record is not None and m.base_version > record.version:
        message = (
            f"The server never had version {m.base_version}; the record is at {record.version}."
        )
        raise Rejection("base_ahead", message, {"base_version": [message]})
