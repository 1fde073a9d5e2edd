"""The import-booths command: load a real booth list (CSV) into the geography."""

import click

from server.extensions import db
from server.geo.booth_lists import BoothFileRefused, import_booths, read_booth_file
from server.geo.models import ASSEMBLY, BLOCK, BOOTH, DISTRICT, LOK_SABHA, PANCHAYAT, STATE

KINDS = {
    STATE: "state",
    DISTRICT: "districts",
    LOK_SABHA: "Lok Sabha seats",
    ASSEMBLY: "assembly seats",
    BLOCK: "blocks",
    PANCHAYAT: "panchayats",
    BOOTH: "booths",
}


def describe_changes(changes) -> str:
    """`booths: 12 created, blocks: 1 updated`, or `nothing changed`."""
    order = list(KINDS)
    parts = [
        f"{KINDS[unit_type]}: {count} {action}"
        for (unit_type, action), count in sorted(
            changes.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
        )
    ]
    return ", ".join(parts) if parts else "nothing changed"


@click.command("import-booths")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_booths_command(path):
    """Import a booth list CSV (see docs/import-booths.md): all of it, or nothing."""
    try:
        rows = read_booth_file(path)
        with click.progressbar(length=len(rows), label="Importing booths") as bar:
            changes = import_booths(rows, progress=bar.update)
    except BoothFileRefused as refused:
        db.session.rollback()
        for line, reason in refused.problems:
            click.echo(f"line {line}: {reason}", err=True)
        raise click.ClickException(
            f"{path} was refused: {len(refused.problems)} problem(s); nothing was imported."
        ) from refused
    db.session.commit()
    click.echo(f"Imported {len(rows)} booth lines: {describe_changes(changes)}.")
