"""Django's PostgreSQL backend with a connection pool sized when a worker first needs it (see
:mod:`herzstadt.db.pool`)."""

from __future__ import annotations

from django.db.backends.postgresql import base
from django.db.backends.postgresql.base import NO_DB_ALIAS  # type: ignore[attr-defined]

from herzstadt.db.pool import size_pool


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if (
            isinstance(options, dict)
            and options.get("max_size") is None
            and self.alias != NO_DB_ALIAS
            and self.alias not in self._connection_pools
        ):
            with self.wrap_database_errors:
                max_size = size_pool(self.get_connection_params())
            self.settings_dict["OPTIONS"]["pool"] = {
                **options,
                "min_size": min(options.get("min_size", 1), max_size),
                "max_size": max_size,
            }
        return super().pool
