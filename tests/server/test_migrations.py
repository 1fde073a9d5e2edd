"""The schema comes from Alembic migrations, and the models match it (no drift)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from server.extensions import db


def test_upgrade_from_empty_to_head_matches_the_models(make):
    # The session's database was built by `upgrade()` from empty (tests/conftest.py).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() is not None
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_init_db_is_safe_to_run_twice(make, runner):
    before = sorted(inspect(db.engine).get_table_names())
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "latest schema" in result.output
    assert sorted(inspect(db.engine).get_table_names()) == before


def test_every_table_is_created_by_the_migration(make):
    upgrade()  # already at head: nothing to do
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_a_fresh_sqlite_file_migrates_from_empty(tmp_path):
    from server import create_app

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x" * 40})
    with fresh.app_context():
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    create_engine(url).dispose()
