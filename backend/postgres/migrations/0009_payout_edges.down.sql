ALTER TABLE payouts DROP CONSTRAINT payouts_amount_positive;
DROP INDEX payouts_stuck_idx;
ALTER TABLE payouts DROP CONSTRAINT payouts_payment_state_since_check, DROP COLUMN payment_state_since, DROP COLUMN payment_state;
DROP INDEX ledger_entries_routing_fee_once;
-- The routing fees stay in payouts.fee_msat and the PAYOUT_SENT entries' meta_json.
DELETE FROM ledger_entries WHERE type = 'PAYOUT_ROUTING_FEE';
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('INVOICE_CREATED', 'INVOICE_PAID',
    'PLATFORM_FEE', 'DEVELOPER_NET', 'PAYOUT_SENT', 'PAYOUT_FAILED', 'REFUND'));
