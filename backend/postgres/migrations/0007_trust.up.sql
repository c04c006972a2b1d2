-- Trust at the edges. Everything here is beyond the seeds.

-- A guest's receipt code is random; only its hash is kept (guest_receipt_code). So that a
-- guest's retry of CreatePurchase (same request id, same client secret) can return the code
-- again, a copy is kept sealed (AES-256-GCM) under a key derived from the server secret; it is
-- dropped when the purchase is claimed.
ALTER TABLE purchases ADD COLUMN guest_receipt_sealed bytea;

-- Nobody pays twice: at most one open purchase per buyer and game (a second CreatePurchase
-- returns the open one), and at most one live entitlement per buyer and game.
CREATE UNIQUE INDEX purchases_one_pending_idx ON purchases (buyer_user_id, game_id)
    WHERE status = 'PENDING' AND buyer_user_id IS NOT NULL;
CREATE UNIQUE INDEX entitlements_one_live_idx ON entitlements (buyer_user_id, game_id)
    WHERE revoked_at IS NULL AND buyer_user_id IS NOT NULL;

-- Money is received once per purchase. Money received for a purchase that is not PAID (a
-- settlement after it expired, an underpayment, a second payment for a game the buyer owns)
-- is an INVOICE_PAID entry on that purchase, listed for the operator, and refunded whole: one
-- REFUND entry reversing INVOICE_PAID.
CREATE UNIQUE INDEX ledger_entries_paid_once_idx ON ledger_entries (purchase_id) WHERE type = 'INVOICE_PAID';
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_refund_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_refund_check
    CHECK (type <> 'REFUND' OR coalesce(meta_json->>'reverses', '') IN ('PLATFORM_FEE', 'DEVELOPER_NET', 'INVOICE_PAID'));
