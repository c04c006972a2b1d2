-- Buying. Every column and table here is beyond the seeds.

ALTER TABLE purchases
    -- The client's request id, scoped to the buyer ("u:<user id>:<id>") or to guests
    -- ("g:<id>"), so a retried CreatePurchase returns the same purchase.
    ADD COLUMN request_key     text UNIQUE,
    ADD COLUMN payment_request text,
    ADD COLUMN expires_at      timestamptz,
    ADD COLUMN failure_reason  text;
CREATE INDEX purchases_pending_idx ON purchases (expires_at) WHERE status = 'PENDING';

-- How far each invoice provider's settlements have been handled: the subscription resumes
-- after this settle index, so a restart or a dropped stream loses nothing.
CREATE TABLE lightning_cursors (
    provider     text PRIMARY KEY,
    settle_index bigint NOT NULL CHECK (settle_index >= 0)
);

-- Changes to players' libraries, in commit order (writers take an advisory lock before taking
-- an id), so that a launcher resuming after change N misses nothing. A change with no user_id
-- and no guest concerns every owner of the game (a release was published).
CREATE TABLE library_changes (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('ENTITLEMENT_GRANTED', 'ENTITLEMENT_REVOKED', 'RELEASE_PUBLISHED')),
    game_id            uuid NOT NULL REFERENCES games (id),
    user_id            uuid REFERENCES users (id),
    guest_receipt_code text,
    entitlement_id     uuid REFERENCES entitlements (id),
    release_id         uuid REFERENCES releases (id),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX library_changes_user_idx ON library_changes (user_id, id);
CREATE INDEX library_changes_game_idx ON library_changes (game_id, id) WHERE user_id IS NULL AND guest_receipt_code IS NULL;
