"""Checks of a pushed mutation that need to know the pushing device: whose clock stamped
it, and the earliest moment that device could have typed anything. The server's push and
the memory server of tests/sync both use them.

An HLC names the device that made it (its node), and the server trusts that name: it
decides which device's edit came later, whose edit a conflict record belongs to, and
that a device's own writes follow each other. So a device may stamp only with its own
id, and a clock before the device was registered (a phone whose clock says 1970) counts
as the moment of registration.
"""

from sync import hlc as hlcs


def foreign_clock(hlc: str, device_id: str) -> dict | None:
    """The rejection of an HLC whose node is not the pushing device, or None."""
    if hlcs.node(hlc).lower() == device_id.lower():
        return None
    message = "The clock stamp names another device; stamp changes with this device's id."
    return {"code": "hlc_device_mismatch", "message": message, "fields": {"hlc": [message]}}


def device_clock(hlc: str, now_ms: int, device_id: str, registered_ms: int | None) -> str:
    """The HLC as the server counts it: not ahead of the server by more than the drift
    allowed (rule 2 of docs/protocol.md), not before the device was registered, and naming
    the device exactly."""
    ms, counter, _node = hlcs.parse(hlc)
    return hlcs.clamp(hlcs.format_hlc(ms, counter, device_id), now_ms, registered_ms)
