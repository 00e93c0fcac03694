"""Screenshots of the demo city for the docs: home, district, process, idea, survey results and the
back office, each at 1280 and 320 CSS pixels, into docs/screenshots/*.png (downscaled, 256-colour
PNGs, about 20-150 kB each). One command, from the repository root:

    python3 -m uv run python scripts/screenshots.py

Needs the system Chromium (/usr/bin/chromium, or HERZSTADT_CHROMIUM) and the dev dependencies
(playwright); nothing is downloaded. The demo is loaded into a throwaway SQLite database in a
temporary data directory and served in this process on a free loopback port."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("HERZSTADT_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: (width, height) of the viewport, and the factor the PNG is scaled by afterwards.
SIZES = {1280: ((1280, 860), 0.5), 320: ((320, 640), 1.0)}
MAX_BYTES = 150_000


def _setup() -> None:
    data = tempfile.mkdtemp(prefix="herzstadt-screenshots-")
    for key in [k for k in os.environ if k.startswith("HERZSTADT_") or k == "DATABASE_URL"]:
        if key != "HERZSTADT_CHROMIUM":
            del os.environ[key]
    os.environ["HERZSTADT_DATA_DIR"] = data
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    call_command("migrate", verbosity=0)


def _pages() -> tuple[dict[str, str], object]:
    from django.contrib.auth.models import User
    from django.urls import reverse

    from herzstadt.accounts.models import Profile, Role
    from herzstadt.accounts.roles import set_role
    from herzstadt.core.models import City
    from herzstadt.demo import load_demo
    from herzstadt.participation.models import Idea, Survey

    load_demo()
    city = City.objects.get(slug="kaiserslautern")
    admin = User.objects.create_user(username="screenshots", email="screenshots@example.org")
    Profile.objects.update_or_create(
        user=admin, defaults={"display_name": "Stadtverwaltung", "city": city}
    )
    set_role(city, admin, Role.ADMIN)
    survey = Survey.objects.filter(city=city).order_by("pk").first()
    process = survey.process
    idea = (
        Idea.objects.filter(process=process, hidden_at__isnull=True).order_by("-support_count")
    ).first()
    pages = {
        "home": reverse("core:home"),
        "district": reverse("core:district", kwargs={"slug": "pfaff-areal"}),
        "process": process.get_absolute_url(),
        "idea": idea.get_absolute_url(),
        "survey-results": reverse(
            "participation:survey-results", kwargs={"slug": process.slug, "pk": survey.pk}
        ),
        "backoffice": reverse("backoffice:process", kwargs={"slug": process.slug}),
    }
    return pages, admin


def _save(png: bytes, scale: float, target: Path) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if scale != 1.0:
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
    colours = 256
    while True:
        buffer = io.BytesIO()
        image.quantize(colours, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or colours <= 32:
            break
        colours //= 2
    target.write_bytes(buffer.getvalue())
    return buffer.tell()


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    _setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    pages, admin = _pages()
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    server = LiveServerThread("127.0.0.1", lambda _app: WSGIHandler(), port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://127.0.0.1:{server.port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for width, ((w, h), scale) in SIZES.items():
                context = browser.new_context(viewport={"width": w, "height": h})
                # Only the site itself: map tiles from outside are refused (the map's outline shows).
                context.route(lambda u: not u.startswith(url), lambda route: route.abort())
                for name, path in pages.items():
                    if name == "backoffice":
                        context.add_cookies(
                            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}]
                        )
                    page = context.new_page()
                    page.goto(url + path, wait_until="networkidle")
                    target = OUT / f"{name}-{width}.png"
                    size = _save(page.screenshot(), scale, target)
                    print(f"{target.relative_to(ROOT)}: {size // 1000} kB")
                    if name == "backoffice" and width == 320:  # the header menu, opened
                        page.locator("details.header-menu > summary").click()
                        target = OUT / f"menu-{width}.png"
                        size = _save(page.screenshot(), scale, target)
                        print(f"{target.relative_to(ROOT)}: {size // 1000} kB")
                    page.close()
                context.close()
            browser.close()
    finally:
        server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
