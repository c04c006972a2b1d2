-- The dev provider finds the invoice a payer pastes by its exact payment request (Settle),
-- instead of recovering the invoice's signature to learn its payment hash. Beyond the seeds.
CREATE UNIQUE INDEX dev_invoices_payment_request_key ON dev_invoices (payment_request);
