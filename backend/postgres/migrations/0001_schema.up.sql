-- The schema of "Marketplace — DB Schema v1": every table, column and must-have unique
-- constraint of the seed, with foreign keys and CHECK constraints for the domain model's enums.
-- Additions beyond the seeds are marked "beyond the seeds".

CREATE TABLE users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pubkey       text NOT NULL UNIQUE CHECK (pubkey ~ '^[0-9a-f]{64}$'),
    display_name text,
    avatar_url   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE developer_profiles (
    user_id           uuid NOT NULL UNIQUE REFERENCES users (id),
    payout_ln_address text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE games (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    developer_user_id uuid NOT NULL REFERENCES users (id),
    slug              text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$'),
    title             text NOT NULL,
    summary           text NOT NULL DEFAULT '',
    description_md    text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'DRAFT'
                      CHECK (status IN ('DRAFT', 'UNLISTED', 'LISTED', 'FEATURED', 'BANNED')),
    -- beyond the seeds: the price, in millisatoshi; 0 means free (DESIGN.md, Money).
    price_msat        bigint NOT NULL DEFAULT 0 CHECK (price_msat >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX games_developer_user_id_idx ON games (developer_user_id);
CREATE INDEX games_store_idx ON games (((status = 'FEATURED')::int) DESC, created_at DESC, id DESC)
    WHERE status IN ('LISTED', 'FEATURED');

CREATE TABLE releases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    game_id          uuid NOT NULL REFERENCES games (id),
    version          text NOT NULL,
    release_notes_md text NOT NULL DEFAULT '',
    published_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- beyond the seeds: a version is unique per game (the domain model's semver rule).
    CONSTRAINT releases_game_id_version_key UNIQUE (game_id, version)
);

CREATE TABLE build_assets (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    release_id   uuid NOT NULL UNIQUE REFERENCES releases (id),
    object_key   text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    content_type text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE purchases (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer_user_id      uuid REFERENCES users (id),
    guest_receipt_code text UNIQUE,
    game_id            uuid NOT NULL REFERENCES games (id),
    invoice_provider   text,
    invoice_id         text UNIQUE,
    status             text NOT NULL DEFAULT 'PENDING'
                       CHECK (status IN ('PENDING', 'PAID', 'EXPIRED', 'FAILED', 'REFUNDED')),
    amount_msat        bigint NOT NULL CHECK (amount_msat >= 0),
    paid_at            timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purchases_buyer_user_id_idx ON purchases (buyer_user_id);
CREATE INDEX purchases_game_id_idx ON purchases (game_id);

CREATE TABLE entitlements (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purchase_id        uuid NOT NULL UNIQUE REFERENCES purchases (id),
    buyer_user_id      uuid REFERENCES users (id),
    guest_receipt_code text UNIQUE,
    game_id            uuid NOT NULL REFERENCES games (id),
    granted_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at         timestamptz
);
CREATE INDEX entitlements_buyer_user_id_idx ON entitlements (buyer_user_id);
CREATE INDEX entitlements_game_id_idx ON entitlements (game_id);

CREATE TABLE download_events (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entitlement_id uuid NOT NULL REFERENCES entitlements (id),
    release_id     uuid NOT NULL REFERENCES releases (id),
    ip_hash        text,
    user_agent     text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX download_events_entitlement_id_idx ON download_events (entitlement_id);
CREATE INDEX download_events_release_id_idx ON download_events (release_id);

CREATE TABLE ledger_entries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purchase_id uuid NOT NULL REFERENCES purchases (id),
    type        text NOT NULL CHECK (type IN ('INVOICE_CREATED', 'INVOICE_PAID', 'PLATFORM_FEE',
                                              'DEVELOPER_NET', 'PAYOUT_SENT', 'PAYOUT_FAILED')),
    amount_msat bigint NOT NULL CHECK (amount_msat >= 0),
    -- beyond the DB schema seed: the domain model seed's LedgerEntry has a currency. Amounts are
    -- millisatoshi end to end, so it is always 'msat'.
    currency    text NOT NULL DEFAULT 'msat' CHECK (currency = 'msat'),
    meta_json   jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_purchase_id_idx ON ledger_entries (purchase_id);

CREATE TABLE payouts (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purchase_id            uuid NOT NULL UNIQUE REFERENCES purchases (id),
    developer_user_id      uuid NOT NULL REFERENCES users (id),
    destination_ln_address text NOT NULL,
    amount_msat            bigint NOT NULL CHECK (amount_msat >= 0),
    status                 text NOT NULL DEFAULT 'SCHEDULED'
                           CHECK (status IN ('SCHEDULED', 'SENT', 'FAILED', 'RETRYING', 'CANCELED')),
    attempt_count          int NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    last_error             text,
    idempotency_key        text NOT NULL UNIQUE,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payouts_developer_user_id_idx ON payouts (developer_user_id);

-- beyond the seeds: NIP-98 event ids already used, so a replayed signature is refused on every
-- server sharing this database. Rows older than the signature window can be deleted.
CREATE TABLE nip98_events (
    event_id  text PRIMARY KEY CHECK (event_id ~ '^[0-9a-f]{64}$'),
    pubkey    text NOT NULL,
    signed_at timestamptz NOT NULL
);
CREATE INDEX nip98_events_signed_at_idx ON nip98_events (signed_at);
