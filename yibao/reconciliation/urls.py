from django.urls import path

from yibao.reconciliation import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("new/", views.run_new, name="run_new"),
    path("jobs/<int:pk>/run", views.job_run_link, name="job_run_link"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/export.xlsx", views.run_export, name="run_export"),
    path("mismatches/<int:pk>/rectify/", views.mismatch_rectify, name="mismatch_rectify"),
    path("runs/<int:pk>/errors.xlsx", views.run_error_report, name="run_error_report"),
    path("handovers/", views.handovers, name="handovers"),
    path("handovers/<int:pk>/void/", views.handover_void, name="handover_void"),
]
