"""Alembic environment: always given a connection by syncd.store.migrate."""

from alembic import context

from syncd.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via syncd.store.migrate
    raise RuntimeError("run migrations through `syncd db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
