"""Flask commands: `vapid-keys` makes the key pair once; `push-worker` sends the alerts."""

import json
import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from server.push.vapid import PushNotConfigured, make_key_file, signer


@click.command("vapid-keys")
@with_appcontext
def vapid_keys():
    """Make the VAPID key pair in instance/ (once; an existing pair is kept)."""
    app = current_app
    if app.config.get("VAPID_PRIVATE_KEY"):
        click.echo("VAPID_PRIVATE_KEY is set in the environment; nothing to make.")
        click.echo(f"Public key: {signer(app).public_key}")
        return
    public, made = make_key_file(app.instance_path)
    click.echo("Made a new VAPID key pair in instance/." if made else "Keeping the key pair.")
    click.echo(f"Public key: {public}")


@click.command("push-worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@with_appcontext
def push_worker(once):
    """Send queued meeting alerts over Web Push until stopped (SIGTERM or Ctrl-C)."""
    from server.push.worker import PushWorker

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        worker = PushWorker(app)
    except PushNotConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    if once:
        click.echo(json.dumps(worker.run_once()))
        worker.sender.close()
        return
    stop = threading.Event()

    def _stop(signum, _frame):
        logging.getLogger(__name__).info("Signal %s: stopping after this batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run(stop, app.config["PUSH_POLL_SECONDS"])


def init_app(app):
    app.cli.add_command(vapid_keys)
    app.cli.add_command(push_worker)
