"""A migration module of server/migrations/versions/, loaded by file name (their names start
with a digit, so they cannot be imported), for tests that run its data step directly."""

import importlib.util
from pathlib import Path

import server


def load_migration(stem: str):
    """The module of server/migrations/versions/<stem>.py."""
    path = Path(server.__file__).parent / "migrations" / "versions" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
