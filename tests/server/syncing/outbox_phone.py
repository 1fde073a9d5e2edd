"""A phone that keeps its outbox and its journal as the app does (docs/protocol.md, "What
the app must do"): entries stay in the outbox until a push answer names them, then move to
the journal; when the server shows it has lost acknowledged entries (a `seq_gap` whose
`expected` the journal holds, or a `last_seq` below the journal's latest seq) they go back
into the outbox with their seqs, clocks and bases unchanged and are sent again."""

from tests.server.syncing.phone import Phone


class OutboxPhone(Phone):
    def __init__(self, client, make, user):
        super().__init__(client, make, user)
        self.outbox: list[dict] = []
        self.journal: dict[int, dict] = {}  # seq -> acknowledged mutation
        self.answers: dict[int, list[str]] = {}  # seq -> statuses heard, in order
        self.resets = 0
        self.requeued = 0

    def enqueue(self, entity, record_id, fields=None, base=None, op="upsert") -> dict:
        mutation = self.mutation(entity, record_id, fields, base, op)
        self.outbox.append(mutation)
        return mutation

    def requeue_from(self, first: int) -> bool:
        """Put journal entries from `first` on back ahead of the outbox; True if any."""
        back = [self.journal.pop(seq) for seq in sorted(self.journal) if seq >= first]
        self.outbox = back + self.outbox
        self.requeued += len(back)
        return bool(back)

    def push_outbox(self):
        while self.outbox:
            batch = self.outbox[:100]
            response = self.push_raw(batch)
            if response.status_code == 409 and response.json["error"]["code"] == "seq_gap":
                expected = response.json["error"]["fields"]["expected"]
                if self.requeue_from(expected):
                    continue
                # Lost on the phone too: number the outbox again from `expected` (the app's
                # renumbering), which the server never saw.
                for n, m in enumerate(self.outbox):
                    m["seq"] = expected + n
                self.seq = expected + len(self.outbox) - 1
                continue
            assert response.status_code == 200, response.json
            answer = response.json
            for result in answer["results"]:
                self.answers.setdefault(result["seq"], []).append(result["status"])
            results = {r["seq"]: r for r in answer["results"]}
            for m in batch:
                result = results.get(m["seq"])
                if result is None:
                    continue
                self.journal[m["seq"]] = m
                if result.get("record"):
                    self.keep(m["entity"], result)
            self.outbox = [m for m in self.outbox if m["seq"] not in results]

    def keep(self, entity, result):
        """A push answer's record, unless a newer version is held."""
        key = (entity, result["id"])
        held = self.seen.get(key)
        if held is None or held["version"] <= result["version"]:
            self.seen[key] = {
                "entity": entity,
                "id": result["id"],
                "version": result["version"],
                "deleted": result["record"].get("deleted", False),
                "record": result["record"],
            }

    def pull(self, limit=500):
        while True:
            answer = self.pull_page(limit)
            if answer["reset"]:
                self.resets += 1
                self.cursor, self.seen = "", {}
                continue
            for change in answer["changes"]:
                key = (change["entity"], change["id"])
                if change.get("removed"):
                    self.seen.pop(key, None)
                else:
                    held = self.seen.get(key)
                    if held is None or held["version"] <= change["version"]:
                        self.seen[key] = change
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                if self.journal and answer["last_seq"] < max(self.journal):
                    self.requeue_from(answer["last_seq"] + 1)
                return answer

    def sync(self):
        self.push_outbox()
        self.pull()
        if self.outbox:  # the pull found the server behind: send the journal again
            self.push_outbox()
            self.pull()

    def view(self):
        return {k: (v["version"], v["deleted"], v["record"]) for k, v in self.seen.items()}
