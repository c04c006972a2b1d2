ALTER TABLE build_files DROP CONSTRAINT build_files_entry_check,
    DROP COLUMN crc32, DROP COLUMN method, DROP COLUMN compressed_bytes, DROP COLUMN data_offset, DROP COLUMN header_offset;
