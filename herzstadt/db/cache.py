"""The site's cache in its own database, counted atomically across worker processes.

Rate limits (failed sign-ins, sign-ups, password resets, anonymous survey answers) count in the cache,
and every worker process must see the same counts. Django's file cache, used before, is not atomic across
processes; its database cache is shared, but its ``incr`` reads, adds and writes back without a lock, and
its ``add`` can let two processes "add" the same expired key. This backend makes both atomic:

- ``add`` is one ``INSERT … ON CONFLICT … DO UPDATE … WHERE expired`` statement (PostgreSQL and SQLite
  ≥ 3.35): exactly one of several simultaneous callers adds a key; allauth's rate-limit lock relies on it.
- ``incr``/``decr`` read and write the row in one transaction that holds the row (``SELECT … FOR UPDATE``
  on PostgreSQL; SQLite's IMMEDIATE transactions hold the database's write lock).

With ``HERZSTADT_REDIS_URL`` set, Django's Redis cache is used instead (``SET NX`` and ``INCR`` are atomic
there). The table is created by ``herzstadt migrate`` (``createcachetable``).
"""

from __future__ import annotations

import base64
import pickle
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now

# The SQL below names only the cache table and its columns, quoted by the backend (S608 is noqa'd);
# every value is a query parameter.


class DatabaseCache(DjangoDatabaseCache):
    def _encode(self, value) -> str:
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    def _expiry(self, timeout):
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            return datetime.max.replace(microsecond=0)
        return datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None).replace(
            microsecond=0
        )

    def _now(self, connection):
        return connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        qn = connection.ops.quote_name
        table = qn(self._table)  # type: ignore[attr-defined]  # Django's DatabaseCache sets it
        self._maybe_cull(db, connection)
        sql = (
            f"INSERT INTO {table} ({qn('cache_key')}, {qn('value')}, {qn('expires')}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT ({qn('cache_key')}) DO UPDATE SET "
            f"{qn('value')} = excluded.{qn('value')}, {qn('expires')} = excluded.{qn('expires')} "
            f"WHERE {table}.{qn('expires')} < %s RETURNING {qn('cache_key')}"
        )
        expires = connection.ops.adapt_datetimefield_value(self._expiry(timeout))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(sql, [key, self._encode(value), expires, self._now(connection)])
            return cursor.fetchone() is not None

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        qn = connection.ops.quote_name
        table = qn(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('value')}, {qn('expires')} FROM {table} "  # noqa: S608
                f"WHERE {qn('cache_key')} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._converted(connection, row[1]) < tz_now():
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301 - our own rows
            cursor.execute(
                f"UPDATE {table} SET {qn('value')} = %s WHERE {qn('cache_key')} = %s",  # noqa: S608
                [self._encode(value), key],
            )
        return value

    def _converted(self, connection, expires):
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(
            expression
        ) + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires

    def _maybe_cull(self, db, connection) -> None:
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(self._table)  # type: ignore[attr-defined]
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a quoted name
            count = cursor.fetchone()[0]
            if count > self._max_entries:
                self._cull(db, cursor, tz_now().replace(microsecond=0), count)  # type: ignore[attr-defined]
