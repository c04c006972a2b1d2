DROP TABLE dev_payments;
DROP TABLE dev_invoices;
DROP SEQUENCE dev_settle_index;
DROP TABLE dev_node;
