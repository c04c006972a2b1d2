-- The order of library changes (beyond the seeds). A library stream resumes after the last
-- change id it sent, so the changes a stream can see must become visible in id order: once it
-- has read change n, no change below n may still be uncommitted. Until now one lock, taken by
-- every writer and held until commit, kept all ids in commit order, and so every settlement in
-- the store waited on every other. Streams only see their own player's changes and the changes
-- every owner of a game sees (a release published), so only those need an order:
--   * a player's change takes that player's lock, and the shared side of the store-wide lock;
--   * a change every owner sees (no player, no guest) takes the store-wide lock exclusively;
--   * a guest's change, which no stream shows, takes none.
-- Each takes its id under its locks, held until commit. Players' changes then wait only on the
-- same player's, and on a release being published.
CREATE FUNCTION library_changes_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(94880994); -- 0x5a7c4e2, the store-wide lock
        PERFORM pg_advisory_xact_lock(23165, hashtext(NEW.user_id::text)); -- 0x5a7d, the player's
    ELSIF NEW.guest_receipt_code IS NULL THEN
        PERFORM pg_advisory_xact_lock(94880994);
    END IF;
    IF NEW.user_id IS NOT NULL OR NEW.guest_receipt_code IS NULL THEN
        NEW.id := nextval(pg_get_serial_sequence('library_changes', 'id')); -- under the locks
    END IF;
    PERFORM pg_notify('satchel_library', NEW.id::text); -- postgres.LibraryChannel, at commit
    RETURN NEW;
END
$$;

CREATE TRIGGER library_changes_order BEFORE INSERT ON library_changes
    FOR EACH ROW EXECUTE FUNCTION library_changes_order();

-- The newest change every owner sees, for a player's resume token (postgres.LibraryRepo.Library).
CREATE INDEX library_changes_shared_idx ON library_changes (id) WHERE user_id IS NULL AND guest_receipt_code IS NULL;
