from django.urls import path
from django.utils.translation import gettext_lazy as _

from herzstadt.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path(_("districts/<slug:slug>/"), views.district_detail, name="district"),
    path(_("measures/"), views.measure_list, name="measures"),
    path(_("measures/<slug:slug>/"), views.measure_detail, name="measure"),
]

# Machine-readable, language-independent.
api_urlpatterns = [
    path("districts/<slug:slug>.geojson", views.district_geojson, name="district-geojson"),
]
