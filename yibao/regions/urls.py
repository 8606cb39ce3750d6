from django.urls import path

from yibao.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<str:code>/", views.node, name="node"),
]
