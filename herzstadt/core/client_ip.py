"""The client's address, the one way every part of herzstadt determines it (allauth's sign-in and sign-up
limits, the anonymous survey limit, the back-off of failed sign-ins).

Behind reverse proxies, set ``HERZSTADT_TRUSTED_PROXY_HOPS`` to the number of proxies that append to
``X-Forwarded-For``: the address is then the entry that many places from the end, the last one a proxy of
ours wrote (entries further left come from the client and can be forged). Without the setting the header
is ignored and the connecting address counts — behind a proxy that would put the whole city into one
rate-limit bucket. A request with fewer entries than hops did not pass all proxies: its connecting
address counts. IPv6 addresses count by their /64 network (one person usually has a whole /64).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    hops = int(getattr(settings, "HERZSTADT_TRUSTED_PROXY_HOPS", 0) or 0)
    addr = (request.META.get("REMOTE_ADDR") or "").strip()
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            addr = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)
