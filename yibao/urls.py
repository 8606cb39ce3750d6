from django.urls import include, path

from yibao.api import api
from yibao.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # monitors, no login (docs/operations.md)
    path("api/", api.urls),
    path("accounts/", include("yibao.accounts.urls")),
    path("policy/", include("yibao.policy.urls")),
    path("regions/", include("yibao.regions.urls")),
    path("registry/", include("yibao.registry.urls")),
    path("imports/", include("yibao.imports.urls")),
    path("enrollment/", include("yibao.enrollment.urls")),
    path("collection/", include("yibao.collection.urls")),
    path("reconciliation/", include("yibao.reconciliation.urls")),
    path("progress/", include("yibao.progress.urls")),
    path("", include("yibao.core.urls")),
]
