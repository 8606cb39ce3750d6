"""The 催缴 mark 拒缴: a record with a required 说明; the person stays on the list, still 未缴 and to chase,
and is counted apart (其中拒缴) on the page, the API, the export and the figures of any day."""

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from python_calamine import CalamineWorkbook

from yibao.core.clock import business_today
from yibao.core.eventtext import event_sentence
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.progress import services
from yibao.progress.models import DaySnapshot, RemindMark
from yibao.progress.selectors import progress_tree
from yibao.progress.remind import remind_rows
from yibao.progress.tests import builders as b
from yibao.registry.models import Resident, StatusChange

pytestmark = pytest.mark.django_db
D = dt.date(2024, 10, 31)


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def sheets(content: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def refuse(person, note="嫌贵，不愿参保", actor="测试"):
    return services.remind_mark(actor=actor, resident=person, benefit_year=2025, outcome="refused", note=note)


def test_refused_is_a_record_with_a_required_note_and_an_event(county):
    with pytest.raises(ValidationError) as exc:
        services.remind_mark(actor="测试", resident=county["b"], benefit_year=2025, outcome="refused", note=" ")
    assert "note" in exc.value.message_dict and "拒缴" in exc.value.message_dict["note"][0]
    mark = refuse(county["b"])
    assert (mark.outcome, mark.note, mark.effects, mark.closes) == ("refused", "嫌贵，不愿参保", [], False)
    assert Resident.objects.get(pk=county["b"].pk).status == Resident.Status.ACTIVE
    assert Enrollment.objects.get(resident=county["b"], benefit_year=2024).status == "paid"
    event = Event.objects.get(entity="remind", entity_id=str(county["b"].pk))
    assert event.action == "refused" and event.after["note"] == "嫌贵，不愿参保"
    sentence = event_sentence(event)
    assert sentence.startswith("测试 在2025年度催缴名单上记录 乙（") and sentence.endswith("）拒缴（嫌贵，不愿参保），仍待催缴")


def test_a_refused_person_stays_on_the_list_and_is_counted_apart(county):
    from yibao.accounts.scope import Scope

    scope = Scope(role="county_admin", region_code=b.COUNTY)
    refuse(county["b"])
    open_rows = remind_rows(scope=scope, village_code=b.DONGCUN, benefit_year=2025, state="open", on=D)
    assert [r.resident.name for r in open_rows] == ["乙", "丁"] and [r.refused for r in open_rows] == [True, False]
    refused = remind_rows(scope=scope, village_code=b.DONGCUN, benefit_year=2025, state="refused", on=D)
    assert [r.resident.name for r in refused] == ["乙"]
    assert remind_rows(scope=scope, village_code=b.DONGCUN, benefit_year=2025, state="closed", on=D) == []
    tree = progress_tree(county_code=b.COUNTY, benefit_year=2025)
    for code in (b.DONGCUN, b.LIUCHENG, b.COUNTY):
        unit = tree.get(code)
        assert (unit.remind_open, unit.remind_refused, unit.remind_closed) == (2, 1, 0), code
    # the mark recounted the village: today's stored figures have it too
    assert DaySnapshot.objects.get(region_code=b.DONGCUN, day=business_today()).remind_refused == 1
    # a newer 已联系 replaces it; a payment takes the person off the list and out of 其中拒缴
    services.remind_mark(actor="测试", resident=county["b"], benefit_year=2025, outcome="contacted", note="答应月底缴")
    assert progress_tree(county_code=b.COUNTY, benefit_year=2025).get(b.COUNTY).remind_refused == 0
    refuse(county["b"], note="又不缴了")
    assert progress_tree(county_code=b.COUNTY, benefit_year=2025).get(b.COUNTY).remind_refused == 1
    b.pay(county["b"], D, "380.00")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    unit = progress_tree(county_code=b.COUNTY, benefit_year=2025).get(b.COUNTY)
    assert (unit.remind_open, unit.remind_refused) == (1, 0)


def test_a_past_day_keeps_its_refused_count(client, login, county, settings):
    settings.YIBAO_TODAY = D.isoformat()
    login()
    refuse(county["b"])
    later = D + dt.timedelta(days=3)
    settings.YIBAO_TODAY = later.isoformat()
    b.pay(county["b"], later, "380.00")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    assert client.get("/api/progress", {"year": 2025}).json()["unit"]["remind_refused"] == 0
    then = client.get("/api/progress", {"year": 2025, "on": D.isoformat()}).json()
    assert then["source"] == "counted" and (then["unit"]["remind_open"], then["unit"]["remind_refused"]) == (2, 1)
    renewal = client.get("/api/progress/renewal", {"year": 2025, "on": D.isoformat()}).json()
    assert (renewal["total"]["open"], renewal["total"]["refused"]) == (2, 1)
    # a day never counted is rebuilt from dates: the refusal was made by then and 乙 had not paid yet
    # (marked_at is a real-clock stamp: put it on the real day that the test's business day D stands for)
    RemindMark.objects.update(marked_at=timezone.now() - (later - D))
    DaySnapshot.objects.filter(day=D).delete()
    rebuilt = client.get("/api/progress", {"year": 2025, "on": D.isoformat()}).json()
    assert rebuilt["source"] == "rebuilt" and rebuilt["unit"]["remind_refused"] == 1
    day_before = client.get("/api/progress", {"year": 2025, "on": (D - dt.timedelta(days=1)).isoformat()}).json()
    assert day_before["unit"]["remind_refused"] == 0


def test_the_page_marks_refused_without_a_sheet_and_offers_the_undo(client, login, county):
    login("village_collector", b.DONGCUN)
    html = client.get("/progress/remind/", {"year": 2025, "on": D.isoformat()}).content.decode()
    assert '<option value="refused">拒缴</option>' in html and "其中拒缴" in html
    url = f"/progress/remind/{county['b'].pk}/mark/"
    bare = client.post(url, {"year": 2025, "outcome": "refused", "note": ""}, HTTP_HX_REQUEST="true")
    assert "标记“拒缴”须填写说明" in bare.content.decode() and not RemindMark.objects.exists()
    done = client.post(url, {"year": 2025, "outcome": "refused", "note": "嫌贵"}, HTTP_HX_REQUEST="true")
    text = done.content.decode()
    assert "已标记 乙：拒缴" in text and "将标记为" not in text and "撤销（10 分钟内有效）" in text
    change = StatusChange.objects.get()
    assert change.kind == "remind_mark" and change.lines == ["催缴标记为拒缴"]
    listed = client.get("/progress/remind/", {"year": 2025, "state": "refused"}).content.decode()
    assert "乙" in listed and 'data-mark="refused"' in listed and "丁" not in listed
    undone = client.post(f"/registry/changes/{change.pk}/undo/", HTTP_HX_REQUEST="true")
    assert undone.status_code == 200 and not RemindMark.objects.exists()
    assert Event.objects.filter(entity="remind", action="undo").count() == 1


def test_the_summary_shows_the_refused_apart(client, login, county):
    refuse(county["b"])
    login()
    html = client.get("/progress/remind/", {"year": 2025}).content.decode()
    assert 'data-field="refused">其中拒缴 1 人<' in html and 'data-field="open">2<' in html
    dashboard = client.get("/progress/", {"year": 2025}).content.decode()
    assert '待催缴中拒缴 <span data-field="remind_refused">1</span> 人' in dashboard


def test_the_api_marks_refused_and_lists_it(client, login, county):
    login("village_collector", b.DONGCUN)
    bare = post_json(client, f"/api/remind/{county['b'].pk}/marks", {"benefit_year": 2025, "outcome": "refused"})
    assert bare.status_code == 400 and "须填写说明" in bare.json()["detail"]
    marked = post_json(client, f"/api/remind/{county['b'].pk}/marks",
                       {"benefit_year": 2025, "outcome": "refused", "note": "嫌贵"})
    assert marked.status_code == 201, marked.content
    body = marked.json()
    assert (body["outcome"], body["outcome_label"], body["effects"]) == ("refused", "拒缴", [])
    assert body["undo_change_id"] == StatusChange.objects.get().pk
    data = client.get("/api/remind", {"village": b.DONGCUN, "year": 2025, "state": "refused"}).json()
    assert [(p["name"], p["mark"], p["refused"], p["closed"]) for p in data["people"]] == [("乙", "拒缴", True, False)]
    assert client.get("/api/remind", {"village": b.DONGCUN, "year": 2025, "state": "nope"}).status_code == 404


def test_the_export_and_the_workbook_show_the_refused(client, login, county):
    refuse(county["b"])
    login("township_officer", b.LIUCHENG)
    village = client.get("/progress/remind/export.xlsx", {"village": b.DONGCUN, "year": 2025, "on": D.isoformat()})
    rows = next(iter(sheets(village.content).values()))
    assert "共 2 人，其中拒缴 1 人" in rows[1][0]
    header = rows[2]
    yi = next(r for r in rows[3:] if r[3] == "乙")
    assert yi[header.index("催缴结果")] == "拒缴" and yi[header.index("催缴说明")] == "嫌贵，不愿参保"
    only = client.get("/api/remind/export.xlsx", {"village": b.DONGCUN, "year": 2025, "state": "refused"})
    assert [r[3] for r in next(iter(sheets(only.content).values()))[3:] if r[3]] == ["乙"]
    book = sheets(client.get("/progress/remind/export.xlsx", {"region": b.LIUCHENG, "year": 2025}).content)
    summary = book["汇总"]
    assert summary[3][4:6] == ["人数", "其中拒缴"]
    dong = next(r for r in summary[4:] if r[3] == b.DONGCUN)
    total = next(r for r in summary[4:] if r[1] == "合计")
    assert (dong[4], dong[5], total[5]) == (2, 1, 1)
