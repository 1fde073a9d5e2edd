"""The notification a phone shows for a meeting alert: text in the person's language,
as JSON small enough for a push service (4,096 bytes once encrypted)."""

import json
from datetime import UTC, datetime, timedelta, timezone

# aes128gcm adds a 86-byte header (salt, record size, key id), a padding delimiter and a
# 16-byte tag: 4,096 - 103 bytes of plaintext are left.
MAX_PLAINTEXT = 4096 - 103
IST = timezone(timedelta(hours=5, minutes=30), "IST")

CREATED, CHANGED, CANCELLED = "created", "changed", "cancelled"
REMINDER_24H, REMINDER_1H = "reminder_24h", "reminder_1h"
KINDS = (CREATED, CHANGED, CANCELLED, REMINDER_24H, REMINDER_1H)

HEADINGS = {
    "hi": {
        CREATED: "नई बैठक: {title}",
        CHANGED: "बैठक में बदलाव: {title}",
        CANCELLED: "बैठक रद्द: {title}",
        REMINDER_24H: "कल बैठक: {title}",
        REMINDER_1H: "1 घंटे में बैठक: {title}",
    },
    "en": {
        CREATED: "New meeting: {title}",
        CHANGED: "Meeting changed: {title}",
        CANCELLED: "Meeting cancelled: {title}",
        REMINDER_24H: "Meeting tomorrow: {title}",
        REMINDER_1H: "Meeting in 1 hour: {title}",
    },
}
ACTIONS = {
    "hi": (("rsvp-yes", "आऊँगा"), ("rsvp-no", "नहीं आऊँगा"), ("rsvp-maybe", "शायद")),
    "en": (("rsvp-yes", "I'll come"), ("rsvp-no", "Can't come"), ("rsvp-maybe", "Maybe")),
}
ONLINE = {"hi": "ऑनलाइन", "en": "Online"}
MONTHS = {
    "hi": (
        "जनवरी",
        "फ़रवरी",
        "मार्च",
        "अप्रैल",
        "मई",
        "जून",
        "जुलाई",
        "अगस्त",
        "सितंबर",
        "अक्टूबर",
        "नवंबर",
        "दिसंबर",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
WEEKDAYS = {
    "hi": ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def language_of(user_language: str | None) -> str:
    """Hindi unless the person chose English."""
    return "en" if user_language == "en" else "hi"


def when(starts_at_ms: int, language: str) -> str:
    """The start in Indian time, the way people say it: "शनिवार, 23 नवंबर, 17:30"."""
    at = datetime.fromtimestamp(starts_at_ms / 1000, UTC).astimezone(IST)
    return (
        f"{WEEKDAYS[language][at.weekday()]}, {at.day} {MONTHS[language][at.month - 1]}, {at:%H:%M}"
    )


def snapshot(meeting, unit) -> dict:
    """The parts of a meeting an alert shows, frozen when the alert is raised."""
    return {
        "title": meeting.title,
        "agenda": meeting.agenda or "",
        "starts_at": meeting.starts_at,
        "place": meeting.place or "",
        "online_url": meeting.online_url or "",
        "unit_hi": unit.name_hi if unit else "",
        "unit_en": unit.name_en if unit else "",
    }


def _encode(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def build(kind: str, meeting_id: str, snap: dict, language: str, event_id: int = 0) -> bytes:
    """The JSON the service worker turns into a notification, at most MAX_PLAINTEXT bytes;
    a long agenda is cut (with "…") to fit. `event` lets the worker drop a repeat."""
    language = language_of(language)
    where = snap["place"] or (ONLINE[language] if snap["online_url"] else "")
    unit = snap["unit_hi" if language == "hi" else "unit_en"]
    facts = " · ".join(part for part in (when(snap["starts_at"], language), where, unit) if part)
    message = {
        "type": "meeting_" + ("reminder" if kind.startswith("reminder") else kind),
        "kind": kind,
        "event": event_id,
        "meeting_id": meeting_id,
        "lang": language,
        "title": HEADINGS[language][kind].format(title=snap["title"]),
        "body": facts,
        "url": f"/meetings/{meeting_id}",
        "tag": f"meeting-{meeting_id}",
        "starts_at": snap["starts_at"],
        "actions": []
        if kind == CANCELLED
        else [{"action": action, "title": title} for action, title in ACTIONS[language]],
    }
    agenda = snap["agenda"]
    full = dict(message, body=facts + ("\n" + agenda if agenda else ""))
    encoded = _encode(full)
    if len(encoded) <= MAX_PLAINTEXT:
        return encoded
    # Longest agenda prefix that fits: a binary search over characters, since Devanagari
    # takes three bytes a character and escapes vary.
    low, high = 0, len(agenda)
    best = _encode(message)
    while low <= high:
        mid = (low + high) // 2
        candidate = _encode(dict(message, body=facts + "\n" + agenda[:mid].rstrip() + "…"))
        if len(candidate) <= MAX_PLAINTEXT:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best
