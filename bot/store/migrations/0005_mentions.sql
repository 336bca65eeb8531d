-- Version 5: mentions of the owner or the bot, stored before anything is done about them,
-- with their decision (and its explanation) and what came of it; and, per channel, the
-- last message the bot saw, so a start finds the mentions posted while it was down.
-- (Numbered 5 while other features take 3 and 4; the runner applies them in order.)

CREATE TABLE mentions (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    channel_name     TEXT    NOT NULL DEFAULT '',
    parent_id        INTEGER NOT NULL DEFAULT 0,  -- a thread's channel, else 0
    parent_name      TEXT    NOT NULL DEFAULT '',
    message_id       INTEGER NOT NULL UNIQUE,     -- one message, one mention
    author_id        INTEGER NOT NULL,
    author_name      TEXT    NOT NULL,
    author_kind      TEXT    NOT NULL DEFAULT 'user',  -- user, bot, webhook, system
    text             TEXT,                        -- NULL: unknown (no message-content intent)
    mentions_owner   INTEGER NOT NULL DEFAULT 0,
    mentions_bot     INTEGER NOT NULL DEFAULT 0,
    replies_to_owner INTEGER NOT NULL DEFAULT 0,
    posted_at        TEXT    NOT NULL,
    source           TEXT    NOT NULL DEFAULT 'live',  -- live or catch_up
    stored_at        TEXT    NOT NULL,
    -- the decision
    rule             TEXT,
    action           TEXT,
    template         TEXT,
    explanation      TEXT,
    policy_version   TEXT,
    decided_at       TEXT,
    -- what came of it
    status           TEXT    NOT NULL DEFAULT 'received',
    outcome          TEXT,
    timer_id         INTEGER REFERENCES timers (id),
    outbox_id        INTEGER REFERENCES outbox (id),
    variant          INTEGER,
    settled_at       TEXT
);
CREATE INDEX mentions_open ON mentions (channel_id, id) WHERE status IN ('received', 'waiting');
CREATE INDEX mentions_timer ON mentions (timer_id) WHERE timer_id IS NOT NULL;
CREATE INDEX mentions_replied ON mentions (channel_id, settled_at) WHERE outbox_id IS NOT NULL;
CREATE INDEX mentions_person ON mentions (guild_id, author_id, template, id)
    WHERE variant IS NOT NULL;
CREATE INDEX mentions_posted ON mentions (posted_at);

CREATE TABLE channel_cursors (
    channel_id      INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    last_message_id INTEGER NOT NULL,
    seen_at         TEXT    NOT NULL
);
