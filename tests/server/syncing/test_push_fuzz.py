"""Fuzzing the push endpoint with Hypothesis: batches of random mutations, of every entity
and both ops, mixing valid ones with hostile ones (NUL, lone surrogates, integers beyond
their columns, floats, wrong types, nested junk, long strings, unknown fields, broken ids,
another device's clock, a base above the record's version) and fully random ones.

Whatever the batch: never a 5xx; every mutation is answered, in seq order; a hostile one is
`rejected` with a field named; a rejected one leaves its record (and the conflict records
about it) exactly as they were; and the valid ones in the batch, after it too, still apply.
Derandomized and bounded, so it runs the same examples every time, in seconds.
"""

import itertools
import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.extensions import db
from server.records import now_ms
from server.syncing.models import Conflict
from server.syncing.registry import MODELS
from sync.hlc import format_hlc
from sync.protocol import UUID_RE
from tests.server.syncing.phone import Phone, member_fields, new_id

DAY = 86_400_000
TABLES = MODELS  # entity -> model, as the store keeps them
NOT_REJECTED = ("applied", "merged", "conflict")
TEXT_FIELDS = {
    "member": ("name", "notes", "status_reason", "gender", "phone", "epic"),
    "grievance": ("description", "complainant_name", "against", "category", "complainant_phone"),
    "grievance_note": ("text", "grievance_id"),
    "meeting": ("title", "agenda", "place", "online_url", "status"),
    "rsvp": ("answer", "meeting_id"),
    "conflict": (),
}
INT_FIELDS = {
    "member": ("booth_id", "age"),
    "grievance": ("booth_id", "created_at"),
    "meeting": ("starts_at", "unit_id"),
}
LIST_FIELDS = {"member": ("skills",), "meeting": ("audience_roles",)}
HUGE_INTS = (2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 2**64, 10**30)

_codes = itertools.count(1)
WAYS = (
    "text",
    "int",
    "list",
    "field_key",
    "unknown_field",
    "id",
    "entity",
    "op",
    "hlc_other",
    "hlc_broken",
    "unknown_key",
    "fields_type",
    "base_ahead",
)


# ---------------------------------------------------------------- value strategies


def with_char(char):
    return st.builds(lambda a, b: a + char + b, st.text(max_size=5), st.text(max_size=5))


nul_text = with_char("\x00")
surrogate_text = st.integers(0xD800, 0xDFFF).map(chr).flatmap(with_char)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | nul_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
# Values that no text field accepts.
bad_text = st.one_of(
    nul_text,
    surrogate_text,
    st.just("x" * 5001),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), junk, max_size=2),
)
# Values that no integer field accepts.
bad_int = st.one_of(
    st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    junk.filter(lambda v: not (type(v) is int or v is None)),
)
bad_list = st.one_of(
    st.lists(nul_text | surrogate_text, min_size=1, max_size=2),
    st.lists(st.lists(st.text(max_size=3)), min_size=1, max_size=2),
    st.just("speaker"),
    st.dictionaries(st.text(max_size=3), junk, min_size=1, max_size=2),
)
# Anything at all, for the fully random mutations: sometimes valid, mostly not.
anything = st.one_of(
    junk,
    bad_text,
    bad_int,
    st.integers(1, 40),
    st.just(now_ms()),
    st.sampled_from(["speaker", "male", "road", "yes", "pending", "new", "9876543210"]),
)


# ---------------------------------------------------------------- the world


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = type("World", (), {})()
    w.g, w.client, w.make = g, client, make
    w.president = make.user("block_president", g.k1)
    w.volunteer = make.user("volunteer", g.b1)
    w.mate = Phone(client, make, w.volunteer)  # a booth-mate, whose device id is not ours
    # A conflict record the president may resolve: two of his phones edit one name at once.
    first, second = Phone(client, make, w.president), Phone(client, make, w.president)
    member_id = new_id()
    v = first.send("member", member_id, member_fields(g.b2))["version"]
    assert first.send("member", member_id, {"name": "पहला"}, base=v)["status"] == "applied"
    lost = second.send("member", member_id, {"name": "दूसरा"}, base=v, hlc=second.hlc(-DAY))
    assert lost["status"] == "conflict"
    w.conflict_id = db.session.scalars(select(Conflict.id)).one()
    return w


