from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yibao.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from axes.signals import user_locked_out

        from yibao.accounts.security import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="yibao.accounts.record_lockout")
