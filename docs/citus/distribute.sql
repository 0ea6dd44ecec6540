-- Distributing the server store by organization on Citus (docs/citus/README.md says why and when).
--
-- Run once, as the schema owner, on the coordinator of a Citus cluster after `ops-server init`
-- has made the schema (and before any data, or Citus copies it over while distributing).
-- tests/sync_server/test_citus_plan.py checks this file against plain PostgreSQL: every table is
-- placed, and every table distributed by org_id keeps org_id in its primary key, in every unique
-- constraint and in every foreign key to another distributed table.

CREATE EXTENSION IF NOT EXISTS citus;

-- SET LOCAL app.org_id / app.user_id (row-level security) must reach the workers' shards.
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local');
END $$;
SET citus.propagate_set_commands = 'local';
-- The append-only trigger on audit_event and journal_entry's balance triggers (revision 0019)
-- run on the shards.
SET citus.enable_unsafe_triggers = on;

-- Reference tables: small, read on every request, copied to every node.
SELECT create_reference_table('organization');
SELECT create_reference_table('app_user');
SELECT create_reference_table('refresh_token');
SELECT create_reference_table('rate_limit_bucket');
SELECT create_reference_table('policy_version');
SELECT create_reference_table('policy_acknowledgement');

-- Every tenant table by org_id, all in one colocation group: one organization's rows of every
-- table live on the same node, so a request (always one organization) is routed to one node.
SELECT create_distributed_table('audit_event', 'org_id');
SELECT create_distributed_table('change_log', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('org_sequence', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('processed_mutation', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('account', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('communication_preference', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('customer', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('data_subject_request', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('department', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('device', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('fiscal_period', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('membership', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('notification', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('payroll_run', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('product', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('role', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('supplier', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('tax_rate', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('warehouse', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('employee', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('journal_entry', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('purchase_order', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('sales_order', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('stock_move', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('employee_directory', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('invoice', 'org_id', colocate_with => 'audit_event');
-- journal_line is a view over journal_entry (revision 0019): it has no rows to place. journal_balance
-- is kept by triggers on journal_entry from the same organization's lines: colocated, each
-- trigger's writes stay on the node of the entries it fires for.
SELECT create_distributed_table('journal_balance', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('leave_type', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('pay_component', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('leave_request', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('payslip', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('project', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('purchase_order_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('sales_order_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('invoice_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('payment', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('payslip_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('task', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('timesheet_entry', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('security_log', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('invitation', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('ledger', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('account_mapping', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('product_cost', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('supplier_bill', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('credit_note', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('supplier_bill_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('supplier_payment', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('credit_note_line', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('subject_key', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('retention_rule', 'org_id', colocate_with => 'audit_event');
SELECT create_distributed_table('organization_profile', 'org_id', colocate_with => 'audit_event');

-- outbox and sync_state are the desktop's tables; the server never writes them: they stay
-- plain tables on the coordinator.
