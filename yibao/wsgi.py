import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
application = get_wsgi_application()


def _refuse_without_hosts() -> None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        raise ImproperlyConfigured("生产环境必须设置 ALLOWED_HOSTS（本服务的域名或 IP，逗号分隔；见 docs/deploy.md）。")


_refuse_without_hosts()