def new_booth(w):
    n = next(_codes)
    booth = w.make.unit(
        "booth", f"FZ-{n}", f"Fuzz {n}", parent=w.g.p1, number=1000 + n, assembly_id=w.g.ac.id
    )
    db.session.commit()
    return booth


def current_version(entity, record_id):
    return db.session.execute(
        select(TABLES[entity].__table__.c.version).where(TABLES[entity].__table__.c.id == record_id)
    ).scalar_one()


def setup_records(w, phone, booth):
    """Records of this example that mutations may edit: two members, a grievance, a meeting."""
    ids = {"member": [new_id(), new_id()], "grievance": [new_id()], "meeting": [new_id()]}
    batch = [
        phone.mutation("member", i, member_fields(booth, name=f"सदस्य {i[:4]}"))
        for i in ids["member"]
    ]
    batch.append(
        phone.mutation(
            "grievance",
            ids["grievance"][0],
            {"booth_id": booth.id, "category": "water", "description": "हैंडपंप खराब"},
        )
    )
    batch.append(
        phone.mutation(
            "meeting",
            ids["meeting"][0],
            {
                "title": "प्रखंड बैठक",
                "starts_at": now_ms() + 3 * DAY,
                "unit_id": w.g.k1.id,
                "audience_roles": ["block_president", "volunteer"],
            },
        )
    )
    assert all(r["status"] == "applied" for r in phone.push(*batch)["results"])
    return ids


# ---------------------------------------------------------------- mutation strategies


def valid_spec(draw, w, booth, ids, free):
    """A mutation that must apply (status applied, merged or conflict)."""
    kinds = ["new_member", "new_grievance", "new_note", "new_rsvp"]
    kinds += [f"edit_{e}" for e in ("member", "grievance", "meeting") if free[e]]
    kinds += ["delete_member"] if free["member"] else []
    kinds += ["resolve_conflict"] if free["conflict"] else []
    kind = draw(st.sampled_from(kinds))
    n = next(_codes)
    if kind == "new_member":
        return {
            "entity": "member",
            "op": "upsert",
            "id": new_id(),
            "base_version": None,
            "fields": member_fields(booth, name=f"नया {n}", age=draw(st.integers(18, 35))),
        }
    if kind == "new_grievance":
        return {
            "entity": "grievance",
            "op": "upsert",
            "id": new_id(),
            "base_version": None,
            "fields": {"booth_id": booth.id, "category": "road", "description": f"सड़क {n}"},
        }
    if kind == "new_note":
        return {
            "entity": "grievance_note",
            "op": "upsert",
            "id": new_id(),
            "base_version": None,
            "fields": {"grievance_id": ids["grievance"][0], "text": f"नोट {n}"},
        }
    if kind == "new_rsvp":
        answer = draw(st.sampled_from(["yes", "no", "maybe"]))
        return {
            "entity": "rsvp",
            "op": "upsert",
            "id": new_id(),
            "base_version": None,
            "fields": {"meeting_id": ids["meeting"][0], "answer": answer},
        }
    if kind == "resolve_conflict":
        record_id = free["conflict"].pop()
        return {
            "entity": "conflict",
            "op": "upsert",
            "id": record_id,
            "base_version": current_version("conflict", record_id),
            "fields": {"resolved": draw(st.booleans())},
        }
    entity = kind.split("_", 1)[1]
    record_id = free[entity].pop(draw(st.integers(0, len(free[entity]) - 1)))
    base = current_version(entity, record_id)
    if kind == "delete_member":
        return {"entity": "member", "op": "delete", "id": record_id, "base_version": base}
    fields = {
        "member": {"notes": f"टिप्पणी {n}", "phone": "9123456780"},
        "grievance": {"against": f"BDO {n}"},
        "meeting": {"agenda": f"एजेंडा {n}"},
    }[entity]
    return {
        "entity": entity,
        "op": "upsert",
        "id": record_id,
        "base_version": base,
        "fields": fields,
    }


