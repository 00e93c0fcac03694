"""Distributed operations (ETSI GS CIM 009 4.3.6): requests forwarded to the context sources of
matching registrations, their answers merged with this broker's own data.

* ``client`` — the outgoing HTTP client: allow-listed hosts only (``csource_hosts``), public
  addresses only unless ``csource_allow_private``, one deadline per request, bounded answers;
* ``merge`` — how entities of several sources become one (clause 4.3.6.4);
* ``forward`` — which registrations a request goes to (by mode and operation), the ``Via``
  header (loop detection), the fan-out in a bounded pool, partial results.
"""
