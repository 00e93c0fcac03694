"""Urban data's addresses: the back-office section "API-Zugänge" (mounted by the shell under
``/verwaltung/`` in the shared namespace ``backoffice``) and the OAuth2 token endpoint (under
``/api/v1/``, namespace ``api``)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from oauth2_provider.views import TokenView

from herzstadt.urbandata import api, downloads
from herzstadt.urbandata import views as urban_views
from herzstadt.urbandata.backoffice import (
    client_create,
    client_detail,
    client_edit,
    client_new_key,
    client_oauth,
    client_revoke,
    dead_letters,
    device_create,
    device_detail,
    device_revoke,
    open_data,
    overview,
    registry,
    registry_create,
    registry_delete,
    registry_edit,
)

backoffice_urlpatterns = [
    path(_("api-access/"), overview, name="api-access"),
    path(_("api-access/open-data/"), open_data, name="api-open-data"),
    path(_("api-access/clients/new/"), client_create, name="api-client-create"),
    path(_("api-access/clients/<int:pk>/"), client_detail, name="api-client"),
    path(_("api-access/clients/<int:pk>/edit/"), client_edit, name="api-client-edit"),
    path(_("api-access/clients/<int:pk>/revoke/"), client_revoke, name="api-client-revoke"),
    path(_("api-access/clients/<int:pk>/new-key/"), client_new_key, name="api-client-new-key"),
    path(_("api-access/clients/<int:pk>/oauth/"), client_oauth, name="api-client-oauth"),
    path(_("api-access/devices/new/"), device_create, name="api-device-create"),
    path(_("api-access/devices/<int:pk>/"), device_detail, name="api-device"),
    path(_("api-access/devices/<int:pk>/revoke/"), device_revoke, name="api-device-revoke"),
    path(_("api-access/registry/"), registry, name="api-registry"),
    path(_("api-access/registry/new/"), registry_create, name="api-registry-create"),
    path(_("api-access/registry/<int:pk>/"), registry_edit, name="api-registry-edit"),
    path(_("api-access/registry/<int:pk>/delete/"), registry_delete, name="api-registry-delete"),
    path(_("api-access/rejected-messages/"), dead_letters, name="api-dead-letters"),
]

#: Citizen pages (namespace ``urbandata``).
urlpatterns = [
    path(
        _("urban-data/<slug:district>/<str:type_name>/"),
        urban_views.type_page,
        name="type",
    ),
]

#: OAuth2 client-credentials grant: POST grant_type=client_credentials with the client id and
#: secret (HTTP Basic or form fields) → a bearer token for the NGSI-LD API.
api_urlpatterns = [
    path("oauth/token/", TokenView.as_view(), name="oauth-token"),
    # the device registry (MQTT ingestion): API clients with the admin scope
    path("devices/", api.device_list, name="devices"),
    path("devices/<int:pk>/", api.device_detail, name="device"),
    path("dead-letters/", api.dead_letters, name="dead-letters"),
    # a published entity type's current entities as CSV (open data, no credentials)
    path("open-data/entities.csv", downloads.type_csv, name="urbandata-entities-csv"),
]
