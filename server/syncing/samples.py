"""Sample members and grievances for the demo, written through the sync engine itself."""

import uuid

from server.accounts.models import Device, User
from server.auth import Actor
from server.extensions import db
from server.records import now_ms
from server.syncing.push import principal
from server.syncing.store import BatchStore
from sync.engine import apply_mutation
from sync.hlc import format_hlc
from sync.values import Mutation

NAMESPACE = uuid.UUID("6f1d2c3e-5b7a-4e8f-9a0b-1c2d3e4f5a6b")
MEMBER_FIELDS = ("name", "age", "gender", "phone", "skills")
MEMBERS = (
    ("सुनीता कुमारी", 22, "female", "9801234561", ["speaker", "social_media"]),
    ("राहुल महतो", 27, "male", "9801234562", ["organiser"]),
    ("Priya Oraon", 24, "female", "9801234563", ["social_media", "writing"]),
    ("अमित मुंडा", 31, "male", "9801234564", ["booth_management"]),
    ("रेखा देवी", 29, "female", "9801234564", ["speaker"]),  # a shared family phone
    ("Sanjay Lakra", 19, "male", "9801234566", ["other"]),
)
GRIEVANCE_FIELDS = ("category", "description", "against")
GRIEVANCES = (
    ("road", "गाँव की मुख्य सड़क बरसात में टूट गई है, एम्बुलेंस नहीं आ पाती।", ""),
    ("water", "टोला के दोनों हैंडपंप तीन हफ्ते से खराब हैं।", ""),
    ("ration", "डीलर ने दो महीने से पूरा राशन नहीं दिया।", "PDS dealer"),
)
APPROVED = 2  # the first members are already approved by the block president


def sample_id(kind, n):
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{n}"))


class Writer:
    """Applies mutations as one person from a fixed demo device, like a phone would."""

    def __init__(self, user: User):
        device_id = str(uuid.uuid5(NAMESPACE, f"device-{user.phone}"))
        device = db.session.get(Device, device_id)
        if device is None:
            device = Device(id=device_id, user_id=user.id, name="seed-demo")
            db.session.add(device)
            db.session.flush()
        self.actor = Actor(user, device)
        self.who = principal(self.actor)
        self.ticks = 0

    def apply(self, entity, record_id, fields, base=None):
        """Apply and write one mutation at once, so the next one (by anyone) sees it."""
        self.ticks += 1
        now = now_ms()
        stamp = format_hlc(now, self.ticks, self.actor.device_id)
        store = BatchStore(self.actor)
        store.begin()
        outcome = apply_mutation(
            store,
            self.who,
            Mutation(self.ticks, entity, "upsert", record_id, base, stamp, fields),
            now,
        )
        store.commit()
        store.flush()
        return outcome

    def exists(self, entity, record_id):
        return BatchStore(self.actor).load(entity, record_id) is not None


def new_samples(writer, entity, rows, columns, booth_id, **extra):
    """Write each sample row that is not there yet; yields (n, outcome) for those written."""
    for n, row in enumerate(rows):
        record_id = sample_id(entity, n)
        if writer.exists(entity, record_id):
            continue
        fields = {"booth_id": booth_id, **dict(zip(columns, row, strict=True)), **extra}
        yield n, writer.apply(entity, record_id, fields)


def seed_samples(volunteer: User, president: User) -> int:
    """Members and grievances of the volunteer's booth; records already there are kept."""
    booth_id = volunteer.unit_id
    writer, reviewer = Writer(volunteer), Writer(president)
    added = 0
    for n, outcome in new_samples(writer, "member", MEMBERS, MEMBER_FIELDS, booth_id, consent=True):
        if n < APPROVED:
            reviewer.apply(
                "member", outcome.record.id, {"status": "approved"}, base=outcome.record.version
            )
        added += 1
    for n, outcome in new_samples(writer, "grievance", GRIEVANCES, GRIEVANCE_FIELDS, booth_id):
        if n == 0:
            reviewer.apply(
                "grievance",
                outcome.record.id,
                {"status": "acknowledged"},
                base=outcome.record.version,
            )
            reviewer.apply(
                "grievance_note",
                sample_id("note", n),
                {
                    "grievance_id": outcome.record.id,
                    "text": "BDO से बात हुई, अगले हफ्ते मरम्मत शुरू होगी।",
                },
            )
        added += 1
    return added
