-- Builds: upload slots and build manifests. Both tables are beyond the seeds.

-- beyond the seeds: a build's file count and installed size, from its manifest.
ALTER TABLE build_assets
    ADD COLUMN file_count      bigint NOT NULL DEFAULT 0 CHECK (file_count >= 0),
    ADD COLUMN installed_bytes bigint NOT NULL DEFAULT 0 CHECK (installed_bytes >= 0);

-- An upload slot: what the developer promised to send (size, sha256) to which object key. It is
-- deleted when the upload is finished (checked) or abandoned.
CREATE TABLE uploads (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    release_id        uuid NOT NULL REFERENCES releases (id),
    developer_user_id uuid NOT NULL REFERENCES users (id),
    object_key        text NOT NULL UNIQUE,
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes        bigint NOT NULL CHECK (size_bytes > 0),
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_release_id_idx ON uploads (release_id);
CREATE INDEX uploads_expires_at_idx ON uploads (expires_at);

-- A build's file manifest: every file of the zip with its uncompressed size, mode and sha256,
-- so that the launcher verifies an install file by file and repairs single files.
CREATE TABLE build_files (
    build_asset_id uuid NOT NULL REFERENCES build_assets (id) ON DELETE CASCADE,
    path           text NOT NULL,
    size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
    mode           int NOT NULL CHECK (mode IN (420, 493)), -- 0644, 0755
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (build_asset_id, path)
);
