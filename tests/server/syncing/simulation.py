"""A simulated world of phones that edit shared records offline and sync over HTTP (Jepsen style).

Each phone keeps its state the way the app does (pwa/src/sync): server copies from pulls
and push answers, an outbox numbered from 1 without gaps (an unsent upsert of the same
record is folded into its entry), a hybrid logical clock never below the last
`server_hlc` seen, base_version taken from the server copy, and a "needs attention" list
of rejected mutations. A history is a `Plan`: the phones, the roster already on the
booths, and steps; each step draws its own choices from its own seed, so a step can be
removed (to shrink a failing history) without changing what the others do.

The world, its steps and its checks live in tests/sync/simulation/ and reach a server
through a transport; this module is the transport to the real HTTP server
(`HttpTransport`). tests/sync/simulation/memory.py runs the same histories against the
engine alone.

The server's clock is simulated (the edge of the world: `server.records.time`), so a
seed replays the same history on every run. The harness sees every answer the server
gives, even those a phone "loses", and keeps them in a ledger; `check` then asserts
that all phones converged and that every mutation is accounted for.

Run one seed (and shrink it) outside pytest, on a throwaway SQLite database:
    .venv/bin/python -m tests.server.syncing.simulation 17 --shrink
    .venv/bin/python -m tests.server.syncing.simulation '{"seed": 17, "steps": ...}'
"""

from sqlalchemy import select

from server.accounts.models import User
from server.extensions import db
from server.grievances.models import Grievance, GrievanceNote
from server.meetings.models import Meeting, Rsvp
from server.roster.models import Member
from server.serialize import to_record
from server.syncing.models import AppliedMutation, Conflict
from tests.sync.simulation.cli import run_cli
from tests.sync.simulation.plan import ACTIONS, PUSH_MODES, Plan, SimClock, make_plan
from tests.sync.simulation.world import Simulation as World

# What test_convergence.py takes from here.
__all__ = ["ACTIONS", "PUSH_MODES", "HttpTransport", "Plan", "SimClock", "Simulation", "make_plan"]

MODELS = (
    ("member", Member),
    ("grievance", Grievance),
    ("grievance_note", GrievanceNote),
    ("meeting", Meeting),
    ("rsvp", Rsvp),
    ("conflict", Conflict),
)


class HttpTransport:
    """The Flask test client and the database: each request gets a fresh session, as each
    request does in production."""

    replay_module = "tests.server.syncing.simulation"

    def __init__(self, client, make):
        self.client = client
        self.make = make

    def geo(self):
        g = self.make.geo()
        self.unit_objects = {u.id: u for u in (g.b1, g.b2, g.b3, g.k1, g.k2)}
        return {key: getattr(g, key).id for key in ("b1", "b2", "b3", "k1", "k2")}

    def add_user(self, name, role, unit_id):
        return self.make.user(role, self.unit_objects[unit_id], name=name).id

    def add_device(self, user_id, device_id):
        user = db.session.get(User, user_id)
        device = self.make.device(user, device_id)
        headers = self.make.headers(user, device)
        db.session.remove()
        return headers

    def push(self, credentials, body):
        return self.request("post", "/api/sync/push", json=body, headers=credentials)

    def pull(self, credentials, cursor, limit):
        query = {"cursor": cursor, "limit": limit}
        return self.request("get", "/api/sync/pull", query_string=query, headers=credentials)

    def request(self, method, url, **kw):
        db.session.remove()
        response = getattr(self.client, method)(url, **kw)
        db.session.remove()
        return response.status_code, response.get_json()

    def unit_of(self, user_id):
        unit_id = db.session.get(User, user_id).unit_id
        db.session.remove()
        return unit_id

    def move_user(self, user_id, unit_id):
        user = db.session.get(User, user_id)
        user.unit_id = unit_id
        user.scope_version += 1
        db.session.commit()
        db.session.remove()

    def state(self):
        return self.seen_by(None)

    def seen_by(self, user_id):
        viewer = None if user_id is None else db.session.get(User, user_id)
        state = {
            (entity, obj.id): to_record(entity, obj, viewer)
            for entity, model in MODELS
            for obj in db.session.execute(select(model)).scalars()
        }
        db.session.remove()
        return state

    def applied(self):
        applied = {
            (row.device_id, row.seq): (row.status, row.error)
            for row in db.session.execute(select(AppliedMutation)).scalars()
        }
        db.session.remove()
        return applied


class Simulation(World):
    """A history against the HTTP server (the client and factories of a Flask app)."""

    def __init__(self, client, make, clock, plan: Plan):
        super().__init__(HttpTransport(client, make), clock, plan)


def history_app(database_url):  # pragma: no cover - a developer's tool
    """A Flask app on `database_url`, migrated, for histories run outside pytest."""
    from flask_migrate import upgrade

    from server import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "simulation-secret-key-that-is-long-enough",
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        upgrade()
    return app


def history_runner(app):  # pragma: no cover - a developer's tool
    """`attempt(plan)` for `app` (call it inside an app context): empty the database (DELETE,
    children first: on tables this small far quicker than TRUNCATE or a new database), run
    the history on a fresh test client, and answer (simulation, problems)."""
    from sqlalchemy import text

    import server.records
    from tests.factories import Factories

    tables = [table.name for table in reversed(db.metadata.sorted_tables)]

    def attempt(plan):
        db.session.remove()
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
        clock = SimClock()
        server.records.time = clock
        sim = Simulation(app.test_client(), Factories(app), clock, plan)
        sim.run()
        return sim, sim.check()

    return attempt


def main():  # pragma: no cover - a developer's tool
    import tempfile

    app = history_app(f"sqlite:///{tempfile.mkdtemp()}/sim.db")
    with app.app_context():
        run_cli(history_runner(app), __doc__.splitlines()[0])


if __name__ == "__main__":  # pragma: no cover
    main()
