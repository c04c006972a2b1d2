-- Game media and studio names, both beyond the seeds.

-- A game's checked images: one cover, and up to 8 screenshots in order (the limit is the
-- market's, checked under the game's row lock). Each is stored once at object_key and never
-- changes; its public URL names the game and the sha256.
CREATE TABLE game_media (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    game_id      uuid NOT NULL REFERENCES games (id),
    kind         text NOT NULL CHECK (kind IN ('COVER', 'SCREENSHOT')),
    position     int NOT NULL CHECK (position >= 0),
    object_key   text NOT NULL UNIQUE,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    width        int NOT NULL CHECK (width > 0),
    height       int NOT NULL CHECK (height > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (game_id, sha256)
);
CREATE UNIQUE INDEX game_media_one_cover ON game_media (game_id) WHERE kind = 'COVER';

-- An image upload slot, as uploads is for builds: OPEN until finished (FINISHED) or refused or
-- expired (CLOSED); deleted with its objects once expired.
CREATE TABLE media_uploads (
    id                uuid PRIMARY KEY,
    game_id           uuid NOT NULL REFERENCES games (id),
    developer_user_id uuid NOT NULL REFERENCES users (id),
    kind              text NOT NULL CHECK (kind IN ('COVER', 'SCREENSHOT')),
    object_key        text NOT NULL UNIQUE,
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes        bigint NOT NULL CHECK (size_bytes > 0),
    content_type      text NOT NULL,
    status            text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'FINISHED', 'CLOSED')),
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_uploads_expires_at_idx ON media_uploads (expires_at);

-- The studio a developer's games are shown "by".
ALTER TABLE developer_profiles ADD COLUMN studio_name text;

-- What the catalog shows changes with these too (see 0012).
CREATE TRIGGER game_media_catalog_changed AFTER INSERT OR UPDATE OR DELETE ON game_media
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER developer_profiles_catalog_changed AFTER UPDATE OF studio_name ON developer_profiles
    FOR EACH ROW WHEN (OLD.studio_name IS DISTINCT FROM NEW.studio_name) EXECUTE FUNCTION catalog_changed();
