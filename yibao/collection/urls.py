from django.urls import path

from yibao.collection import views

app_name = "collection"
urlpatterns = [
    path("", views.counter, name="counter"),
    path("counter/households/<int:pk>/", views.counter_household, name="counter_household"),
    path("counter/residents/<int:pk>/", views.counter_resident, name="counter_resident"),
    path("counter/pay/", views.counter_pay, name="counter_pay"),
    path("receipts/<int:pk>/", views.receipt, name="receipt"),
    path("receipts/<int:pk>/pdf", views.receipt_pdf, name="receipt_pdf"),
    path("receipts/<int:pk>/void/", views.receipt_void, name="receipt_void"),
    path("payments/", views.payments, name="payments"),
    path("payments/<int:pk>/", views.payment, name="payment"),
    path("payments/<int:pk>/top-up/", views.payment_top_up, name="payment_top_up"),
    path("payments/<int:pk>/recheck/", views.payment_recheck, name="payment_recheck"),
    path("refunds/", views.refunds, name="refunds"),
    path("refunds/new/", views.refund_new, name="refund_new"),
    path("refunds/<int:pk>/approve/", views.refund_approve, name="refund_approve"),
    path("refunds/<int:pk>/reject/", views.refund_reject, name="refund_reject"),
    path("refunds/<int:pk>/book/", views.refund_book, name="refund_book"),
    path("subsidy-refunds/", views.subsidy_refunds, name="subsidy_refunds"),
    path("subsidy-refunds/action/", views.subsidy_refunds_action, name="subsidy_refunds_action"),
    path("subsidy-refunds/export.xlsx", views.subsidy_refunds_export, name="subsidy_refunds_export"),
    path("ingest/", views.ingest, name="ingest"),
    path("ingest/<int:pk>/", views.ingest_job, name="ingest_job"),
]
