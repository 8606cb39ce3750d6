from django.urls import path

from yibao.enrollment import cityviews, views

app_name = "enrollment"
urlpatterns = [
    path("", views.campaigns, name="campaigns"),
    path("campaigns/open/", views.campaign_open, name="campaign_open"),
    path("campaigns/city-open/", cityviews.city_open, name="city_open"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/assess/", views.campaign_assess, name="campaign_assess"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("campaigns/<int:pk>/reopen/", views.campaign_reopen, name="campaign_reopen"),
    path("campaigns/<int:pk>/assessments/", views.assessments, name="assessments"),
    path("campaigns/<int:pk>/residents/<int:resident_id>/", views.assessment, name="assessment"),
    path("campaigns/<int:pk>/residents/<int:resident_id>/refresh/", views.assessment_refresh, name="assessment_refresh"),
    path("campaigns/<int:pk>/residents/<int:resident_id>/register/", views.enrollment_register, name="register"),
    path("enrollments/", views.enrollments, name="enrollments"),
    path("enrollments/<int:pk>/", views.enrollment, name="enrollment"),
    path("enrollments/<int:pk>/suspend/", views.enrollment_suspend, name="suspend"),
    path("enrollments/<int:pk>/resume/", views.enrollment_resume, name="resume"),
    path("enrollments/<int:pk>/terminate/", views.enrollment_terminate, name="terminate"),
    path("enrollments/<int:pk>/transfer/", views.enrollment_transfer, name="transfer"),
    path("enrollments/<int:pk>/tier/", views.enrollment_tier, name="tier"),
]
