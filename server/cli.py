"""Flask commands: init-db and the rest of the operator's tools."""

import click
from flask_migrate import upgrade


def init_app(app):
    @app.cli.command("init-db")
    def init_db():
        """Bring the database to the latest schema (safe to run again)."""
        upgrade()
        click.echo("Database is at the latest schema.")
