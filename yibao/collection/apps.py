from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "yibao.collection"
    label = "collection"
    verbose_name = "征收、票据与退费"