def hostile_spec(draw, w, phone, spec, order):
    """`spec` spoiled so it must be rejected; answers (spec, expected error code or None)."""
    entity, spec = spec["entity"], json.loads(json.dumps(spec))
    fields = spec.get("fields")
    ways = {"id", "entity", "op", "hlc_other", "hlc_broken", "unknown_key", "fields_type"}
    if spec["op"] == "upsert":
        ways |= {"text"} if TEXT_FIELDS[entity] else set()
        ways |= {"int"} if INT_FIELDS.get(entity) else set()
        ways |= {"list"} if LIST_FIELDS.get(entity) else set()
        ways |= {"field_key", "unknown_field"}
    if spec["base_version"] is not None:
        ways.add("base_ahead")
    # The example's own order of the ways (Hypothesis does not draw sampled_from uniformly):
    # the first that fits this mutation, so each example tries different ones.
    way = next(way for way in order if way in ways)
    order.remove(way)
    order.append(way)
    code = "validation_error"
    if way == "text":
        fields[draw(st.sampled_from(TEXT_FIELDS[entity]))] = draw(bad_text)
    elif way == "int":
        fields[draw(st.sampled_from(INT_FIELDS[entity]))] = draw(bad_int)
    elif way == "list":
        fields[draw(st.sampled_from(LIST_FIELDS[entity]))] = draw(bad_list)
    elif way == "field_key":
        fields[draw(nul_text | surrogate_text)] = "x"
    elif way == "unknown_field":
        fields[draw(st.sampled_from(["caste", "ref_no", "version", "id"]))] = draw(junk)
    elif way == "id":
        spec["id"] = draw(
            st.one_of(
                st.builds(lambda s: spec["id"] + s, nul_text | surrogate_text | st.just("\n")),
                st.text(max_size=40).filter(lambda t: not UUID_RE.match(t.lower())),
                junk.filter(lambda v: not isinstance(v, str) and v is not None),
            )
        )
    elif way == "entity":
        spec["entity"] = draw(
            st.one_of(
                st.builds(lambda s: entity + s, nul_text | surrogate_text),
                st.sampled_from(["members", "user", "", "MEMBER"]),
                junk.filter(lambda v: not isinstance(v, str)),
            )
        )
    elif way == "op":
        spec["op"] = draw(st.sampled_from(["merge", "upsert\x00", "DELETE", "", None, 1]))
    elif way == "hlc_other":
        spec["hlc"] = format_hlc(now_ms() + draw(st.integers(-DAY, 50_000)), 0, w.mate.device_id)
        code = "hlc_device_mismatch"
    elif way == "hlc_broken":
        spec["hlc"] = draw(
            st.one_of(
                st.just(phone.hlc() + "\n"),
                st.builds(lambda s: phone.hlc() + s, nul_text | surrogate_text),
                st.text(max_size=30),
                junk.filter(lambda v: not isinstance(v, str)),
            )
        )
    elif way == "unknown_key":
        spec[draw(st.sampled_from(["caste", "x\x00", "\ud800", "version"]))] = draw(junk)
    elif way == "fields_type":
        spec["fields"] = draw(junk.filter(lambda v: not isinstance(v, dict)) | st.just([]))
        if spec["op"] == "delete" and spec["fields"] is None:
            spec["fields"] = "junk"
    elif way == "base_ahead":
        spec["base_version"] += draw(st.integers(1, 1000))
        code = "base_ahead"
    return spec, code


