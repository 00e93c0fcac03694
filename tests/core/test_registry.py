"""The pillar registry: registration is idempotent, conflicts are refused with a clear error, and
the accessors see what is registered (and stop seeing it after unregistering)."""

import pytest

from herzstadt.core import registry
from herzstadt.core.registry import (
    AsgiMount,
    Feature,
    MediaFolder,
    NavEntry,
    NotificationKind,
    Panel,
    PhaseKind,
    Pillar,
    Registry,
    RegistryError,
)


def _panel(request, obj):
    return "<section>x</section>"


def _no_media(request, name):
    return None


def test_the_platform_registers_its_parts():
    names = {p.name for p in registry.pillars()}
    assert {"core", "accounts", "participation", "urbandata"} <= names
    assert "/ngsi-ld/" in registry.asgi_mounts()
    assert registry.media_folder("ideas/2026/11/x.png").prefix == "ideas/"
    assert registry.media_folder("secret_key") is None
    assert [n.key for n in registry.nav("main")][:3] == ["home", "measures", "participation"]
    order = [name for name, _loader in registry.demo_loaders()]
    assert order.index("core") < order.index("urbandata") < order.index("participation")


def test_registering_the_same_manifest_twice_is_a_noop():
    reg = Registry()
    pillar = Pillar(name="x", panels=(Panel("home", _panel),))
    assert reg.register(pillar) is pillar
    reg.register(pillar)
    reg.register(Pillar(name="x", panels=(Panel("home", _panel),)))  # equal: fine too
    assert [p.name for p in reg.pillars()] == ["x"]
    assert len(reg.index.panels["home"]) == 1


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (Pillar(name="a"), Pillar(name="a", label="other"), "a different pillar named 'a'"),
        (
            Pillar(name="a", urls=["p"], namespace="ns"),
            Pillar(name="b", urls=["p"], namespace="ns"),
            "the URL namespace 'ns' is claimed by both 'a' and 'b'",
        ),
        (
            Pillar(name="a", asgi_mounts=(AsgiMount("/x/", object),)),
            Pillar(name="b", asgi_mounts=(AsgiMount("/x/", object),)),
            "the ASGI prefix '/x/'",
        ),
        (
            Pillar(name="a", notification_kinds=(NotificationKind("k", "K", "%(subject)s"),)),
            Pillar(name="b", notification_kinds=(NotificationKind("k", "L", "%(subject)s"),)),
            "the notification kind 'k'",
        ),
        (
            Pillar(name="a", nav=(NavEntry("n", "N", "core:home"),)),
            Pillar(name="b", nav=(NavEntry("n", "M", "core:home"),)),
            "the navigation entry 'main:n'",
        ),
        (
            Pillar(name="a", media=(MediaFolder("ideas/", _no_media),)),
            Pillar(name="b", media=(MediaFolder("ideas/", _no_media),)),
            "the media folder 'ideas/'",
        ),
        (
            Pillar(name="a"),
            Pillar(name="b", media=(MediaFolder("/etc/", _no_media),)),
            "a media folder is relative",
        ),
        (
            Pillar(name="a", features=(Feature("f", "F"),)),
            Pillar(name="b", phase_kinds=(PhaseKind("p", "P", frozenset({"g"})),)),
            "opens unknown features ['g']",
        ),
    ],
)
def test_conflicts_are_refused_and_leave_the_registry_unchanged(first, second, message):
    reg = Registry()
    reg.register(first)
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        reg.register(second)
    assert [p.name for p in reg.pillars()] == [first.name]


def test_malformed_manifests_are_refused():
    reg = Registry()
    with pytest.raises(RegistryError, match="no page 'sidebar'"):
        reg.register(Pillar(name="a", panels=(Panel("sidebar", _panel),)))
    with pytest.raises(RegistryError, match="starts and ends with '/'"):
        reg.register(Pillar(name="a", asgi_mounts=(AsgiMount("/x", object),)))
    with pytest.raises(RegistryError, match="takes a Pillar"):
        reg.register({"name": "a"})


def test_accessors_follow_registration_and_unregistration():
    reg = Registry()
    reg.register(Pillar(name="b", panels=(Panel("home", _panel, order=20),)))
    first = reg.index
    assert reg.index is first  # cached between changes
    late = Panel("home", _panel, order=10)
    reg.register(Pillar(name="a", panels=(late,)))
    assert reg.index is not first
    assert reg.index.panels["home"][0] is late
    reg.unregister("a")
    assert late not in reg.index.panels["home"]


def test_current_matching_by_view_name_and_namespace():
    class Match:
        def __init__(self, view_name):
            self.view_name = view_name
            self.namespace = view_name.rpartition(":")[0]

    entry = NavEntry("p", "P", "participation:processes", current=("participation:*",))
    assert entry.is_current(Match("participation:idea"))
    assert not entry.is_current(Match("core:home"))
    plain = NavEntry("h", "H", "core:home")
    assert plain.is_current(Match("core:home")) and not plain.is_current(None)
