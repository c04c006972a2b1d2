-- The dev invoice provider's tables (package satchel.dev/backend/lightning/dev): test-money
-- invoices and payments for local runs. Nothing here is real money. The provider runs in the
-- server and in `satchel-server dev pay`, two processes that meet here.
--
-- All beyond the seeds.

-- The dev node's identity: one row, made at first use, so invoices keep the same payee across
-- restarts.
CREATE TABLE dev_node (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    private_key bytea NOT NULL CHECK (length(private_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The running count of settlements (lightning.Invoice.SettleIndex). Taken only while holding
-- the settlement lock, so indexes become visible in order; an aborted settlement leaves a gap.
CREATE SEQUENCE dev_settle_index AS bigint MINVALUE 1;

CREATE TABLE dev_invoices (
    payment_hash     text PRIMARY KEY CHECK (payment_hash ~ '^[0-9a-f]{64}$'),
    preimage         text NOT NULL CHECK (preimage ~ '^[0-9a-f]{64}$'),
    payment_request  text NOT NULL,
    amount_msat      bigint NOT NULL CHECK (amount_msat > 0),
    memo             text NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    -- As stored: an OPEN invoice past expires_at reads as CANCELED.
    state            text NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'SETTLED', 'CANCELED')),
    settle_index     bigint UNIQUE,
    settled_at       timestamptz,
    amount_paid_msat bigint,
    CONSTRAINT dev_invoices_settled_check CHECK (
        (state = 'SETTLED') = (settle_index IS NOT NULL AND settled_at IS NOT NULL AND amount_paid_msat IS NOT NULL))
);

-- Payments the dev node "made" (PayInvoice): one per payment hash. Its own invoices are settled;
-- any other invoice is recorded as paid without any money moving.
CREATE TABLE dev_payments (
    payment_hash    text PRIMARY KEY CHECK (payment_hash ~ '^[0-9a-f]{64}$'),
    payment_request text NOT NULL,
    status          text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED')),
    amount_msat     bigint NOT NULL CHECK (amount_msat > 0),
    fee_msat        bigint NOT NULL DEFAULT 0 CHECK (fee_msat = 0),
    -- Known only for the dev node's own invoices; empty otherwise.
    preimage        text NOT NULL DEFAULT '',
    failure_reason  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
