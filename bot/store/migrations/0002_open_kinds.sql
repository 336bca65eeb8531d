-- Version 2: the kinds of outbox rows and timers are no longer listed in CHECKs, so a
-- new kind (owner_dm now; mention waits and the digest next) needs no table rebuild.
-- The store refuses a kind its StrEnums (bot/store/kinds.py) do not name.
-- SQLite cannot drop a CHECK in place: each table is rebuilt, keeping ids and rows.
-- dm_log refers to outbox, so it is set aside first and put back after.

CREATE TABLE dm_log_copy AS SELECT id, user_id, outbox_id, sent_at FROM dm_log;
DROP TABLE dm_log;

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    decision_id     INTEGER REFERENCES decisions (id),
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'done', 'failed', 'uncertain', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TEXT    NOT NULL,
    last_error_code INTEGER,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    done_at         TEXT,
    result          TEXT
);
INSERT INTO outbox_new (id, decision_id, guild_id, user_id, kind, payload, status, attempts,
    not_before, last_error_code, last_error, created_at, updated_at, done_at, result)
SELECT id, decision_id, guild_id, user_id,
    -- a notice to the owner was a dm flagged in its payload; now it has its own kind
    CASE WHEN kind = 'dm' AND json_extract(payload, '$.owner_notice') THEN 'owner_dm'
         ELSE kind END,
    CASE WHEN kind = 'dm' AND json_extract(payload, '$.owner_notice')
         THEN json_remove(payload, '$.owner_notice') ELSE payload END,
    status, attempts, not_before, last_error_code, last_error, created_at, updated_at,
    done_at, result
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE status = 'pending';
CREATE INDEX outbox_in_doubt ON outbox (id) WHERE status = 'sending';
CREATE INDEX outbox_member ON outbox (guild_id, user_id);

CREATE TABLE dm_log (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL,
    outbox_id INTEGER REFERENCES outbox (id),
    sent_at   TEXT    NOT NULL
);
INSERT INTO dm_log (id, user_id, outbox_id, sent_at)
SELECT id, user_id, outbox_id, sent_at FROM dm_log_copy;
DROP TABLE dm_log_copy;
CREATE INDEX dm_log_sent ON dm_log (sent_at);
CREATE INDEX dm_log_user ON dm_log (user_id, sent_at);

CREATE TABLE timers_new (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    due         TEXT    NOT NULL,
    decision_id INTEGER REFERENCES decisions (id),
    status      TEXT    NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'fired', 'cancelled')),
    created_at  TEXT    NOT NULL,
    finished_at TEXT,
    outcome     TEXT
);
INSERT INTO timers_new (id, guild_id, user_id, kind, due, decision_id, status, created_at,
    finished_at, outcome)
SELECT id, guild_id, user_id, kind, due, decision_id, status, created_at, finished_at, outcome
FROM timers;
DROP TABLE timers;
ALTER TABLE timers_new RENAME TO timers;
CREATE INDEX timers_scheduled ON timers (due, id) WHERE status = 'scheduled';
CREATE INDEX timers_member ON timers (guild_id, user_id);
