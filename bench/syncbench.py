"""Shared pieces of the sync benchmarks: bulk seeding, devices that push and pull, the report.

Every benchmark runs the real app under gunicorn (2 sync workers) on a throwaway
PostgreSQL database and talks to it over HTTP, as the phones do: JSON in UTF-8, request
bodies over 2 KiB gzipped (pwa/src/api/client.js), `Accept-Encoding: gzip`.
Geography, users and devices are written in bulk SQL; only records go through the API.
"""

import gzip
import http.client
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from tests.server.syncing.server_process import (  # noqa: E402
    PG_ADMIN_URL,
    GunicornServer,
    MemorySampler,
    app_for,
    init_schema,
    postgres_reachable,
    throwaway_database,
)

__all__ = [
    "PG_ADMIN_URL",
    "GunicornServer",
    "MemorySampler",
    "init_schema",
    "postgres_reachable",
    "throwaway_database",
]

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Sync"
WORKERS = 2
GZIP_OVER = 2048  # the app gzips request bodies above this (pwa/src/api/client.js)
TOKEN_LIFETIME = timedelta(hours=12)  # a full state run outlives the 15-minute default

MALE = ("राहुल", "अमित", "सुनील", "राजेश", "विकास", "मनोज", "संजय", "दीपक", "रवि", "अजय")
MALE += ("बिरसा", "सोमरा", "करमा", "बुधन", "मंगल", "सूरज", "अनिल", "प्रदीप", "गणेश", "शिबू")
FEMALE = ("सुनीता", "प्रिया", "रीना", "पूजा", "अनीता", "सीमा", "कविता", "रूपा", "सरिता", "मीना")
FEMALE += ("सलोनी", "जसिंता", "फूलमनी", "सोनी", "बसंती", "ललिता", "ममता", "रश्मि", "नेहा", "गीता")
SURNAMES = ("महतो", "मुंडा", "उराँव", "सोरेन", "हेम्ब्रम", "टुडू", "किस्कू", "मरांडी", "तिर्की")
SURNAMES += ("एक्का", "लकड़ा", "कुमार", "यादव", "साहू", "सिंह", "प्रसाद", "गोप", "मांझी", "बेसरा")
SKILLS = ("speaker", "social_media", "writing", "organiser", "booth_management", "other")
NOTES = (
    "बैठक में नियमित आते हैं",
    "स्मार्टफोन नहीं है, परिवार का फोन",
    "कॉलेज में पढ़ती हैं, शाम को उपलब्ध",
    "गाँव के युवा मंडल से जुड़े हैं",
    "पिछले चुनाव में बूथ पर काम किया",
)
GRIEVANCE_CATEGORIES = ("road", "water", "electricity", "ration", "pension", "mgnrega")
GRIEVANCE_CATEGORIES += ("health", "education", "land", "official_conduct", "other")
GRIEVANCE_TEXTS = (
    "गाँव की मुख्य सड़क बरसात में पूरी तरह टूट गई है, स्कूल के बच्चे और मरीज नहीं जा पाते।",
    "चापाकल तीन महीने से खराब है, महिलाओं को दो किलोमीटर दूर से पानी लाना पड़ता है।",
    "राशन डीलर पूरा अनाज नहीं देता और अंगूठा लगवाकर लौटा देता है।",
    "वृद्धा पेंशन छह महीने से खाते में नहीं आई, प्रखंड कार्यालय में कोई सुनवाई नहीं।",
    "मनरेगा की मजदूरी चार महीने से बकाया है, मेट कहता है ऊपर से पैसा नहीं आया।",
    "ट्रांसफार्मर जल गया है, बीस दिन से गाँव में बिजली नहीं है।",
    "स्वास्थ्य उपकेंद्र में एएनएम हफ्ते में एक दिन ही आती हैं।",
)


# ---------------------------------------------------------------- the machine and the report


