"""Booth Connect: the Flask API that serves the offline app and its sync engine."""

import logging
import os
from pathlib import Path

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from server import config as settings
from server.extensions import db, jwt, migrate

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(config=None):
    """Make the app; `config` overrides settings read from the environment (tests use it)."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    if app.config["PROXY_HOPS"]:
        # Behind a reverse proxy: the login limits and the audit log need the phone's address.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    jwt.init_app(app)

    from server import api, auth, cli, errors, models, monitoring, openapi, push

    models.register_sqlite_pragmas(app)
    monitoring.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    auth.init_app(app)

    @app.after_request
    def _api_headers(response):
        # Answers carry personal data and tokens: never kept by a browser or proxy cache,
        # never sniffed into another type. Errors too (this runs for every answer).
        if request.path.startswith("/api"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    from server.accounts.routes import bp as accounts_bp
    from server.geo.routes import bp as geo_bp
    from server.grievances.routes import bp as grievances_bp
    from server.roster.routes import bp as roster_bp
    from server.syncing.routes import bp as sync_bp

    for bp in (accounts_bp, geo_bp, roster_bp, grievances_bp, sync_bp):
        app.register_blueprint(bp)
    push.init_app(app)
    from server import webapp

    webapp.init_app(app)
    openapi.init_app(app)
    cli.init_app(app)
    logging.getLogger("server").setLevel(logging.INFO)
    return app
