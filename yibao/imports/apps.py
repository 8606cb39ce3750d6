from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "yibao.imports"
    label = "imports"
    verbose_name = "导入"
