"""Identity resolution: which anonymous ids, user ids and e-mail hashes are one person.

A person is one account: a user id, plus the user ids an `alias` message declares to be the
same account (`previous_id` → `user_id`, where `previous_id` was never seen as an anonymous
id). Anonymous ids (devices, cookies) and e-mail hashes join the account they were seen with
(an identify or track message carrying both ids, an alias from a device's anonymous id, an
e-mail in the traits of a user id's message). Anonymous ids seen with no account are persons
of their own.

Real identity graphs need guards, or one shared value glues thousands of customers together
(a family laptop, a shared `info@` address, a tracking plan that sends `"null"`). So:

- **Placeholders are not identifiers.** `null`, `undefined`, `0`, `none`, ``(empty after
  trimming)… as an id, and e-mail addresses like `test@…` or without `@`, link nothing; an
  event that carries one is attributed by its other id.
- **Caps per person.** A person holds at most `CAPS[kind]` identifiers of each kind: one
  account (user ids merged by alias count once), `CAPS['anonymous_id']` devices and
  `CAPS['email_hash']` e-mail addresses. An anonymous id or e-mail seen with a second account
  stays with the account that had it first; the merge is refused. A device beyond the cap
  becomes a person of its own; an e-mail beyond the cap is dropped.
- **Refusals are reported**, one row per refused link or placeholder, in the derived table
  `identity_quarantine (id, id_kind, user_id, person_id, reason, messages, first_seen)`,
  counted by `klantreis stats`.

Everything is set-based SQL (group-bys and window ranks over the distinct id pairs), so it runs
on any engine and costs a few scans of `events` at 10M events. Only alias chains between user
ids need label propagation (each id takes the smallest label among its neighbours until
nothing changes); those chains are short and rare.
"""

from __future__ import annotations

from collections.abc import Callable

from klantreis.model.contract import shaped, sourced
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

MAX_ROUNDS = 64

CAPS: dict[str, int] = {"user_id": 1, "anonymous_id": 100, "email_hash": 5}
"""Identifiers of each kind one person may hold. `user_id` counts accounts (alias-merged user
ids are one account); 100 devices or cookies, 5 e-mail addresses are generous for a customer
and far below what a shared or test login collects."""

PLACEHOLDER_IDS = (
    "",
    "null",
    "undefined",
    "none",
    "nil",
    "nan",
    "0",
    "-1",
    "unknown",
    "anonymous",
    "n/a",
    "[object object]",
)
"""Values (compared lower-cased, trimmed) that tracking code sends when it has no id."""

PLACEHOLDER_EMAIL_NAMES = (
    "test",
    "null",
    "undefined",
    "none",
    "noreply",
    "no-reply",
    "example",
    "email",
)
"""Local parts of e-mail addresses that stand for nobody (`test@shop.nl`, `noreply@…`)."""

REASONS = {
    "shared_anonymous_id": "anonymous id already belongs to another person",
    "shared_email": "e-mail already belongs to another person",
    "too_many_anonymous_ids": f"more than {CAPS['anonymous_id']} anonymous ids for one person",
    "too_many_emails": f"more than {CAPS['email_hash']} e-mail addresses for one person",
    "placeholder": "placeholder value, not an identifier",
}
"""What each `identity_quarantine.reason` means (shown by `klantreis stats`)."""