def machine() -> str:
    """CPU model, cores and memory of this machine, and the PostgreSQL it runs."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // 1024 // 1024
    return f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, Python {platform.python_version()}"


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_report(title: str, lines: list[str]):
    """Put `### title` with `lines` under `## Sync` in docs/benchmarks.md, replacing the old one.

    Only the sync section is touched: other sections of the file belong to other benchmarks.
    """
    DOCS.parent.mkdir(exist_ok=True)
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"### {title}\n" + "\n".join(lines).rstrip() + "\n"
    start = doc.find("\n" + SECTION + "\n")
    if start < 0:
        doc = doc.rstrip() + f"\n\n{SECTION}\n\n{block}"
    else:
        body_start = start + len(SECTION) + 2
        following = re.search(r"^## ", doc[body_start:], re.M)
        body_end = body_start + following.start() if following else len(doc)
        body = doc[body_start:body_end]
        old = re.search(rf"^### {re.escape(title)}\n.*?(?=^### |\Z)", body, re.M | re.S)
        if old:
            body = body[: old.start()] + block + "\n" + body[old.end() :].lstrip("\n")
        else:
            body = body.rstrip("\n") + "\n\n" + block
        doc = (
            doc[:body_start]
            + body.rstrip("\n")
            + "\n"
            + ("\n" + doc[body_end:] if following else "")
        )
    DOCS.write_text(doc.rstrip("\n") + "\n")


def code_version() -> str:
    """The commit, and whether the server or engine code differs from it in the checkout."""
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "server", "sync"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return git_commit() + (" with uncommitted changes to server/ or sync/" if dirty else "")


# Taken when a benchmark starts: the workers load the code as it is now, and the report
# is written at the end, when the checkout and the machine's load may have moved on.
STARTED = {"when": today(), "code": code_version(), "load": load_average()}


def context_lines(url: str, extra: str = "") -> list[str]:
    return [
        f"Run {STARTED['when']} at commit {STARTED['code']} on {machine()}; PostgreSQL "
        f"{postgres_version(url)} on the same machine; gunicorn with {WORKERS} sync workers; "
        f"load average at start {STARTED['load']} (the machine is shared).{extra}",
        "",
    ]


def percentile(values, p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def mean(values) -> float:
    return statistics.fmean(values) if values else 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time used by the gunicorn workers and by the database's PostgreSQL backends
    between two readings: where a mutation's cost goes, whatever else the machine runs."""

    def __init__(self, server, url: str):
        import psycopg

        self.server = server
        self.conn = psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
        )
        self.seen: dict[int, float] = {}

    def backends(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def reading(self) -> dict:
        """{"app", "db", "client": seconds} used since the last reading (the client is this
        benchmark process, which shares the machine)."""
        client = time.process_time()
        used = {"app": 0.0, "db": 0.0, "client": client - self.seen.get(0, client)}
        self.seen[0] = client
        for kind, pids in (("app", self.server.worker_pids()), ("db", self.backends())):
            for pid in pids:
                now = cpu_seconds(pid)
                used[kind] += now - self.seen.get(pid, 0.0)
                self.seen[pid] = now
        return used

    def close(self):
        self.conn.close()


class AutoAnalyze:
    """ANALYZE the tables a run grows whenever autovacuum would (50 rows + 10% changed),
    when this PostgreSQL runs with autovacuum off (this machine's does).

    Without statistics PostgreSQL keeps the generic plans of prepared statements that it
    made while the tables were empty, sequential scans included, and a push then costs more
    with every member stored: that is this machine's setting, not what production sees.
    """

    TABLES = ("members", "record_changes", "applied_mutations", "audit_log", "grievances")

    def __init__(self, url: str, every_seconds=5):
        import psycopg

        self.conn = psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
        )
        self.active = self.conn.execute("SHOW autovacuum").fetchone()[0] == "off"
        self.runs = 0
        self.every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auto-analyze", daemon=True)

    def __enter__(self):
        if self.active:
            self.analyze(self.TABLES + ("units", "users", "devices"))
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.conn.close()

    def analyze(self, tables):
        self.conn.execute(f"ANALYZE {', '.join(tables)}")
        self.runs += 1

    def _run(self):
        while not self._stop.wait(self.every):
            due = self.conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
                "AND n_mod_since_analyze > 50 + 0.1 * n_live_tup",
                (list(self.TABLES),),
            ).fetchall()
            if due:
                self.analyze([name for (name,) in due])

    def note(self) -> str:
        if not self.active:
            return ""
        return (
            f" This PostgreSQL runs with autovacuum off, so the benchmark ran ANALYZE as "
            f"autovacuum would ({self.runs} times)."
        )


