from typing import Any

from django.apps import AppConfig


def install_sqlite_ledger_guard(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give each SQLite connection `payouts_ledger_locked()`, which the delete triggers ask.

    It answers 1 (deletes refused) except while Django's `flush` empties every table on purpose (test
    teardown, `manage.py flush`). PostgreSQL needs none of this: flush uses TRUNCATE there.
    """
    if connection.vendor != "sqlite":
        return
    state = getattr(connection, "_payouts_flushing", None)
    if state is None:
        state = connection._payouts_flushing = {"on": False}
        original = connection.ops.execute_sql_flush

        def execute_sql_flush(sql_list: list[str]) -> None:
            state["on"] = True
            try:
                original(sql_list)
            finally:
                state["on"] = False

        connection.ops.execute_sql_flush = execute_sql_flush
    connection.connection.create_function("payouts_ledger_locked", 0, lambda: 0 if state["on"] else 1)


class PayoutsConfig(AppConfig):
    name = "payouts"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        connection_created.connect(install_sqlite_ledger_guard, dispatch_uid="payouts_sqlite_ledger_guard")
        # Connections opened before this app was ready (rare: management commands) get it now.
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                install_sqlite_ledger_guard(sender=None, connection=connection)
