"""GET /api/health: 200 with the figures when the node can serve; 503 `unhealthy` in the one
error shape, naming the failed check, when the database is gone, behind the code's
migrations, or meeting alerts are not going out."""

import uuid

from sqlalchemy import text

from server import create_app
from server.extensions import db
from server.monitoring.health import migration_heads
from server.push.models import PushDelivery
from server.records import now_ms
from tests.server.push.fixtures import HOUR_MS, subscribe
from tests.server.syncing.phone import Phone


def test_healthy_node_answers_200_with_its_figures(client):
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json == {
        "status": "ok",
        "database": "ok",
        "schema_revision": ",".join(migration_heads()),
        "push_outbox": {"waiting": 0, "lag_seconds": 0},
    }
    assert answer.headers["Cache-Control"] == "no-store"


def test_database_out_of_reach_is_503(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            # Nothing listens on port 1.
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/booth",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        }
    )
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "unhealthy"
    assert answer.json["error"]["fields"] == {"database": ["The database is not reachable."]}


def test_database_behind_the_code_is_503(app, client):
    with app.app_context():
        [current] = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    try:
        answer = client.get("/api/health")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
            db.session.commit()
    assert answer.status_code == 503
    assert list(answer.json["error"]["fields"]) == ["schema_revision"]
    assert client.get("/api/health").status_code == 200


def test_alerts_waiting_too_long_are_503(app, client, make, standin, monkeypatch):
    g = make.geo()
    president = make.user("block_president", g.k1)
    volunteer = make.user("volunteer", g.b1)
    db.session.commit()
    subscribe(client, make, standin, volunteer)
    result = Phone(client, make, president).send(
        "meeting",
        str(uuid.uuid4()),
        {
            "title": "बूथ समिति की बैठक",
            "agenda": "सूची",
            "starts_at": now_ms() + 3 * 24 * HOUR_MS,
            "place": "प्रखंड कार्यालय",
            "unit_id": g.k1.id,
            "audience_roles": ["volunteer"],
        },
    )
    assert result["status"] == "applied"
    fresh = client.get("/api/health")
    assert fresh.status_code == 200
    assert fresh.json["push_outbox"]["waiting"] == 1
    assert fresh.json["push_outbox"]["lag_seconds"] < 60

    # No push worker has sent it for ten minutes.
    db.session.execute(
        PushDelivery.__table__.update().values(next_attempt_at=now_ms() - 600 * 1000)
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "HEALTH_OUTBOX_LAG_SECONDS", 300)
    stale = client.get("/api/health")
    assert stale.status_code == 503
    assert list(stale.json["error"]["fields"]) == ["push_outbox"]
    assert "waited 600 s" in stale.json["error"]["fields"]["push_outbox"][0]