# ---------------------------------------------------------------- bulk seeding


@dataclass
class Block:
    id: int
    district_id: int
    booths: list[int] = field(default_factory=list)


@dataclass
class Person:
    user_id: int
    role: str
    unit_id: int
    device_id: str
    token: str = ""


class Seeder:
    """Writes geography, users and devices in bulk through SQLAlchemy Core (multi-row
    INSERTs), so the models' Python-side defaults apply without the ORM's cost."""

    def __init__(self, url: str):
        self.url = url
        self.app = app_for(url)
        self.next_id = 1

    def close(self):
        from server.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def _ids(self, n):
        first = self.next_id
        self.next_id += n
        return range(first, first + n)

    def geography(self, booths_per_block: list[int], districts: int, panchayats: int = 0):
        """A state with `districts` districts, its blocks (each with the given number of
        booths), panchayats spread over the blocks, and assembly seats numbering the booths."""
        from server.extensions import db
        from server.geo.models import Unit

        units, blocks = [], []
        state_id = self._ids(1)[0]
        units.append(
            dict(id=state_id, type="state", code="JH", name_en="Jharkhand", name_hi="झारखंड")
        )
        ls_ids = list(self._ids(14))
        for n, unit_id in enumerate(ls_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="lok_sabha",
                    code=f"LS-{n}",
                    name_en=f"LS {n}",
                    name_hi=f"लोकसभा {n}",
                    parent_id=state_id,
                    number=n,
                )
            )
        ac_ids = list(self._ids(81))
        for n, unit_id in enumerate(ac_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="assembly",
                    code=f"AC-{n}",
                    name_en=f"AC {n}",
                    name_hi=f"विधानसभा {n}",
                    parent_id=ls_ids[(n - 1) * 14 // 81],
                    number=n,
                )
            )
        district_ids = list(self._ids(districts))
        for n, unit_id in enumerate(district_ids, 1):
            units.append(
                dict(
                    id=unit_id,
                    type="district",
                    code=f"D{n:02d}",
                    name_en=f"District {n}",
                    name_hi=f"ज़िला {n}",
                    parent_id=state_id,
                )
            )
        per_block_panchayats = [
            max(1, panchayats // len(booths_per_block) + (i < panchayats % len(booths_per_block)))
            for i in range(len(booths_per_block))
        ]
        booth_number = dict.fromkeys(ac_ids, 0)
        for b, booths in enumerate(booths_per_block):
            district_id = district_ids[b * districts // len(booths_per_block)]
            block_id = self._ids(1)[0]
            units.append(
                dict(
                    id=block_id,
                    type="block",
                    code=f"BLK-{b + 1}",
                    name_en=f"Block {b + 1}",
                    name_hi=f"प्रखंड {b + 1}",
                    parent_id=district_id,
                    district_id=district_id,
                )
            )
            block = Block(block_id, district_id)
            panchayat_ids = list(self._ids(per_block_panchayats[b]))
            for p, unit_id in enumerate(panchayat_ids, 1):
                units.append(
                    dict(
                        id=unit_id,
                        type="panchayat",
                        code=f"BLK-{b + 1}-P{p}",
                        name_en=f"Panchayat {p}",
                        name_hi=f"पंचायत {p}",
                        parent_id=block_id,
                        district_id=district_id,
                        block_id=block_id,
                    )
                )
            assembly_id = ac_ids[b * len(ac_ids) // len(booths_per_block)]
            for k, unit_id in enumerate(self._ids(booths)):
                booth_number[assembly_id] += 1
                number = booth_number[assembly_id]
                ac = ac_ids.index(assembly_id) + 1
                units.append(
                    dict(
                        id=unit_id,
                        type="booth",
                        code=f"AC-{ac}-{number}",
                        name_en=f"Booth {number}",
                        name_hi=f"बूथ {number}",
                        parent_id=panchayat_ids[k * len(panchayat_ids) // booths],
                        district_id=district_id,
                        block_id=block_id,
                        assembly_id=assembly_id,
                        number=number,
                    )
                )
                block.booths.append(unit_id)
            blocks.append(block)
        with self.app.app_context():
            self._insert(Unit, units)
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('units', 'id'), :n)"),
                {"n": self.next_id},
            )
            db.session.commit()
        return blocks

    def people(self, units: list[tuple[str, int]]) -> list[Person]:
        """One user and one device per (role, unit id); every token lives TOKEN_LIFETIME."""
        from flask_jwt_extended import create_access_token

        from server.accounts.models import Device, User
        from server.accounts.passwords import hash_password
        from server.extensions import db

        people = []
        with self.app.app_context():
            first = (db.session.execute(text("SELECT max(id) FROM users")).scalar() or 0) + 1
            password_hash = hash_password("bench-password")
            users, devices = [], []
            for n, (role, unit_id) in enumerate(units):
                person = Person(first + n, role, unit_id, str(uuid.uuid4()))
                users.append(
                    dict(
                        id=person.user_id,
                        phone=str(6_000_000_000 + person.user_id),
                        name=f"{random.choice(MALE)} {random.choice(SURNAMES)}",
                        password_hash=password_hash,
                        role=role,
                        unit_id=unit_id,
                    )
                )
                devices.append(dict(id=person.device_id, user_id=person.user_id, name="bench"))
                person.token = create_access_token(
                    identity=str(person.user_id),
                    additional_claims={"dev": person.device_id, "gen": 1},
                    expires_delta=TOKEN_LIFETIME,
                )
                people.append(person)
            self._insert(User, users)
            self._insert(Device, devices)
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('users', 'id'), :n)"),
                {"n": first + len(units)},
            )
            db.session.commit()
        return people

    def _insert(self, model, rows, chunk=5000):
        from server.extensions import db

        for start in range(0, len(rows), chunk):
            db.session.execute(insert(model), rows[start : start + chunk])


