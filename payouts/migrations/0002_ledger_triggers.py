"""Database enforcement of the ledger invariants (see docs/ledger.md).

PostgreSQL:
- L2: BEFORE UPDATE OR DELETE triggers on entries and transactions raise (TRUNCATE, an owner-only
  operation used by test teardown, is not blocked; production roles should not hold TRUNCATE).
- L9/L10: BEFORE INSERT on entries: the account, the transaction and the entry share one network,
  and the entry's currency is the account's.
- L1: DEFERRABLE INITIALLY DEFERRED constraint triggers check at COMMIT that each transaction has
  entries and sums to zero per currency.
SQLite (development and the fast test run): the same L2 and L9/L10 triggers; L1 is enforced by
`ledger.post`. The delete trigger asks `payouts_ledger_locked()`, a function the app registers on
each SQLite connection, so that `flush` (test teardown) can still empty the tables. A later
migration that makes Django rebuild one of these SQLite tables must create the triggers again.
"""

from django.db import migrations

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are append-only: % on % refused; post a reversing transaction',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$;
    """,
    """
    CREATE TRIGGER payouts_ledgerentry_append_only BEFORE UPDATE OR DELETE ON payouts_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only();
    """,
    """
    CREATE TRIGGER payouts_ledgertransaction_append_only BEFORE UPDATE OR DELETE ON payouts_ledgertransaction
        FOR EACH ROW EXECUTE FUNCTION payouts_ledger_append_only();
    """,
    """
    CREATE OR REPLACE FUNCTION payouts_ledgerentry_check() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        account_network bigint;
        account_currency varchar(3);
        transaction_network bigint;
    BEGIN
        SELECT network_id, currency INTO account_network, account_currency
            FROM payouts_ledgeraccount WHERE id = NEW.account_id;
        SELECT network_id INTO transaction_network FROM payouts_ledgertransaction WHERE id = NEW.transaction_id;
        IF account_network IS DISTINCT FROM NEW.network_id OR transaction_network IS DISTINCT FROM NEW.network_id THEN
            RAISE EXCEPTION 'ledger entry crosses networks' USING ERRCODE = 'check_violation';
        END IF;
        IF account_currency IS DISTINCT FROM NEW.currency THEN
            RAISE EXCEPTION 'ledger entry in % on an account in %', NEW.currency, account_currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """
    CREATE TRIGGER payouts_ledgerentry_check BEFORE INSERT ON payouts_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION payouts_ledgerentry_check();
    """,
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM payouts_ledgerentry WHERE transaction_id = NEW.transaction_id
                   GROUP BY currency HAVING SUM(amount_minor) <> 0) THEN
            RAISE EXCEPTION 'ledger transaction % does not balance per currency', NEW.transaction_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER payouts_ledgerentry_balanced AFTER INSERT ON payouts_ledgerentry
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payouts_ledger_balanced();
    """,
    """
    CREATE OR REPLACE FUNCTION payouts_ledgertransaction_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM payouts_ledgerentry WHERE transaction_id = NEW.id) THEN
            RAISE EXCEPTION 'ledger transaction % has no entries', NEW.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER payouts_ledgertransaction_has_entries AFTER INSERT ON payouts_ledgertransaction
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payouts_ledgertransaction_has_entries();
    """,
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS payouts_ledgertransaction_has_entries ON payouts_ledgertransaction",
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_balanced ON payouts_ledgerentry",
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_check ON payouts_ledgerentry",
    "DROP TRIGGER IF EXISTS payouts_ledgertransaction_append_only ON payouts_ledgertransaction",
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_append_only ON payouts_ledgerentry",
    "DROP FUNCTION IF EXISTS payouts_ledgertransaction_has_entries()",
    "DROP FUNCTION IF EXISTS payouts_ledger_balanced()",
    "DROP FUNCTION IF EXISTS payouts_ledgerentry_check()",
    "DROP FUNCTION IF EXISTS payouts_ledger_append_only()",
]

SQLITE_TABLES = ("payouts_ledgerentry", "payouts_ledgertransaction")

SQLITE_UP = [
    *[f"""
    CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: UPDATE on {table} refused'); END
    """ for table in SQLITE_TABLES],
    *[f"""
    CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN payouts_ledger_locked()
    BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: DELETE on {table} refused'); END
    """ for table in SQLITE_TABLES],
    """
    CREATE TRIGGER payouts_ledgerentry_check BEFORE INSERT ON payouts_ledgerentry
    WHEN (SELECT network_id FROM payouts_ledgeraccount WHERE id = NEW.account_id) IS NOT NEW.network_id
      OR (SELECT network_id FROM payouts_ledgertransaction WHERE id = NEW.transaction_id) IS NOT NEW.network_id
      OR (SELECT currency FROM payouts_ledgeraccount WHERE id = NEW.account_id) IS NOT NEW.currency
    BEGIN SELECT RAISE(ABORT, 'ledger entry crosses networks or currencies'); END
    """,
]

SQLITE_DOWN = [
    *[f"DROP TRIGGER IF EXISTS {table}_no_update" for table in SQLITE_TABLES],
    *[f"DROP TRIGGER IF EXISTS {table}_no_delete" for table in SQLITE_TABLES],
    "DROP TRIGGER IF EXISTS payouts_ledgerentry_check",
]


def _run(statements_by_vendor: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
