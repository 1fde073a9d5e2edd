"""Web Push settings read from the environment; tests and create_app callers may override."""

import os

# The browsers' push services. Chrome, Edge (new), Opera, Samsung Internet and Brave use
# FCM; Firefox uses Mozilla's autopush; Safari uses Apple's; old Edge used WNS.
DEFAULT_ALLOWED_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.push.apple.com",
    "*.notify.windows.com",
)


def from_environment() -> dict:
    env = os.environ.get
    hosts = env("PUSH_ALLOWED_HOSTS")
    return {
        # Base64url raw P-256 private key, or PEM; unset means instance/vapid_private_key.pem.
        "VAPID_PRIVATE_KEY": env("VAPID_PRIVATE_KEY") or None,
        # Optional: checked against the private key so a mismatched pair fails loudly.
        "VAPID_PUBLIC_KEY": env("VAPID_PUBLIC_KEY") or None,
        # Push services use it to reach the operator; production must set a real one.
        "VAPID_SUBJECT": env("VAPID_SUBJECT", "mailto:admin@localhost"),
        "PUSH_ALLOWED_HOSTS": (
            [h.strip() for h in hosts.split(",") if h.strip()]
            if hosts is not None
            else list(DEFAULT_ALLOWED_HOSTS)
        ),
        # `make run` sends from a thread inside the app; production runs push-worker.
        "PUSH_INPROCESS": env("PUSH_INPROCESS", "").lower() in ("1", "true", "yes"),
        "PUSH_BATCH_SIZE": int(env("PUSH_BATCH_SIZE", "200")),
        # Requests in flight per worker: a real push service is a round trip away.
        "PUSH_SEND_CONCURRENCY": int(env("PUSH_SEND_CONCURRENCY", "32")),
        "PUSH_POLL_SECONDS": float(env("PUSH_POLL_SECONDS", "2")),
        "PUSH_MAX_ATTEMPTS": int(env("PUSH_MAX_ATTEMPTS", "8")),
        "PUSH_BACKOFF_SECONDS": int(env("PUSH_BACKOFF_SECONDS", "30")),
        "PUSH_BACKOFF_MAX_SECONDS": int(env("PUSH_BACKOFF_MAX_SECONDS", "3600")),
        # An alert sent just before the start still needs a little while to reach a phone.
        "PUSH_TTL_FLOOR_SECONDS": int(env("PUSH_TTL_FLOOR_SECONDS", "900")),
        "PUSH_CONNECT_TIMEOUT": float(env("PUSH_CONNECT_TIMEOUT", "5")),
        "PUSH_READ_TIMEOUT": float(env("PUSH_READ_TIMEOUT", "15")),
        # An http(s) proxy for the push services, where the server has no direct egress.
        "PUSH_PROXY_URL": env("PUSH_PROXY_URL") or None,
        # Sent and failed outbox rows are kept this long for inspection, then pruned.
        "PUSH_KEEP_DAYS": int(env("PUSH_KEEP_DAYS", "14")),
    }