# ---------------------------------------------------------------- records typed on phones


class Typist:
    """Makes the values a volunteer types: Hindi names, youth ages, mobiles, EPICs."""

    def __init__(self, seed: int, epic_prefix: str = "JHB"):
        self.random = random.Random(seed)
        self.epic_prefix = epic_prefix
        self.epics = 0

    def phone(self):
        return str(self.random.choice("6789")) + "".join(
            self.random.choice("0123456789") for _ in range(9)
        )

    def name(self, gender):
        first = self.random.choice(FEMALE if gender == "female" else MALE)
        return f"{first} {self.random.choice(SURNAMES)}"

    def member(self, booth_id) -> dict:
        gender = self.random.choice(("male", "female", "male", "female", "other"))
        values = {
            "booth_id": booth_id,
            "name": self.name(gender),
            "age": self.random.randint(18, 35),
            "gender": gender,
            "phone": self.phone(),
            "skills": self.random.sample(SKILLS, self.random.randint(0, 3)),
            "consent": True,
        }
        if self.random.random() < 0.7:
            # EPICs are unique state-wide: a prefix per typist and a counter.
            self.epics += 1
            values["epic"] = f"{self.epic_prefix}{self.epics:07d}"
        return values

    def member_edit(self, field_name) -> dict:
        if field_name == "notes":
            return {"notes": self.random.choice(NOTES)}
        if field_name == "phone":
            return {"phone": self.phone()}
        if field_name == "skills":
            return {"skills": self.random.sample(SKILLS, self.random.randint(1, 3))}
        if field_name == "age":
            return {"age": self.random.randint(18, 35)}
        return {"name": self.name(self.random.choice(("male", "female")))}

    def grievance(self, booth_id, now) -> dict:
        return {
            "booth_id": booth_id,
            "category": self.random.choice(GRIEVANCE_CATEGORIES),
            "description": self.random.choice(GRIEVANCE_TEXTS),
            "complainant_name": self.name(self.random.choice(("male", "female"))),
            "complainant_phone": self.phone(),
            "against": self.random.choice(("", "", "BDO", "CO", "राशन डीलर")),
            "created_at": now - self.random.randint(0, 14 * 86_400_000),
        }


