from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "yibao.registry"
    label = "registry"
    verbose_name = "户籍与参保人"
