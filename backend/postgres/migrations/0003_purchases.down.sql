DROP TABLE library_changes;
DROP TABLE lightning_cursors;
DROP INDEX purchases_pending_idx;
ALTER TABLE purchases DROP COLUMN request_key, DROP COLUMN payment_request, DROP COLUMN expires_at, DROP COLUMN failure_reason;
