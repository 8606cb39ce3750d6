from django.urls import path

from yibao.progress import cityviews, rollup_views, views

app_name = "progress"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("targets/", views.targets, name="targets"),
    path("targets/import/", views.targets_import, name="targets_import"),
    path("targets/city/", cityviews.city_targets, name="city_targets"),
    path("targets/city/import/", cityviews.city_targets_upload, name="city_targets_import"),
    path("targets/derive/", views.targets_derive, name="targets_derive"),
    path("targets/<str:code>/<int:year>/edit/", views.target_edit, name="target_edit"),
    path("reports/<str:kind>.<str:fmt>", views.report, name="report"),
    path("rollup/weekly.<str:fmt>", rollup_views.rollup_report, name="rollup_report"),
    path("remind/", views.remind, name="remind"),
    path("remind/export.xlsx", views.remind_export, name="remind_export"),
    path("remind/<int:resident_id>/mark/", views.remind_mark, name="remind_mark"),
]
