"""The create-user command: the first admin, or anyone, from the server's shell."""

import click
from marshmallow import ValidationError
from sqlalchemy import select

from server.accounts import people
from server.accounts.models import ROLE_UNIT_TYPE
from server.accounts.schemas import UserCreateArgs
from server.audit.services import log_change
from server.errors import ApiError
from server.extensions import db
from server.geo.models import UNIT_TYPES, Unit
from sync.fields import ROLES


def _fail(messages):
    """Stop with one line per field, as the API would name them."""
    lines = [f"{field}: {' '.join(texts)}" for field, texts in sorted(messages.items())]
    raise click.ClickException("\n".join(lines))


@click.command("create-user")
@click.option("--phone", required=True, help="10-digit mobile number; the login name.")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit-code", required=True, help="Code of the person's unit, like JH.")
@click.option(
    "--unit-type",
    type=click.Choice(UNIT_TYPES),
    help="Type of that unit; by default the type the role needs.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for (hidden, twice) when not given.",
)
def create_user(phone, name, role, unit_code, unit_type, password):
    """Create an account with a role and a scope unit."""
    unit_type = unit_type or ROLE_UNIT_TYPE[role]
    unit = db.session.scalar(select(Unit).where(Unit.type == unit_type, Unit.code == unit_code))
    if unit is None:
        _fail({"unit_code": [f"No {unit_type} has the code {unit_code}."]})
    try:
        values = UserCreateArgs().load(
            {"phone": phone, "name": name, "password": password, "role": role, "unit_id": unit.id}
        )
        user = people.add_user(values, unit)
    except ValidationError as err:
        _fail(err.messages)
    except ApiError as err:
        _fail(err.fields or {"phone" if err.code == "phone_taken" else "error": [err.message]})
    # No actor: the audit entry records that the command line made this account.
    log_change(None, "create", "user", user.id, fields=("name", "phone", "role", "unit_id"))
    db.session.commit()
    click.echo(f"Created {role} {user.name} ({user.phone}) for {unit.type} {unit.code}.")
