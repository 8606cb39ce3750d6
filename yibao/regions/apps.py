from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "yibao.regions"
    label = "regions"
    verbose_name = "行政区划"
