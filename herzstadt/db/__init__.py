"""Database connections of the Django site: a bounded PostgreSQL pool per worker process
(:mod:`herzstadt.db.pool`, used by the backend ``herzstadt.db.postgresql``), and the ASGI handler that
returns a request's connections whatever happens to the request (:mod:`herzstadt.db.asgi`)."""
