"""Celery tasks of the merchants app.

There is no periodic work here: invitation emails go out with `transaction.on_commit`, and the click
path picks up program changes through `Program.cache_version` rather than a cache-purge task.
"""
