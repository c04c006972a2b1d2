-- Paying developers (package satchel.dev/backend/payouts). Every column, table and index here is
-- beyond the seeds.

ALTER TABLE payouts
    -- The invoice being paid, stored BEFORE it is paid: a worker that dies mid-payment is
    -- followed by one that tracks this payment hash instead of paying again. Cleared only once
    -- that payment is known to have failed, or the invoice expired unpaid.
    ADD COLUMN payment_request    text,
    ADD COLUMN payment_hash       text UNIQUE CHECK (payment_hash ~ '^[0-9a-f]{64}$'),
    ADD COLUMN invoice_expires_at timestamptz,
    -- Once SENT: the routing fee paid (on top of amount_msat) and the payment's preimage.
    ADD COLUMN fee_msat           bigint CHECK (fee_msat >= 0),
    ADD COLUMN preimage           text CHECK (preimage ~ '^([0-9a-f]{64})?$'),
    ADD COLUMN sent_at            timestamptz,
    -- When a RETRYING payout is tried again.
    ADD COLUMN next_attempt_at    timestamptz,
    -- The lease of the attempt running on the payout (one at a time), until lease_until: a
    -- worker that dies holds it until then, no longer than its job's timeout.
    ADD COLUMN lease_id           uuid,
    ADD COLUMN lease_until        timestamptz,
    ADD CONSTRAINT payouts_invoice_check CHECK ((payment_request IS NULL) = (payment_hash IS NULL)),
    ADD CONSTRAINT payouts_sent_check CHECK ((status = 'SENT') = (sent_at IS NOT NULL));
CREATE INDEX payouts_developer_list_idx ON payouts (developer_user_id, created_at DESC, id DESC);

-- Every invoice ever stored on a payout, kept after the payout moves on to another one: the
-- audit trail of attempts, and a payment hash is never used by two payouts (a Lightning Address
-- server answering an invoice it gave before, already paid, cannot pass it off as a new payment).
CREATE TABLE payout_invoices (
    payment_hash    text PRIMARY KEY CHECK (payment_hash ~ '^[0-9a-f]{64}$'),
    payout_id       uuid NOT NULL REFERENCES payouts (id),
    payment_request text NOT NULL,
    ln_address      text NOT NULL,
    amount_msat     bigint NOT NULL CHECK (amount_msat > 0),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payout_invoices_payout_id_idx ON payout_invoices (payout_id);

-- At most one PAYOUT_SENT entry per purchase, whatever a bug or a race would try.
CREATE UNIQUE INDEX ledger_entries_payout_sent_once ON ledger_entries (purchase_id) WHERE type = 'PAYOUT_SENT';
