from django.contrib.auth.models import AbstractUser
from django.db import models

from yibao.accounts.roles import Department, Role


class User(AbstractUser):
    """A staff account bound to one role and one region (county 6, township 9, village 12 digits)."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=24, choices=Role.choices, default=Role.AUDITOR)
    region_code = models.CharField("所属区划代码", max_length=12, blank=True)
    department = models.CharField("所属部门", max_length=16, choices=Department.choices, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)

    class Meta:
        verbose_name = "账号"

    def __str__(self):
        return self.display_name or self.username
