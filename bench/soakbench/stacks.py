"""The stack a soak runs against: the production rehearsal (nginx, two gunicorn nodes,
PgBouncer, the push worker and a PostgreSQL cluster of its own), or a local stand-in."""

from contextlib import contextmanager


@contextmanager
def open_stack(kind: str):
    """Yields an object with `urls()`, `database_url` (direct, not through PgBouncer),
    `secret_key`, `ca_file`, `description` and the fault methods `kill_worker(node)`,
    `stop_node(i)`, `start_node(i)`, `restart_pgbouncer()`, `restart_postgres()`."""
    if kind == "local":
        with _local() as stack:
            yield stack
        return
    raise SystemExit("the production rehearsal stack is not available on this branch yet")


@contextmanager
def _local():
    from soakbench.faults import LocalStack

    from tests.server.syncing.server_process import init_schema, throwaway_database

    with throwaway_database(prefix="booth_soak_") as url:
        init_schema(url)
        with LocalStack(url) as stack:
            stack.description = (
                "two gunicorn nodes (2 sync workers each) on the machine's shared PostgreSQL, "
                "no nginx or PgBouncer (local stand-in)"
            )
            yield stack
