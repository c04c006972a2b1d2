DROP INDEX library_changes_shared_idx;
DROP TRIGGER library_changes_order ON library_changes;
DROP FUNCTION library_changes_order();
