"""Identity resolution: which anonymous ids, user ids and e-mail hashes are one person.

Ids that occur together (an identify or track message carrying both an anonymousId and a
userId, an alias, one e-mail address behind two user ids) are linked; each connected group of
ids is one person. Components are found by label propagation in SQL (each id takes the smallest
label among its neighbours until nothing changes), so it runs inside any engine, and the number
of rounds is the longest chain of links, which is short in practice.
"""

from __future__ import annotations

from collections.abc import Callable

from klantreis.store.engines.base import Engine

MAX_ROUNDS = 64

_EDGES = """
WITH msg AS (
    SELECT user_id, anonymous_id, previous_id, type,
           lower(trim(traits ->> '$.email')) AS email
    FROM events
),
nodes_pairs AS (
    SELECT 'a:' || anonymous_id AS a, 'u:' || user_id AS b FROM msg
    WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
    UNION
    SELECT 'u:' || previous_id, 'u:' || user_id FROM msg
    WHERE type = 'alias' AND previous_id IS NOT NULL AND user_id IS NOT NULL
    UNION
    SELECT 'a:' || previous_id, 'u:' || user_id FROM msg
    WHERE type = 'alias' AND previous_id IS NOT NULL AND user_id IS NOT NULL
    UNION
    SELECT 'u:' || user_id, 'e:' || sha256(email) FROM msg
    WHERE user_id IS NOT NULL AND email IS NOT NULL AND email <> ''
    UNION
    SELECT 'a:' || anonymous_id, 'a:' || anonymous_id FROM msg WHERE anonymous_id IS NOT NULL
    UNION
    SELECT 'u:' || user_id, 'u:' || user_id FROM msg WHERE user_id IS NOT NULL
)
SELECT a, b FROM nodes_pairs
UNION
SELECT b, a FROM nodes_pairs
"""

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

_IDENTITIES = """
WITH person AS (
    SELECT label,
           coalesce(min(CASE WHEN node LIKE 'u:%' THEN node END), min(node)) AS first_node
    FROM _kr_labels GROUP BY label
)
SELECT substr(l.node, 3) AS id,
       CASE substr(l.node, 1, 2) WHEN 'u:' THEN 'user_id' WHEN 'a:' THEN 'anonymous_id'
            ELSE 'email_hash' END AS id_kind,
       substr(p.first_node, 3) AS person_id
FROM _kr_labels AS l JOIN person AS p ON p.label = l.label
"""


def build_identities(engine: Engine, progress: Callable[[str], None] | None = None) -> int:
    """Build `identities (id, id_kind, person_id)`; returns the number of label rounds."""
    engine.create_table_as("_kr_edges", _EDGES)
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
    engine.create_table_as("identities", _IDENTITIES)
    for name in ("_kr_edges", "_kr_labels", "_kr_labels_next"):
        engine.execute(f"DROP TABLE IF EXISTS {name}")
    return rounds
