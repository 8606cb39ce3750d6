from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "yibao.enrollment"
    label = "enrollment"
    verbose_name = "参保与核定"
