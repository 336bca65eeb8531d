"""Services: the follower pipeline, the outbox and the timers. No Discord types here."""
