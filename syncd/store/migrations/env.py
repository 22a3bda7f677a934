"""Alembic environment: always given a connection by syncd.store.migrate."""

from alembic import context

from syncd.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via syncd.store.migrate
    raise RuntimeError("run migrations through `syncd db upgrade`")
# SQLite runs DDL inside transactions (syncd.store.migrate makes pysqlite emit the BEGIN): each
# revision commits with its alembic_version update or not at all. PostgreSQL arrives inside one
# outer transaction (with its advisory lock), which these options then leave alone.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transactional_ddl=True, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