def random_spec(draw, free):
    """Anything: any entity and op, an id new or existing, random fields."""
    entity = draw(st.sampled_from(list(TABLES)))
    pool = list(free.get(entity, []))
    record_id = draw(st.sampled_from(pool)) if pool and draw(st.booleans()) else new_id()
    if record_id in free.get(entity, []):
        free[entity].remove(record_id)
    names = [*TEXT_FIELDS[entity], *INT_FIELDS.get(entity, ()), *LIST_FIELDS.get(entity, ())]
    names += ["consent", "resolved", "status"]
    fields = draw(st.dictionaries(st.sampled_from(names), anything, max_size=4))
    return {
        "entity": entity,
        "op": draw(st.sampled_from(["upsert", "upsert", "delete"])),
        "id": record_id,
        "base_version": draw(st.none() | st.integers(0, 3) | st.sampled_from(HUGE_INTS)),
        "fields": fields,
    }


# ---------------------------------------------------------------- the checks


def rows_about(record_ids):
    """Each record's row, and the conflict records about it, as plain tuples."""
    found = {}
    for entity, model in TABLES.items():
        table = model.__table__
        for row in db.session.execute(select(table).where(table.c.id.in_(record_ids))):
            found[(entity, row.id)] = tuple(row)
    conflicts = Conflict.__table__
    for row in db.session.execute(select(conflicts).where(conflicts.c.record_id.in_(record_ids))):
        found[("about", row.record_id, row.id)] = tuple(row)
    return found


def stored_id(m):
    """The id a mutation names, when it is one a record could be stored under."""
    record_id = m.get("id")
    if isinstance(record_id, str) and UUID_RE.match(record_id.lower()):
        return record_id.lower()
    return None


def of_record(snapshot, record_id):
    return {k: v for k, v in snapshot.items() if record_id in k}


@settings(
    derandomize=True,
    database=None,
    max_examples=60,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_push_fuzz_never_fails_and_a_rejected_mutation_changes_nothing(world, data):
    w = world
    draw = data.draw
    booth = new_booth(w)
    phone = Phone(w.client, w.make, w.president)
    ids = setup_records(w, phone, booth)
    free = {entity: list(ids.get(entity, [])) for entity in TABLES}
    free["conflict"] = [w.conflict_id]

    specs = []  # (mutation, expectation: "valid", a rejection code, or None for random)
    order = list(draw(st.permutations(WAYS), label="order of the ways to spoil"))
    for _ in range(draw(st.integers(1, 8), label="size")):
        kind = draw(st.sampled_from(["valid", "valid", "hostile", "hostile", "random"]))
        if kind == "random":
            specs.append((random_spec(draw, free), None))
            continue
        spec = valid_spec(draw, w, booth, ids, free)
        if kind == "hostile":
            spec, code = hostile_spec(draw, w, phone, spec, order)
            specs.append((spec, code))
        else:
            specs.append((spec, "valid"))
    batch = []
    for spec, _expect in specs:
        phone.seq += 1
        batch.append({"seq": phone.seq, "hlc": phone.hlc(draw(st.integers(-DAY, 0))), **spec})
    # Only a well-formed id can name a stored record; each appears at most once in a batch.
    record_ids = [stored_id(m) for m in batch if stored_id(m)]
    before = rows_about(record_ids)

    response = phone.push_raw(batch)

    assert response.status_code == 200, response.get_data()[:500]
    answer = response.json
    assert [r["seq"] for r in answer["results"]] == [m["seq"] for m in batch]
    assert answer["last_seq"] == phone.seq
    after = rows_about(record_ids)
    for (_spec, expect), m, result in zip(specs, batch, answer["results"], strict=True):
        status = result["status"]
        assert status in (*NOT_REJECTED, "rejected"), result
        if expect == "valid":
            assert status in NOT_REJECTED, (m, result)
        elif expect is not None:
            assert status == "rejected", (m, result)
            assert result["error"]["fields"], result
            if expect != "validation_error":
                assert result["error"]["code"] == expect, (m, result)
        if status == "rejected":
            assert result["error"]["code"], result
            if stored_id(m):
                record_id = stored_id(m)
                assert of_record(after, record_id) == of_record(before, record_id), m
