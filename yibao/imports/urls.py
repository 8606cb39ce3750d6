from django.urls import path

from yibao.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("new/<str:kind>/", views.upload, name="upload"),
    path("template/<str:kind>.xlsx", views.template, name="template"),
    path("<int:pk>/", views.job, name="job"),
    path("<int:pk>/commit", views.job_commit, name="job_commit"),
    path("identities/", views.identities, name="identities"),
]