IDENTITIES = register_table(
    TableSpec(
        "identities",
        columns=columns(("id", "VARCHAR"), ("id_kind", "VARCHAR"), ("person_id", "VARCHAR")),
        key=("id", "id_kind"),
        person_id_columns=("person_id",),
        derived=True,
        doc="every identifier (`user_id`, `anonymous_id`, `email_hash`) and its person",
    )
)
IDENTITY_QUARANTINE = register_table(
    TableSpec(
        "identity_quarantine",
        columns=columns(
            ("id", "VARCHAR"),
            ("id_kind", "VARCHAR"),
            ("user_id", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("reason", "VARCHAR"),
            ("messages", "BIGINT"),
            ("first_seen", "TIMESTAMP"),
        ),
        person_columns=("id", "user_id"),
        person_id_columns=("person_id",),
        derived=True,
        doc="links identity stitching refused, with the reason",
    )
)
IDENTITY_NODES = register_table(
    TableSpec(
        "identity_nodes",
        columns=columns(
            ("kind", "VARCHAR"),
            ("id", "VARCHAR"),
            ("messages", "BIGINT"),
            ("first_seen", "TIMESTAMP"),
            ("placeholder", "BOOLEAN"),
        ),
        key=("kind", "id"),
        person_columns=("id",),
        derived=True,
        doc="every user id and anonymous id once: messages, first seen, placeholder or not",
    )
)
IDENTITY_EMAILS = register_table(
    TableSpec(
        "identity_emails",
        columns=columns(
            ("user_id", "VARCHAR"),
            ("email", "VARCHAR"),
            ("first_seen", "TIMESTAMP"),
            ("messages", "BIGINT"),
            ("placeholder", "BOOLEAN"),
        ),
        key=("user_id", "email"),
        person_columns=("user_id", "email"),
        derived=True,
        doc="every (user id, e-mail) seen in traits; the e-mail hashed unless a placeholder",
    )
)
IDENTITY_LINKS = register_table(
    TableSpec(
        "identity_links",
        columns=columns(
            ("kind", "VARCHAR"),
            ("x", "VARCHAR"),
            ("user_id", "VARCHAR"),
            ("first_seen", "TIMESTAMP"),
            ("messages", "BIGINT"),
        ),
        key=("kind", "x", "user_id"),
        person_columns=("x", "user_id"),
        derived=True,
        doc="every (anonymous id or alias, user id) pair seen together",
    )
)
"""`identity_nodes`, `identity_emails` and `identity_links` are the only scans of `events` the
stitching needs; they are sums and minimums, so a refresh adds the new events' counts to them
and stitches again from these small tables instead of every event."""


_NODES = """
SELECT kind, id, count(*) AS messages, min(timestamp) AS first_seen,
       lower(trim(id)) IN :placeholders AS placeholder
FROM (
    SELECT 'user_id' AS kind, user_id AS id, timestamp FROM events WHERE user_id IS NOT NULL
    UNION ALL
    SELECT 'anonymous_id', anonymous_id, timestamp FROM events WHERE anonymous_id IS NOT NULL
) AS n
GROUP BY kind, id
"""
"""Every id once, with how many messages carry it and whether it is a placeholder."""

_EMAILS = """
SELECT user_id, CASE WHEN placeholder THEN email ELSE sha256(email) END AS email, first_seen,
       messages, placeholder
FROM (
    SELECT user_id, email, min(timestamp) AS first_seen, count(*) AS messages,
           email NOT LIKE '_%@_%'
               OR substr(email, 1, strpos(email, '@') - 1) IN :placeholder_names AS placeholder
    FROM (
        SELECT user_id, lower(trim(traits ->> '$.email')) AS email, timestamp FROM events
        WHERE traits IS NOT NULL
    ) AS t
    WHERE email IS NOT NULL AND email <> ''
    GROUP BY user_id, email
) AS a
"""
"""Every (user id, e-mail address) seen in traits, with whether the address stands for nobody;
kept as its hash (a placeholder address is kept as written: the quarantine shows it)."""

_LINKS = """
SELECT kind, x, user_id, min(timestamp) AS first_seen, count(*) AS messages
FROM (
    SELECT 'anonymous_id' AS kind, anonymous_id AS x, user_id, timestamp FROM events
    WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
      AND NOT lower(trim(anonymous_id)) IN :placeholders
    UNION ALL
    SELECT 'alias', previous_id, user_id, timestamp FROM events
    WHERE type = 'alias' AND previous_id IS NOT NULL AND user_id IS NOT NULL
      AND NOT lower(trim(previous_id)) IN :placeholders
) AS p
WHERE NOT lower(trim(user_id)) IN :placeholders
GROUP BY kind, x, user_id
"""
"""Distinct (identifier, user id) pairs seen together: with the e-mails, the only evidence that
links ids."""

_MERGE: dict[str, tuple[str, str]] = {
    "identity_nodes": (
        """
UPDATE identity_nodes AS t
SET messages = t.messages + n.messages, first_seen = least(t.first_seen, n.first_seen),
    placeholder = t.placeholder OR n.placeholder
FROM _kr_new_identity_nodes AS n WHERE t.kind = n.kind AND t.id = n.id
""",
        """
SELECT n.* FROM _kr_new_identity_nodes AS n
ANTI JOIN identity_nodes AS t ON t.kind = n.kind AND t.id = n.id
""",
    ),
    "identity_emails": (
        """
UPDATE identity_emails AS t
SET first_seen = least(t.first_seen, n.first_seen), messages = t.messages + n.messages,
    placeholder = t.placeholder OR n.placeholder
FROM _kr_new_identity_emails AS n
WHERE t.user_id IS NOT DISTINCT FROM n.user_id AND t.email = n.email
""",
        """
SELECT n.* FROM _kr_new_identity_emails AS n
ANTI JOIN identity_emails AS t ON t.user_id IS NOT DISTINCT FROM n.user_id AND t.email = n.email
""",
    ),
    "identity_links": (
        """
UPDATE identity_links AS t
SET first_seen = least(t.first_seen, n.first_seen), messages = t.messages + n.messages
FROM _kr_new_identity_links AS n WHERE t.kind = n.kind AND t.x = n.x AND t.user_id = n.user_id
""",
        """
SELECT n.* FROM _kr_new_identity_links AS n
ANTI JOIN identity_links AS t ON t.kind = n.kind AND t.x = n.x AND t.user_id = n.user_id
""",
    ),
}
"""How each aggregate takes in the new events' rows: the stored row of the same key is updated
(counts add up, first-seen is the minimum), a new key inserted, so it holds the rows an
aggregate of all events would. The rows of ids the new events do not carry stay as they are, in
place: at 10M events `identity_nodes` holds about a million ids, and writing them all again was
about a tenth of a refresh's CPU (docs/scaling.md)."""

_PAIRS = """
SELECT kind, x, user_id, first_seen, messages FROM identity_links
UNION ALL
SELECT 'email_hash', email, user_id, min(first_seen), sum(messages) FROM identity_emails
WHERE user_id IS NOT NULL AND NOT placeholder AND NOT lower(trim(user_id)) IN :placeholders
GROUP BY email, user_id
"""

_ALIAS_EDGES = """
WITH e AS (
    SELECT p.x AS a, p.user_id AS b FROM _kr_pairs AS p
    LEFT JOIN identity_nodes AS n ON n.kind = 'anonymous_id' AND n.id = p.x
    WHERE p.kind = 'alias' AND p.x <> p.user_id AND n.id IS NULL
)
SELECT a, b FROM e UNION SELECT b, a FROM e
"""
"""Alias messages from an id never seen as an anonymous id (an earlier user id) to a user id:
the shop says they are one account. An alias from a device's anonymous id is a device link."""

_INIT = "SELECT DISTINCT a AS node, a AS label FROM _kr_edges"

_ROUND = """
SELECT l.node, least(l.label, min(n.label)) AS label
FROM _kr_labels AS l
JOIN _kr_edges AS e ON e.a = l.node
JOIN _kr_labels AS n ON n.node = e.b
GROUP BY l.node, l.label
"""

_CHANGED = """
SELECT count(*) FROM _kr_labels AS old JOIN _kr_labels_next AS new ON old.node = new.node
WHERE old.label <> new.label
"""

_ACCOUNTS = """
WITH u AS (
    SELECT id FROM identity_nodes WHERE kind = 'user_id' AND NOT placeholder
    UNION
    SELECT a FROM _kr_edges
)
SELECT u.id AS user_id, coalesce(l.label, u.id) AS account
FROM u LEFT JOIN _kr_labels AS l ON l.node = u.id
"""

_ATTACH = """
WITH links AS (
    SELECT CASE WHEN p.kind = 'alias' THEN 'anonymous_id' ELSE p.kind END AS kind,
           p.x, a.account, min(p.user_id) AS user_id, min(p.first_seen) AS first_seen,
           sum(p.messages) AS messages
    FROM _kr_pairs AS p
    JOIN _kr_accounts AS a ON a.user_id = p.user_id
    LEFT JOIN identity_nodes AS device ON p.kind = 'alias' AND device.kind = 'anonymous_id'
                                 AND device.id = p.x
    WHERE p.kind <> 'alias' OR device.id IS NOT NULL
    GROUP BY 1, 2, 3
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY kind, x ORDER BY first_seen, account) AS owner_rank
    FROM links
),
held AS (
    SELECT kind, x, row_number() OVER (
               PARTITION BY account, kind ORDER BY first_seen, x) AS held_rank
    FROM ranked WHERE owner_rank = 1
)
SELECT r.kind, r.x, r.account, r.user_id, r.first_seen, r.messages, r.owner_rank,
       h.held_rank, o.account AS owner
FROM ranked AS r
LEFT JOIN held AS h ON h.kind = r.kind AND h.x = r.x AND r.owner_rank = 1
LEFT JOIN ranked AS o ON o.kind = r.kind AND o.x = r.x AND o.owner_rank = 1
"""
"""Each (identifier, account) link with its rank: `owner_rank` 1 is the account that had the
identifier first; `held_rank` is the identifier's place among its owner's ids of that kind."""


_LINKED = """
SELECT user_id AS id, 'user_id' AS id_kind, account AS person_id FROM _kr_accounts
UNION ALL
SELECT x, kind, account FROM _kr_attach
WHERE owner_rank = 1 AND held_rank <= CASE kind WHEN 'anonymous_id' THEN :anonymous_cap
                                                 ELSE :email_cap END
"""
"""Every account's user ids and the devices and e-mails it holds: the rows stitching decides."""

_IDENTITIES = (
    _LINKED
    + """
UNION ALL
SELECT n.id, 'anonymous_id', n.id FROM identity_nodes AS n
LEFT JOIN _kr_attach AS t
       ON t.kind = 'anonymous_id' AND t.x = n.id AND t.owner_rank = 1
          AND t.held_rank <= :anonymous_cap
WHERE n.kind = 'anonymous_id' AND NOT n.placeholder AND t.x IS NULL
"""
)
"""The linked rows, and every other anonymous id as a person of its own (most of them: at
10M events 0.85 of a million identities)."""

_OLD_ROWS = """
SELECT i.rowid AS row_id, i.* FROM identities AS i
WHERE NOT (i.id_kind = 'anonymous_id' AND i.person_id = i.id)
   OR (i.id_kind = 'anonymous_id'
       AND (i.id IN (SELECT id FROM _kr_new_identity_nodes WHERE kind = 'anonymous_id')
            OR i.id IN (SELECT id FROM _kr_linked WHERE id_kind = 'anonymous_id')))
"""
"""The identities a refresh may change, as they were: every linked one (not an anonymous id
that is its own person), those linked now, and the new events' anonymous ids. Any other row is
an anonymous id that was a person of its own, is one still (it is not linked now) and stays
as it was: at 10M events 0.85 of a million rows."""

_NEW_ROWS = """
SELECT * FROM _kr_linked
UNION ALL
SELECT t.id, 'anonymous_id', t.id FROM (
    SELECT id FROM _kr_old_identities WHERE id_kind = 'anonymous_id'
    UNION
    SELECT id FROM _kr_new_identity_nodes WHERE kind = 'anonymous_id' AND NOT placeholder
) AS t
ANTI JOIN _kr_linked AS l ON l.id_kind = 'anonymous_id' AND l.id = t.id
"""
"""The same identities as `_IDENTITIES` makes them (and the new ones): linked, or an anonymous
id of its own."""

_DELETE_OLD = "DELETE FROM identities WHERE rowid IN (SELECT row_id FROM _kr_old_identities)"


_QUARANTINE = """
SELECT x AS id, kind AS id_kind, user_id, owner AS person_id,
       CASE WHEN kind = 'anonymous_id' THEN 'shared_anonymous_id' ELSE 'shared_email' END
           AS reason,
       messages, first_seen
FROM _kr_attach WHERE owner_rank > 1
UNION ALL
SELECT x, kind, user_id, CASE WHEN kind = 'anonymous_id' THEN x END,
       CASE WHEN kind = 'anonymous_id' THEN 'too_many_anonymous_ids' ELSE 'too_many_emails' END,
       messages, first_seen
FROM _kr_attach
WHERE owner_rank = 1 AND held_rank > CASE kind WHEN 'anonymous_id' THEN :anonymous_cap
                                                ELSE :email_cap END
UNION ALL
SELECT id, kind, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), 'placeholder', messages,
       first_seen
FROM identity_nodes WHERE placeholder
UNION ALL
SELECT email, 'email', CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), 'placeholder',
       sum(messages), min(first_seen)
FROM identity_emails WHERE placeholder GROUP BY email
"""

_WORK_TABLES = (
    "_kr_pairs",
    "_kr_edges",
    "_kr_labels",
    "_kr_labels_next",
    "_kr_accounts",
    "_kr_attach",
)

_AGGREGATES: dict[str, tuple[TableSpec, str, dict[str, tuple[str, ...]]]] = {
    "identity_nodes": (IDENTITY_NODES, _NODES, {"placeholders": PLACEHOLDER_IDS}),
    "identity_emails": (IDENTITY_EMAILS, _EMAILS, {"placeholder_names": PLACEHOLDER_EMAIL_NAMES}),
    "identity_links": (IDENTITY_LINKS, _LINKS, {"placeholders": PLACEHOLDER_IDS}),
}


def collect_identifiers(engine: Engine, events: str = "events") -> None:
    """Aggregate the ids of every event in `events` into the `identity_*` tables."""
    for name, (spec, sql, params) in _AGGREGATES.items():
        query = sourced(Query(sql, **params), {"events": events})
        engine.create_table_as(name, shaped(spec, query))


def add_identifiers(engine: Engine, new_events: str) -> None:
    """Add the ids of the events in `new_events` to the `identity_*` tables: the rows of ids
    seen before are updated, those of new ids inserted, every other row stays as it is. The new
    events' own aggregates are left as `_kr_new_identity_*` (for `restitch_identities`) for the
    caller to drop."""
    for name, (spec, sql, params) in _AGGREGATES.items():
        query = sourced(Query(sql, **params), {"events": new_events})
        new = f"_kr_new_{name}"
        engine.create_table_as(new, shaped(spec, query))
        update, insert = _MERGE[name]
        engine.execute(update)
        engine.insert_into(name, insert)


def _stitch(engine: Engine, progress: Callable[[str], None] | None) -> int:
    """`_kr_accounts` (user id → account) and `_kr_attach` (each link ranked) from the
    aggregates; returns the label rounds the alias chains needed."""
    engine.create_table_as("_kr_pairs", Query(_PAIRS, placeholders=PLACEHOLDER_IDS))
    engine.create_table_as("_kr_edges", _ALIAS_EDGES)
    engine.create_table_as("_kr_labels", _INIT)
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):
        engine.create_table_as("_kr_labels_next", _ROUND)
        changed = engine.scalar(_CHANGED) or 0
        engine.create_table_as("_kr_labels", "SELECT * FROM _kr_labels_next")
        if progress:
            progress(f"identity round {rounds}: {changed} ids relabelled")
        if changed == 0:
            break
    engine.create_table_as("_kr_accounts", _ACCOUNTS)
    engine.create_table_as("_kr_attach", _ATTACH)
    return rounds


