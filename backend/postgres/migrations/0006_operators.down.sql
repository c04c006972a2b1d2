DROP TABLE announcement_attempts;
DROP TABLE announcement_deliveries;
DROP TABLE announcements;
DROP INDEX ledger_entries_refund_once;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_refund_check;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_type_check CHECK (type IN ('INVOICE_CREATED', 'INVOICE_PAID',
    'PLATFORM_FEE', 'DEVELOPER_NET', 'PAYOUT_SENT', 'PAYOUT_FAILED'));
DROP INDEX payouts_status_list_idx;
DROP TABLE admin_actions;
