from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from herzstadt.core.urls import api_urlpatterns
from herzstadt.participation.urls import api_urlpatterns as participation_api
from herzstadt.participation.urls import backoffice_urlpatterns
from herzstadt.web import views as web_views

admin.site.site_header = "herzstadt"
admin.site.site_title = "herzstadt"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urlpatterns + participation_api, "api"))),
    path("healthz", web_views.healthz, name="healthz"),
]
urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path(_("privacy/"), web_views.privacy, name="privacy"),
    path("", include("herzstadt.accounts.urls")),
    path("", include("herzstadt.participation.urls")),
    *backoffice_urlpatterns,
    path("", include("herzstadt.core.urls")),
    prefix_default_language=False,
)

handler404 = "herzstadt.web.views.page_not_found"
handler500 = "herzstadt.web.views.server_error"
handler403 = "herzstadt.web.views.permission_denied"
handler400 = "herzstadt.web.views.bad_request"