_CAPS = {"anonymous_cap": CAPS["anonymous_id"], "email_cap": CAPS["email_hash"]}


def _quarantine(engine: Engine) -> None:
    engine.create_table_as(
        "identity_quarantine", shaped(IDENTITY_QUARANTINE, Query(_QUARANTINE, **_CAPS))
    )
    for name in _WORK_TABLES:
        engine.execute(f"DROP TABLE IF EXISTS {name}")


def build_identities(engine: Engine, progress: Callable[[str], None] | None = None) -> int:
    """Build `identities (id, id_kind, person_id)` and `identity_quarantine` from every event.

    Returns the number of label rounds the alias chains needed.
    """
    collect_identifiers(engine)
    rounds = _stitch(engine, progress)
    engine.create_table_as("identities", shaped(IDENTITIES, Query(_IDENTITIES, **_CAPS)))
    _quarantine(engine)
    return rounds


def restitch_identities(engine: Engine, progress: Callable[[str], None] | None = None) -> int:
    """Stitch again after `add_identifiers` (whose `_kr_new_identity_nodes` it reads), changing
    only the rows of `identities` that may change (`_OLD_ROWS`): the result is the table
    `build_identities` makes, without writing the anonymous ids that stay persons of their own.

    Leaves the touched rows before (`_kr_old_identities`) and after (`_kr_identity_rows`) for
    the caller to see which ids moved, and to drop.
    """
    rounds = _stitch(engine, progress)
    engine.create_table_as("_kr_linked", shaped(IDENTITIES, Query(_LINKED, **_CAPS)))
    engine.create_table_as("_kr_old_identities", _OLD_ROWS)
    engine.create_table_as("_kr_identity_rows", shaped(IDENTITIES, _NEW_ROWS))
    engine.execute(_DELETE_OLD)
    engine.insert_into("identities", "SELECT * FROM _kr_identity_rows")
    _quarantine(engine)
    engine.execute("DROP TABLE IF EXISTS _kr_linked")
    return rounds
