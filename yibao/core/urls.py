from django.urls import path

from yibao.core import search_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("jobs/<int:pk>/progress", views.job_progress_partial, name="job_progress"),
    path("jobs/<int:pk>/report", views.job_report, name="job_report"),
    path("jobs/<int:pk>/report/regenerate", views.job_report_regenerate, name="job_report_regenerate"),
    path("events/", views.events, name="events"),
    path("events/export.xlsx", views.events_export, name="events_export"),
    path("search/", search_views.search, name="search"),
    path("search/suggest/", search_views.search_suggest, name="search_suggest"),
]
