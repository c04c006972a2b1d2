DROP TABLE build_files;
DROP TABLE uploads;
ALTER TABLE build_assets DROP COLUMN file_count, DROP COLUMN installed_bytes;
