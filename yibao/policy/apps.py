from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "yibao.policy"
    label = "policy"
    verbose_name = "缴费政策"
