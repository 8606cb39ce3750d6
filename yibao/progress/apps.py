from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "yibao.progress"
    label = "progress"
    verbose_name = "进度与报表"
