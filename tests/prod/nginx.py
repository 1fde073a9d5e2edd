"""Configuration files the rehearsal writes into its temp folder: nginx's top-level
nginx.conf around deploy/nginx's snippets (copied in as they are), and pgbouncer.ini with
the settings of deploy/pgbouncer/pgbouncer.ini on the rehearsal's ports."""

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ("booth-connect-locations.conf", "booth-connect-proxy.conf")

NGINX_CONF = """\
daemon off;
worker_processes 1;
{user}
pid {home}/nginx.pid;
error_log {home}/error.log info;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    log_format booth_json escape=json
        '{{"time":"$time_iso8601","request_id":"$request_id","remote_addr":"$remote_addr",'
        '"method":"$request_method","uri":"$uri","status":$status,'
        '"upstream":"$upstream_addr","upstream_time":"$upstream_response_time"}}';
    upstream booth_app {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        server_name localhost;
        ssl_certificate {tls}/cert.pem;
        ssl_certificate_key {tls}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        access_log {home}/access.log booth_json;
        root {www};
        include snippets/booth-connect-locations.conf;
    }}
}}
"""


def write(home: Path, stack):
    """nginx.conf for `stack` in `home`, with deploy/nginx's snippets beside it."""
    (home / "snippets").mkdir(parents=True)
    (home / "tmp").mkdir()
    for name in SNIPPETS:
        shutil.copy(ROOT / "deploy" / "nginx" / name, home / "snippets" / name)
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in stack.node_ports
    )
    (home / "nginx.conf").write_text(
        NGINX_CONF.format(
            home=home,
            # Root's nginx hands requests to unprivileged workers; they read the app files.
            user="user nobody nogroup;" if os.geteuid() == 0 else "",
            servers=servers,
            port=stack.https_port,
            tls=stack.dir / "tls",
            www=stack.dir / "www",
        )
    )


def pgbouncer_ini(home: Path, port: int, database: str, pg_host: str, pg_port: str) -> str:
    """deploy/pgbouncer/pgbouncer.ini with the rehearsal's ports, files and trust auth."""
    text = (ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini").read_text()
    replacements = {
        "booth = host=127.0.0.1 port=5432 dbname=booth": (
            f"{database} = host={pg_host} port={pg_port} dbname={database}"
        ),
        "listen_port = 6432": f"listen_port = {port}",
        "auth_type = scram-sha-256": "auth_type = trust",
        "auth_file = /etc/pgbouncer/userlist.txt": f"auth_file = {home}/userlist.txt",
        "logfile = /var/log/postgresql/pgbouncer.log": f"logfile = {home}/pgbouncer.log",
        "pidfile = /var/run/postgresql/pgbouncer.pid": f"pidfile = {home}/pgbouncer.pid",
        "unix_socket_dir = /var/run/postgresql": "unix_socket_dir =",
    }
    for old, new in replacements.items():
        if old not in text:
            raise ValueError(f"deploy/pgbouncer/pgbouncer.ini no longer has {old!r}")
        text = text.replace(old, new)
    return text
