-- Payouts at the edges: routing fees in the ledger, payments that stay in flight reported, no
-- payout of nothing. Everything here is beyond the seeds.

-- beyond the seeds: the ledger type PAYOUT_ROUTING_FEE, the routing fee the platform paid on top
-- of the developer's amount to send a SENT payout (its meta_json names the payout and payment).
-- At most one per purchase, never more than the sale's PLATFORM_FEE (the payout worker caps the
-- fee limit it pays with; check-ledger checks it).
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('INVOICE_CREATED', 'INVOICE_PAID',
    'PLATFORM_FEE', 'DEVELOPER_NET', 'PAYOUT_SENT', 'PAYOUT_FAILED', 'REFUND', 'PAYOUT_ROUTING_FEE'));
CREATE UNIQUE INDEX ledger_entries_routing_fee_once ON ledger_entries (purchase_id) WHERE type = 'PAYOUT_ROUTING_FEE';
-- Payouts sent before this migration kept their routing fee only in payouts.fee_msat and the
-- PAYOUT_SENT entry's meta_json: record it as the entry it now is.
INSERT INTO ledger_entries (purchase_id, type, amount_msat, meta_json, created_at)
SELECT purchase_id, 'PAYOUT_ROUTING_FEE', fee_msat,
       jsonb_build_object('payout_id', id, 'payment_hash', payment_hash, 'recorded_by', 'migration 0009'), sent_at
FROM payouts WHERE status = 'SENT' AND fee_msat > 0;

-- beyond the seeds: what is known of the payment of a payout's stored invoice while it has not
-- ended, and since when: IN_FLIGHT (the node is still trying) or UNKNOWN (the node did not say).
-- Payouts so for too long are reported (metric satchel_payouts_stuck, the admin listing of stuck
-- payouts) instead of waiting silently. Cleared when the payment ends.
ALTER TABLE payouts
    ADD COLUMN payment_state       text CHECK (payment_state IN ('IN_FLIGHT', 'UNKNOWN')),
    ADD COLUMN payment_state_since timestamptz,
    ADD CONSTRAINT payouts_payment_state_since_check CHECK ((payment_state IS NULL) = (payment_state_since IS NULL));
CREATE INDEX payouts_stuck_idx ON payouts (payment_state_since) WHERE payment_state IS NOT NULL;

-- A payout of nothing is never created (a sale whose whole price is the platform's fee owes the
-- developer nothing). One made before this migration, not sent (no Lightning Address accepts
-- 0 msat), is canceled; it stays as the record it is.
UPDATE payouts SET status = 'CANCELED', next_attempt_at = NULL, updated_at = now(),
       last_error = 'a payout of 0 msat pays nothing: canceled by migration 0009'
WHERE amount_msat = 0 AND status <> 'SENT';
ALTER TABLE payouts ADD CONSTRAINT payouts_amount_positive CHECK (amount_msat > 0 OR status = 'CANCELED');
