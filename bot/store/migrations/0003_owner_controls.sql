-- Owner controls (issue 12): review verdicts, owner actions, command sync hashes, settings.

-- One verdict per held review: the primary key is the conditional update, so a double
-- click, two delegates at once or a stale message act once.
CREATE TABLE review_verdicts (
    decision_id       INTEGER PRIMARY KEY REFERENCES decisions (id),
    guild_id          INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    verdict           TEXT    NOT NULL,  -- approve, decline, follow, unfollow
    decided_by        INTEGER NOT NULL,
    decided_at        TEXT    NOT NULL,
    via               TEXT    NOT NULL,  -- button, command
    owner_decision_id INTEGER REFERENCES decisions (id)
);

-- Every owner action: who, what, when (and the policy version in force).
CREATE TABLE owner_actions (
    id             INTEGER PRIMARY KEY,
    actor_id       INTEGER NOT NULL,
    action         TEXT    NOT NULL,
    guild_id       INTEGER,
    user_id        INTEGER,
    detail         TEXT    NOT NULL DEFAULT '',
    policy_version TEXT    NOT NULL DEFAULT '',
    at             TEXT    NOT NULL
);
CREATE INDEX owner_actions_member ON owner_actions (guild_id, user_id, id);

-- The hash of the slash-command payloads last synced, per guild (0: global).
CREATE TABLE command_sync (
    scope        INTEGER PRIMARY KEY,
    payload_hash TEXT    NOT NULL,
    synced_at    TEXT    NOT NULL
);

-- Small durable settings the owner changes at run time (paused).
CREATE TABLE bot_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_by INTEGER,
    updated_at TEXT    NOT NULL
) WITHOUT ROWID;

-- Every review decision, with whether it is still pending: the member's latest decision,
-- still in the server, with no verdict yet. (A view: the query spans three tables.)
CREATE VIEW review_queue AS
SELECT d.id AS decision_id, d.guild_id, d.user_id, d.rule, d.decided_at AS held_at,
    d.policy_version, COALESCE(m.username, '') AS username,
    COALESCE(m.nick, m.global_name, m.username, '') AS display_name,
    (m.last_decision_id = d.id AND m.present = 1 AND v.decision_id IS NULL) AS pending
FROM decisions d
LEFT JOIN members m ON m.guild_id = d.guild_id AND m.user_id = d.user_id
LEFT JOIN review_verdicts v ON v.decision_id = d.id
WHERE d.action = 'review';
