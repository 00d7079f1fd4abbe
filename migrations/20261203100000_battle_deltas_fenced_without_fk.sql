-- Storing battle deltas, the busiest write there is (every edit a player types:
-- 10,000 rows a second at 10,000 players), without the foreign key to battles.
--
-- The key checked each row with a query of its own: half of the insert's cost
-- (100,000 rows in batches of 2,000: 1.1-1.2 s with it, 0.5-0.7 s without). The
-- insert already joins battles, for the fencing check on the lease epoch, and
-- now takes the same KEY SHARE lock on the battle rows it joins that the key's
-- check took, so a battle cannot be deleted under a batch that stores its
-- deltas, and a delta is never stored for a battle that is not there. Deleting
-- battles deletes their deltas by the trigger below: what ON DELETE CASCADE did.
ALTER TABLE battle_deltas DROP CONSTRAINT battle_deltas_battle_id_fkey;

CREATE FUNCTION battle_deltas_go_with_their_battles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM battle_deltas d USING gone g WHERE d.battle_id = g.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER battles_deleted_take_their_deltas
    AFTER DELETE ON battles
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION battle_deltas_go_with_their_battles();
