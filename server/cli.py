"""Flask commands: init-db, and each domain's own commands registered in one place."""

import click
from flask_migrate import upgrade

from server.accounts.commands import create_user
from server.demo import seed_demo
from server.geo.commands import import_booths_command


@click.command("init-db")
def init_db():
    """Bring the database to the latest schema (safe to run again)."""
    upgrade()
    click.echo("Database is at the latest schema.")


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(import_booths_command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
