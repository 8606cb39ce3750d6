from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "yibao.reconciliation"
    label = "reconciliation"
    verbose_name = "对账"
