"""The simulation's transport to the engine alone: pushes and pulls go to a `MemoryServer`
(tests/sync/memory_server.py), which applies each mutation through sync.engine with an
in-memory store and pulls by sync.scope.can_see.

What the checks cannot judge here, because the memory server does not model it: masking
of mobile numbers and EPICs (server-side, server/masking.py: every record goes out
whole, so `seen_by` is the unmasked state), the change index and its SQL scope condition
(a pull here tests each changed record with can_see), and anything of HTTP, SQL, locks
or concurrency. Everything else is checked as on the HTTP path: convergence, the
ledger, rosters, erasure and a phone's own order.

Replay one history (and shrink it) by hand, or run many (`make convergence` runs 10,000):
    .venv/bin/python -m tests.sync.simulation.memory 17 --shrink
    .venv/bin/python -m tests.sync.simulation.memory --range 0 10000
"""

from tests.sync.memory_server import MemoryServer
from tests.sync.simulation.cli import run_cli
from tests.sync.simulation.plan import SimClock
from tests.sync.simulation.world import CHECKED_ENTITIES, Simulation

# Devices are registered a month before the history starts (tests/factories.py does so).
DEVICE_AGE_MS = 30 * 86_400_000


class MemoryTransport:
    replay_module = "tests.sync.simulation.memory"

    def __init__(self, clock, server=None):
        self.server = server or MemoryServer(clock)
        self.db = self.server.db

    def geo(self):
        g = self.db.geo()
        return {key: getattr(g, key).id for key in ("b1", "b2", "b3", "k1", "k2")}

    def add_user(self, name, role, unit_id):
        return self.db.add_user(role, self.db.units[unit_id].place, name)

    def add_device(self, user_id, device_id):
        return self.db.add_device(user_id, device_id, self.server.now() - DEVICE_AGE_MS)

    def push(self, credentials, body):
        return self.server.push(credentials, body)

    def pull(self, credentials, cursor, limit):
        return self.server.pull(credentials, cursor, limit)

    def unit_of(self, user_id):
        return self.db.users[user_id]["unit_id"]

    def move_user(self, user_id, unit_id):
        self.db.move_user(user_id, unit_id)

    def state(self):
        return {
            key: self.server.wire(*key) for key in self.db.records if key[0] in CHECKED_ENTITIES
        }

    def seen_by(self, user_id):
        return self.state()

    def applied(self):
        return dict(self.server.applied)


def run_history(plan, transport=None):
    """Run a plan against a fresh memory server; answer (simulation, problems)."""
    clock = SimClock()
    simulation = Simulation(transport or MemoryTransport(clock), clock, plan)
    simulation.run()
    return simulation, simulation.check()


if __name__ == "__main__":  # pragma: no cover
    run_cli(run_history, "Run one convergence history against the engine in memory.")
