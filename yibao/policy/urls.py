from django.urls import path

from yibao.policy import views

app_name = "policy"
urlpatterns = [
    path("", views.policy_list_page, name="list"),
    path("quote/", views.quote_page, name="quote"),
    path("upload/", views.policy_upload_page, name="upload"),
    path("vocabulary/", views.vocabulary_page, name="vocabulary"),
    path("diff/", views.policy_diff_page, name="diff"),
    path("<str:policy_id>/", views.policy_detail_page, name="detail"),
]
