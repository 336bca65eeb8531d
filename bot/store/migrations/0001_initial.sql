-- Followback schema, version 1.
-- Times are ISO-8601 UTC text with microseconds ("2026-11-25T01:45:46.000000+00:00"):
-- fixed width, so text comparison orders them correctly.

-- Every follower and mention event, stored before anything is done about it.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}',
    at           TEXT    NOT NULL,
    processed_at TEXT
);
CREATE INDEX events_unprocessed ON events (kind, id) WHERE processed_at IS NULL;

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    event_id       INTEGER REFERENCES events (id),
    rule           TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    due            TEXT,
    reply          TEXT,
    notify         TEXT,
    explanation    TEXT    NOT NULL,
    misses         TEXT    NOT NULL DEFAULT '[]',
    policy_version TEXT    NOT NULL DEFAULT '',
    observed       INTEGER NOT NULL DEFAULT 0,
    decided_at     TEXT    NOT NULL
);
CREATE INDEX decisions_member ON decisions (guild_id, user_id, id);

CREATE TABLE members (
    guild_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    username            TEXT    NOT NULL,
    global_name         TEXT,
    nick                TEXT,
    bot                 INTEGER NOT NULL DEFAULT 0,
    spammer             INTEGER NOT NULL DEFAULT 0,
    default_avatar      INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT,
    joined_at           TEXT,
    left_at             TEXT,
    present             INTEGER NOT NULL DEFAULT 1,
    pending             INTEGER NOT NULL DEFAULT 0,
    times_joined        INTEGER NOT NULL DEFAULT 0,
    times_rejoined      INTEGER NOT NULL DEFAULT 0,
    churned             INTEGER NOT NULL DEFAULT 0,
    messages            INTEGER NOT NULL DEFAULT 0,
    links               INTEGER NOT NULL DEFAULT 0,
    invites             INTEGER NOT NULL DEFAULT 0,
    attachments         INTEGER NOT NULL DEFAULT 0,
    everyone_pings      INTEGER NOT NULL DEFAULT 0,
    owner_mentions      INTEGER NOT NULL DEFAULT 0,
    followed            INTEGER NOT NULL DEFAULT 0,
    followed_at         TEXT,
    unfollowed_by_owner INTEGER NOT NULL DEFAULT 0,
    declined_before     INTEGER NOT NULL DEFAULT 0,
    last_decision_id    INTEGER REFERENCES decisions (id),
    first_seen_at       TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_joined ON members (guild_id, joined_at);
CREATE INDEX members_followed ON members (guild_id, user_id) WHERE followed = 1;

-- The durable outbox: role changes, DMs and replies, each sent at most once.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    decision_id     INTEGER REFERENCES decisions (id),
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    kind            TEXT    NOT NULL
        CHECK (kind IN ('add_role', 'remove_role', 'dm', 'reply')),
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
CREATE INDEX outbox_due ON outbox (not_before, id) WHERE status = 'pending';
CREATE INDEX outbox_in_doubt ON outbox (id) WHERE status = 'sending';
CREATE INDEX outbox_member ON outbox (guild_id, user_id);

-- Late follow-backs and observe windows; rebuilt into scheduler jobs at start.
CREATE TABLE timers (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('later', 'observe')),
    due         TEXT    NOT NULL,
    decision_id INTEGER REFERENCES decisions (id),
    status      TEXT    NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'fired', 'cancelled')),
    created_at  TEXT    NOT NULL,
    finished_at TEXT,
    outcome     TEXT
);
CREATE INDEX timers_scheduled ON timers (due, id) WHERE status = 'scheduled';
CREATE INDEX timers_member ON timers (guild_id, user_id);

-- Every DM sent, for the daily cap, the spacing and the per-person cooldown.
CREATE TABLE dm_log (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL,
    outbox_id INTEGER REFERENCES outbox (id),
    sent_at   TEXT    NOT NULL
);
CREATE INDEX dm_log_sent ON dm_log (sent_at);
CREATE INDEX dm_log_user ON dm_log (user_id, sent_at);

-- Reply variants are picked in turn, per template.
CREATE TABLE reply_rotation (
    template   TEXT PRIMARY KEY,
    next_index INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Auto-replies sent, for the per-person reply cooldown.
CREATE TABLE reply_log (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    template TEXT    NOT NULL,
    at       TEXT    NOT NULL
);
CREATE INDEX reply_log_user ON reply_log (guild_id, user_id, at);
