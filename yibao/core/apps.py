from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yibao.core"
    label = "core"
    verbose_name = "公共"

    def ready(self):
        # every app's tasks.py registers its job runners
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("tasks")
