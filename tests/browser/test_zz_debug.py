from django.urls import translate_url


def test_debug(site):
    ctx = site.context()
    page = ctx.new_page()
    for name in ("sign-up", "idea-form"):
        page.goto(site.url + translate_url(site.pages[name], "en"))
        print(
            name,
            page.evaluate(
                "() => [...document.querySelectorAll('main label, main button')].map(l => l.tagName + ':' + l.textContent.trim().replace(/\\s+/g,' '))"
            ),
        )
    ctx.close()
    ctx = site.context(site.citizen)
    page = ctx.new_page()
    for name in ("idea-form", "idea", "survey"):
        page.goto(site.url + translate_url(site.pages[name], "en"))
        print(
            name,
            page.evaluate(
                "() => [...document.querySelectorAll('main label, main button, main input')].map(l => l.tagName + ':' + (l.name||'') + ':' + l.textContent.trim().replace(/\\s+/g,' '))"
            ),
        )
    ctx.close()
