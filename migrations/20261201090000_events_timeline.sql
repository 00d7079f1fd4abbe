-- A learner's timeline (their latest events, newest first) is read from this
-- index alone: a learner's events are spread over the whole table, so without
-- the columns included every event cost a heap page (10-15 ms for 100 events
-- on 5,000,000, against 0.1-0.3 ms index-only). It also serves everything the
-- (user_id, at) index it replaces did.
DROP INDEX events_user_at_idx;
CREATE INDEX events_user_timeline_idx ON events (user_id, at DESC, id DESC)
    INCLUDE (kind, node_id, verdict, battle_id, page);
