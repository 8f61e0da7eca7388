"""Alembic's entry point, run by `assistant.database.upgrade` with an open connection in
`config.attributes["connection"]` (the caller holds the migration lock and the transaction)."""

from alembic import context

from assistant.database import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through assistant.database.upgrade (or `assistant db upgrade`)")
# batch mode lets ALTERs work on SQLite, which rebuilds a table to change it
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
