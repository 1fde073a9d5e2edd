"""Test fixtures: a real database per run (PostgreSQL or SQLite), emptied after each test.

TEST_DATABASE=postgres (default when CI=true) creates a throwaway database on the
PostgreSQL at TEST_PG_ADMIN_URL; TEST_DATABASE=sqlite uses a file in a temp folder.
With CI=true a missing PostgreSQL is a failure, never a skip.
"""

import os
import uuid

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from server import create_app
from server.extensions import db
from tests.factories import Factories

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _backend():
    return os.environ.get("TEST_DATABASE", "postgres" if os.environ.get("CI") else "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if _backend() == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    name = "booth_test_" + uuid.uuid4().hex[:10]
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database(app):
    yield
    with app.app_context():
        db.session.remove()
        # DELETE, children first: on tables this small it is far quicker than TRUNCATE.
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(text(f"DELETE FROM {table.name}"))
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Factories for geography, users and records; see tests/factories.py."""
    with app.app_context():
        yield Factories(app)


@pytest.fixture
def is_postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Tests that need concurrent connections run in the PostgreSQL pass only.

    They are deselected (not skipped) in the SQLite pass: `make test` runs both passes,
    so every one of them runs in CI.
    """
    if _backend() != "sqlite":
        return
    keep = [item for item in items if "postgres_only" not in item.keywords]
    dropped = [item for item in items if "postgres_only" in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
