-- Operators: the audit of admin actions, refunds in the ledger, and announcements on Nostr.
-- Every table, column and value here is beyond the seeds.

-- beyond the seeds: every admin action, in the same transaction as the change it made: who
-- (the admin's public key), what (action, target), when, and why (the reason they gave).
CREATE TABLE admin_actions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    admin_pubkey text NOT NULL CHECK (admin_pubkey ~ '^[0-9a-f]{64}$'),
    action       text NOT NULL CHECK (action IN ('SET_GAME_STATUS', 'UNBAN_GAME', 'REVOKE_ENTITLEMENT',
                                                 'REFUND_PURCHASE', 'RETRY_PAYOUT', 'CANCEL_PAYOUT')),
    target_kind  text NOT NULL CHECK (target_kind IN ('game', 'entitlement', 'purchase', 'payout')),
    target_id    uuid NOT NULL,
    reason       text NOT NULL DEFAULT '',
    -- What changed, from what to what (a JSON object).
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_list_idx ON admin_actions (created_at DESC, id DESC);
CREATE INDEX admin_actions_target_idx ON admin_actions (target_id, created_at DESC);

-- beyond the seeds: operators list payouts by status (the FAILED ones wait for them).
CREATE INDEX payouts_status_list_idx ON payouts (status, created_at DESC, id DESC);

-- beyond the seeds: the ledger type REFUND. A refund made outside the system (the operator sent
-- the buyer's money back) is recorded as two new entries that reverse the sale's split, each
-- naming the entry type it reverses in meta_json.reverses: REFUND of the PLATFORM_FEE amount and
-- REFUND of the DEVELOPER_NET amount, so that the REFUND entries sum to INVOICE_PAID. Entries are
-- never changed or deleted and amounts stay non-negative.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('INVOICE_CREATED', 'INVOICE_PAID',
    'PLATFORM_FEE', 'DEVELOPER_NET', 'PAYOUT_SENT', 'PAYOUT_FAILED', 'REFUND'));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_refund_check
    CHECK (type <> 'REFUND' OR coalesce(meta_json->>'reverses', '') IN ('PLATFORM_FEE', 'DEVELOPER_NET'));
-- A sale is refunded once.
CREATE UNIQUE INDEX ledger_entries_refund_once ON ledger_entries (purchase_id, (meta_json->>'reverses'))
    WHERE type = 'REFUND';

-- beyond the seeds (the domain model's "social outputs as async jobs"): an announcement on Nostr
-- of a game that became LISTED or FEATURED, or of a published release. It is written in the
-- transaction of that change, with its job; the job signs its events once (so that every relay,
-- and every retry, gets the same event ids) and delivers them to each configured relay.
CREATE TABLE announcements (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text NOT NULL CHECK (kind IN ('GAME_LISTED', 'GAME_FEATURED', 'RELEASE_PUBLISHED')),
    game_id    uuid NOT NULL REFERENCES games (id),
    release_id uuid NOT NULL REFERENCES releases (id),
    -- The signed events (a JSON array: the kind 1 note, then the NIP-94 kind 1063 event); NULL
    -- until the job signs them.
    events     jsonb,
    signed_at  timestamptz,
    -- Why nothing was sent, if nothing will be (the game left the store before it was signed).
    skipped    text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announcements_game_idx ON announcements (game_id, created_at DESC);
CREATE INDEX announcements_list_idx ON announcements (created_at DESC, id DESC);
-- A game is announced as listed once; a release is announced once.
CREATE UNIQUE INDEX announcements_listed_once ON announcements (game_id) WHERE kind = 'GAME_LISTED';
CREATE UNIQUE INDEX announcements_release_once ON announcements (release_id) WHERE kind = 'RELEASE_PUBLISHED';

-- One announcement's delivery to one relay, retried with backoff until the relay accepts it.
CREATE TABLE announcement_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    announcement_id uuid NOT NULL REFERENCES announcements (id),
    relay           text NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'SKIPPED')),
    attempt_count   int NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    last_error      text,
    next_attempt_at timestamptz,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT announcement_deliveries_relay_key UNIQUE (announcement_id, relay),
    CONSTRAINT announcement_deliveries_sent_check CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
);
CREATE INDEX announcement_deliveries_status_idx ON announcement_deliveries (status) WHERE status <> 'SENT';

-- Every attempt to deliver, and what the relay answered.
CREATE TABLE announcement_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES announcement_deliveries (id),
    attempt     int NOT NULL CHECK (attempt > 0),
    ok          boolean NOT NULL,
    -- The relay's answer or the failure, in words.
    result      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announcement_attempts_delivery_idx ON announcement_attempts (delivery_id, id);
