-- Version 7: the daily digest. Each digest is stored as a snapshot of its pages, so its
-- page buttons (custom_id digest:{snapshot}:{page}) work after a restart and from DMs.
-- digest_state holds the last local date a scheduled digest was sent (exactly once per
-- local day) and when, for "since the last digest" and the new-item marks.

CREATE TABLE digest_snapshots (
    id         INTEGER PRIMARY KEY,
    local_date TEXT    NOT NULL,           -- the owner's day, YYYY-MM-DD
    reason     TEXT    NOT NULL,           -- scheduled, missed (at start-up) or on_demand
    pages      TEXT    NOT NULL DEFAULT '[]', -- the messages, in Discord's JSON shapes
    created_at TEXT    NOT NULL
);

CREATE TABLE digest_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_sent TEXT,                        -- local date of the last scheduled digest
    last_at   TEXT                         -- when it was built
);
INSERT INTO digest_state (id) VALUES (1);

-- Counts since the last digest and the 7-day trend read decisions by time.
CREATE INDEX decisions_decided ON decisions (decided_at);

-- What the digest reads across tables, as views (each table's own SQL stays in its
-- module): timers with the member's name and the rule that set them; follower actions
-- refused or left uncertain; members to suggest for clean-up.
CREATE VIEW digest_timer_items AS
SELECT t.id AS timer_id, t.kind, t.status, t.due, t.created_at,
    COALESCE(m.nick, m.global_name, m.username, CAST(t.user_id AS TEXT)) AS member,
    COALESCE(d.rule, '') AS rule
FROM timers t
LEFT JOIN members m ON m.guild_id = t.guild_id AND m.user_id = t.user_id
LEFT JOIN decisions d ON d.id = t.decision_id;

CREATE VIEW digest_action_items AS
SELECT o.id AS outbox_id, o.kind, o.status, o.last_error_code AS code,
    COALESCE(o.last_error, '') AS error, COALESCE(o.done_at, o.updated_at) AS at,
    COALESCE(m.nick, m.global_name, m.username, CAST(o.user_id AS TEXT)) AS member
FROM outbox o
LEFT JOIN members m ON m.guild_id = o.guild_id AND m.user_id = o.user_id
WHERE o.status IN ('failed', 'uncertain') AND o.kind IN ('dm', 'reply', 'add_role', 'remove_role');

-- silent: followed back, still there, no message counted; else: left soon after a
-- follow-back (churned). `since` is when it was followed back, or when it left.
CREATE VIEW digest_cleanup_items AS
SELECT COALESCE(nick, global_name, username) AS member, 1 AS silent, followed_at AS since
FROM members
WHERE followed = 1 AND present = 1 AND messages = 0 AND followed_at IS NOT NULL
UNION ALL
SELECT COALESCE(nick, global_name, username), 0, left_at
FROM members
WHERE present = 0 AND churned > 0 AND left_at IS NOT NULL;
