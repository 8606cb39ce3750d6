from django.urls import path

from yibao.registry import views, views_undo

app_name = "registry"
urlpatterns = [
    path("residents/", views.residents, name="residents"),
    path("residents/export.xlsx", views.residents_export, name="residents_export"),
    path("residents/<int:pk>/", views.resident, name="resident"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/move/", views.resident_move, name="resident_move"),
    path("residents/<int:pk>/identities/", views.identity_add, name="identity_add"),
    path("residents/<int:pk>/groups/", views.group_fact_add, name="group_fact_add"),
    path("identities/<int:pk>/end/", views.identity_end, name="identity_end"),
    path("groups/<int:pk>/remove/", views.group_fact_remove, name="group_fact_remove"),
    path("households/new/", views.household_new, name="household_new"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/members/", views.household_member_add, name="household_member_add"),
    path("households/<int:pk>/head/", views.household_set_head, name="household_set_head"),
    path("review/", views.identity_review, name="identity_review"),
    path("flags/", views.flags, name="flags"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("changes/<int:pk>/undo/", views_undo.status_undo, name="status_undo"),
]
