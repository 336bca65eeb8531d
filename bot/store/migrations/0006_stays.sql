-- Version 6: stays (issue 10). A member's stay runs from one join to one leave; stays are
-- numbered per member by `members.times_joined` (1 for the first join, 2 after a rejoin,
-- ...). Every outbox row and timer about a member belongs to one stay (`stay`); nothing
-- acts for a stay that has ended. Rows not about a member's stay (replies, notices to the
-- owner) have no stay (NULL).
-- (Numbered 6 while other features take 3 to 5; the runner applies them in order.)

ALTER TABLE outbox ADD COLUMN stay INTEGER;
ALTER TABLE timers ADD COLUMN stay INTEGER;

-- Open rows written before this version belong to the stay they were decided in: the
-- member's current one, or the one before if written before the current stay began.
UPDATE outbox SET stay = (
    SELECT CASE WHEN outbox.created_at < m.joined_at THEN m.times_joined - 1
                ELSE m.times_joined END
    FROM members m WHERE m.guild_id = outbox.guild_id AND m.user_id = outbox.user_id
)
WHERE status IN ('pending', 'sending') AND kind IN ('add_role', 'remove_role', 'dm');

UPDATE timers SET stay = (
    SELECT CASE WHEN timers.created_at < m.joined_at THEN m.times_joined - 1
                ELSE m.times_joined END
    FROM members m WHERE m.guild_id = timers.guild_id AND m.user_id = timers.user_id
)
WHERE status = 'scheduled';

-- Role changes and messages drain in separate lanes: each asks for its own kinds.
CREATE INDEX outbox_due_kind ON outbox (kind, not_before, id) WHERE status = 'pending';
-- The bot's own open role changes, which catch-up must not take for the owner's hand.
CREATE INDEX outbox_open_member ON outbox (guild_id, user_id)
    WHERE status IN ('pending', 'sending');
