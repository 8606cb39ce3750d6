import datetime as dt

from django.utils import timezone

from yibao.core.clock import business_day_set, business_now, business_today


def test_real_calendar_by_default(settings, monkeypatch):
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    settings.YIBAO_TODAY = None
    assert business_today() == timezone.localdate()


def test_setting_env_and_file_fix_the_day(settings, monkeypatch):
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    settings.YIBAO_TODAY = None
    business_day_set(dt.date(2025, 3, 20))
    assert business_today() == dt.date(2025, 3, 20)
    assert business_now().time().hour == timezone.localtime().hour
    monkeypatch.setenv("YIBAO_TODAY", "2024-10-08")
    assert business_today() == dt.date(2024, 10, 8)
    settings.YIBAO_TODAY = "2024-12-10"
    assert business_today() == dt.date(2024, 12, 10)
    settings.YIBAO_TODAY = None
    monkeypatch.delenv("YIBAO_TODAY")
    business_day_set(None)
    assert business_today() == timezone.localdate()
