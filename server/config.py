"""Settings read from the environment, with safe defaults for a developer's machine."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def database_url(instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL when set (PostgreSQL through psycopg 3), else SQLite."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "booth.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options; DATABASE_POOLER=pgbouncer turns psycopg's server-side
    prepared statements off, which a transaction-mode PgBouncer (before 1.21, and without
    max_prepared_statements) cannot follow from one server connection to the next."""
    # Errors (and the log lines quoting them) never carry bound values: personal data.
    options = {"pool_pre_ping": True, "hide_parameters": True}
    pooler = os.environ.get("DATABASE_POOLER", "").strip().lower()
    if pooler not in ("", "none", "pgbouncer"):
        raise ValueError(f"DATABASE_POOLER is {pooler!r}: it may be 'pgbouncer' or unset")
    if pooler == "pgbouncer" and url.startswith("postgresql"):
        options["connect_args"] = {"prepare_threshold": None}
    return options


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one made once and kept in instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    """Every setting the app reads, as a mapping for app.config."""
    env = os.environ.get
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url(instance_path)),
        "SECRET_KEY": secret_key(instance_path),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=int(env("ACCESS_TOKEN_MINUTES", "15"))),
        # People go offline for weeks: a refresh token must outlive that.
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=int(env("REFRESH_TOKEN_DAYS", "90"))),
        "JWT_TOKEN_LOCATION": ["headers"],
        # A push is at most 1 MiB uncompressed; a gzip body is smaller still.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAX_UNCOMPRESSED_BODY": 1024 * 1024,
        # Login limits (server/accounts/limits.py): failures for one phone from one
        # address, and from one address for any phones, before that is refused (429) for
        # the rest of the window; and a per-phone delay across addresses for devices new to
        # the account, doubling from 1 s after LOGIN_SLOWDOWN_AFTER failures up to
        # LOGIN_SLOWDOWN_MAX_SECONDS (0: off).
        "LOGIN_LIMIT_PER_PHONE": int(env("LOGIN_LIMIT_PER_PHONE", "5")),
        "LOGIN_LIMIT_PER_ADDRESS": int(env("LOGIN_LIMIT_PER_ADDRESS", "30")),
        "LOGIN_LIMIT_WINDOW_SECONDS": int(env("LOGIN_LIMIT_WINDOW_SECONDS", "900")),
        "LOGIN_SLOWDOWN_AFTER": int(env("LOGIN_SLOWDOWN_AFTER", "5")),
        "LOGIN_SLOWDOWN_MAX_SECONDS": int(env("LOGIN_SLOWDOWN_MAX_SECONDS", "60")),
        # Argon2id cost; tests lower it so the suite stays quick.
        "PASSWORD_TIME_COST": int(env("PASSWORD_TIME_COST", "3")),
        "PASSWORD_MEMORY_COST": int(env("PASSWORD_MEMORY_COST", "65536")),
        "PROXY_HOPS": int(env("PROXY_HOPS", "0")),
        # `json` in production: one JSON object a line, with the request id (server/monitoring).
        "LOG_FORMAT": env("LOG_FORMAT", "text").strip().lower(),
        # Addresses (or networks) /metrics answers; everyone else gets 403.
        "METRICS_ALLOWED": [
            a.strip() for a in env("METRICS_ALLOWED", "127.0.0.0/8,::1").split(",") if a.strip()
        ],
        # /api/health says unhealthy when a due meeting alert has waited longer than this.
        "HEALTH_OUTBOX_LAG_SECONDS": int(env("HEALTH_OUTBOX_LAG_SECONDS", "300")),
        "JSON_SORT_KEYS": False,
    }
