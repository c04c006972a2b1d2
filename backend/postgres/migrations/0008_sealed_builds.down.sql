-- Finished and closed slots did not exist before: forget them (their upload objects stay).
DELETE FROM uploads WHERE status <> 'OPEN';
ALTER TABLE uploads DROP COLUMN status;
