-- beyond the seeds: where each file of a build lies in its zip (the offset of its local header,
-- the offset and length of its compressed data, its method and CRC-32), so that the launcher
-- extracts a build as it streams in and fetches only the changed files of an update by HTTP
-- Range. NULL for the builds finished before this migration until `satchel-server
-- backfill-entries` reads their zips; every column is set, or none.
ALTER TABLE build_files
    ADD COLUMN header_offset    bigint CHECK (header_offset >= 0),
    ADD COLUMN data_offset      bigint CHECK (data_offset >= 30),
    ADD COLUMN compressed_bytes bigint CHECK (compressed_bytes >= 0),
    ADD COLUMN method           smallint CHECK (method IN (0, 8)), -- Store, Deflate
    ADD COLUMN crc32            bigint CHECK (crc32 BETWEEN 0 AND 4294967295),
    ADD CONSTRAINT build_files_entry_check CHECK (num_nulls(header_offset, data_offset, compressed_bytes, method, crc32) IN (0, 5));
