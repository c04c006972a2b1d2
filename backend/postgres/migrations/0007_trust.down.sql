ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_refund_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_refund_check
    CHECK (type <> 'REFUND' OR coalesce(meta_json->>'reverses', '') IN ('PLATFORM_FEE', 'DEVELOPER_NET'));
DROP INDEX ledger_entries_paid_once_idx;
DROP INDEX entitlements_one_live_idx;
DROP INDEX purchases_one_pending_idx;
ALTER TABLE purchases DROP COLUMN guest_receipt_sealed;
