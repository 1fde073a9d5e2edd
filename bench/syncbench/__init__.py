"""Shared pieces of the sync benchmarks: bulk seeding, devices that push and pull, the report.

Every benchmark runs the real app under gunicorn (2 sync workers) on a throwaway
PostgreSQL database and talks to it over HTTP, as the phones do: JSON in UTF-8, request
bodies over 2 KiB gzipped (pwa/src/api/client.js), `Accept-Encoding: gzip`.
Geography, users and devices are written in bulk SQL; only records go through the API,
in requests built by syncbench/wire.py, which tests/server/syncing/test_golden.py checks
against the requests recorded from the real server (tests/golden).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from syncbench.phone import (  # noqa: E402
    Exchange,
    Phone,
    count_statuses,
    first_problems,
    in_parallel,
)
from syncbench.report import (  # noqa: E402
    WORKERS,
    AutoAnalyze,
    CpuMeter,
    context_lines,
    load_average,
    mean,
    percentile,
    write_report,
)
from syncbench.seeding import Block, Person, Seeder  # noqa: E402
from syncbench.typist import Typist, uuid_from  # noqa: E402
from tests.server.syncing.server_process import (  # noqa: E402
    PG_ADMIN_URL,
    GunicornServer,
    MemorySampler,
    init_schema,
    postgres_reachable,
    throwaway_database,
)

__all__ = [
    "PG_ADMIN_URL",
    "WORKERS",
    "AutoAnalyze",
    "Block",
    "CpuMeter",
    "Exchange",
    "GunicornServer",
    "MemorySampler",
    "Person",
    "Phone",
    "Seeder",
    "Typist",
    "context_lines",
    "count_statuses",
    "first_problems",
    "in_parallel",
    "init_schema",
    "load_average",
    "mean",
    "percentile",
    "postgres_reachable",
    "throwaway_database",
    "uuid_from",
    "write_report",
]
