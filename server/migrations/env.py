"""Alembic environment: runs against the engine the caller put in `config.attributes["engine"]`."""

from alembic import context

import server.models  # noqa: F401  (registers every table on the metadata)
from server.db import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