def uuid_from(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------- a phone over HTTP


@dataclass
class Exchange:
    status: int
    answer: dict | None
    seconds: float
    bytes_up: int
    bytes_down: int
    body_down: int


class Phone:
    """One device: its token, outbox seq and HLC; speaks HTTP like the app (no keep-alive:
    gunicorn's sync workers close each connection)."""

    def __init__(self, base_url: str, person: Person):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.person = person
        self.seq = 0
        self.counter = 0
        self.cursor = ""

    def hlc(self, now_ms: int) -> str:
        self.counter = (self.counter + 1) % 0xFFFF
        return f"{now_ms:013d}-{self.counter:04x}-{self.person.device_id}"

    def mutation(self, record_id, fields, base_version=None, entity="member") -> dict:
        self.seq += 1
        return {
            "seq": self.seq,
            "entity": entity,
            "op": "upsert",
            "id": record_id,
            "base_version": base_version,
            "hlc": self.hlc(int(time.time() * 1000)),
            "fields": fields,
        }

    def request(self, method, path, body: bytes | None = None, headers=None) -> Exchange:
        headers = {
            "Authorization": f"Bearer {self.person.token}",
            "Accept-Encoding": "gzip",
            **(headers or {}),
        }
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        head_down = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(
            str(response.msg).replace("\n", "\r\n")
        )
        head_up = len(f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n") + sum(
            len(k) + len(str(v)) + 4 for k, v in headers.items()
        )
        plain = gzip.decompress(raw) if response.getheader("Content-Encoding") == "gzip" else raw
        answer = json.loads(plain) if plain else None
        return Exchange(
            response.status,
            answer,
            seconds,
            head_up + len(body or b""),
            head_down + len(raw),
            len(raw),
        )

    def push(self, mutations: list[dict]) -> Exchange:
        body = json.dumps(
            {
                "device_id": self.person.device_id,
                "schema_version": 1,
                "client_time": int(time.time() * 1000),
                "mutations": mutations,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"Content-Type": "application/json"}
        if len(body) > GZIP_OVER:
            body = gzip.compress(body, 6)
            headers["Content-Encoding"] = "gzip"
        exchange = self.request("POST", "/api/sync/push", body, headers)
        if exchange.status != 200:
            raise RuntimeError(f"push answered {exchange.status}: {exchange.answer}")
        return exchange

    def pull_page(self, limit=500) -> Exchange:
        exchange = self.request(
            "GET", "/api/sync/pull?" + urlencode({"cursor": self.cursor, "limit": limit})
        )
        if exchange.status != 200:
            raise RuntimeError(f"pull answered {exchange.status}: {exchange.answer}")
        self.cursor = exchange.answer["cursor"]
        return exchange

    def pull_all(self, limit=500) -> list[Exchange]:
        pages = [self.pull_page(limit)]
        while pages[-1].answer["has_more"]:
            pages.append(self.pull_page(limit))
        return pages


def in_parallel(work, items, clients: int):
    """Yield `work(item)` for every item as each finishes, from `clients` threads; on an
    error or Ctrl-C the queued items are dropped instead of run to the end."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(clients)
    try:
        for future in as_completed([pool.submit(work, item) for item in items]):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def count_statuses(results) -> dict:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def first_problems(results, limit=3) -> list:
    """A few results that were neither applied nor merged, to print when something is off."""
    return [r for r in results if r["status"] not in ("applied", "merged")][:limit]
