"""The API at its edges: out-of-range input is a 422 naming the field, never a 500; the schema and the
answers agree on money; every operation declares its refusals."""

import json

import pytest

from yibao.api import api

HUGE = 2**70


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("edge_admin", role="county_admin", region_code="421223"))
    return client


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("url", ["/api/progress", "/api/progress/ranking", "/api/progress/history",
                                 "/api/progress/renewal", "/api/progress/targets"])
@pytest.mark.parametrize("query", [{"year": "99999"}, {"year": "-25320"}])
def test_year_out_of_range_is_refused(admin_client, url, query):
    response = admin_client.get(url, query)
    assert response.status_code == 422
    assert "数值过" in response.json()["detail"]


@pytest.mark.parametrize("on", ["0", "1", "99999-01-01", "2025-1-1"])
def test_on_must_be_an_iso_date(admin_client, on):
    response = admin_client.get("/api/progress", {"on": on, "year": "2025"})
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/collection/subsidy-refunds/approve", "/api/collection/subsidy-refunds/pay"])
def test_ids_beyond_64_bits_in_bulk_approvals(admin_client, url):
    response = _post(admin_client, url, {"ids": [1, HUGE]})
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/collection/payments/{}", "/api/residents/{}",
                                  "/api/collection/households/{}/dues"])
def test_path_ids_beyond_64_bits(admin_client, path):
    assert admin_client.get(path.format(HUGE)).status_code == 422


@pytest.mark.parametrize("amount", ["1e400", "NaN", "-1", "1.005", 1e300])
def test_amounts_out_of_range_are_refused(admin_client, amount):
    response = _post(admin_client, "/api/collection/counter-payments",
                     {"resident_ids": [1], "channel": "cash", "amount": amount})
    assert response.status_code == 422
    assert "金额" in response.json()["detail"]


def test_over_long_text_is_refused_with_the_limit(admin_client):
    response = _post(admin_client, "/api/enrollments/1/suspend", {"reason": "停" * 201})
    assert response.status_code == 422
    assert "最多 200" in response.json()["detail"]
    response = admin_client.put("/api/progress/targets/421223/2025", json.dumps(
        {"total": 10, "supplementary_label": "标" * 41, "reason": "调整"}), content_type="application/json")
    assert response.status_code == 422 and "最多 40" in response.json()["detail"]


def test_target_counts_beyond_range_are_refused(admin_client):
    response = admin_client.put("/api/progress/targets/421223/2025", json.dumps({"total": HUGE, "reason": "调整"}),
                                content_type="application/json")
    assert response.status_code == 422


def test_money_is_a_decimal_string_in_schema_and_in_answers(admin_client):
    schema = api.get_openapi_schema(path_prefix="/api")
    components = schema["components"]["schemas"]
    money = [(name, field, spec) for name, c in components.items() for field, spec in c.get("properties", {}).items()
             if field in ("amount", "payable", "subsidy", "refund_later", "payable_total", "total", "owed")
             and name.endswith(("Out", "Total", "Person"))]
    assert money
    for name, field, spec in money:
        options = spec.get("anyOf", [spec])
        types = {o.get("type") for o in options if o.get("type") != "null"}
        if "$ref" in spec or types == {"integer"}:  # a nested row, or a head count, not money
            continue
        assert types == {"string"}, (name, field, spec)
        assert any(o.get("pattern") == r"^-?\d+\.\d{2}$" for o in options), (name, field, spec)
    quote = _post(admin_client, "/api/quote",
                  {"policy": "hubei-chongyang-xiaoling-2024", "birth_date": "1970-01-01", "paid_on": "2023-10-10"})
    assert quote.status_code == 200
    assert quote.json()["payable"] == "380.00"


def test_every_operation_declares_its_refusals():
    schema = api.get_openapi_schema(path_prefix="/api")
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            declared = {int(code) for code in operation["responses"]}
            expected = {400, 401, 403, 404, 422} if operation.get("security") else {400, 404, 422}
            assert expected <= declared, f"{method.upper()} {path}: {sorted(declared)}"
            if not operation.get("security") and path not in ("/api/login", "/api/logout"):
                # logging in is public and may answer 401 (wrong password or code) or 403
                assert not {401, 403} & declared, f"{method.upper()} {path} is public: {sorted(declared)}"


@pytest.mark.parametrize("url,data", [
    ("/api/reconciliation/runs", {"benefit_year": "99999"}),
    ("/api/reconciliation/runs", {"benefit_year": "2025", "cash_grace_days": str(HUGE)}),
    ("/api/reconciliation/runs", {"benefit_year": "2025", "county_code": "4" * 300}),
    ("/api/collection/payment-files", {"county_code": "4" * 300}),
    ("/api/imports/jobs", {"kind": "residents", "county_code": "4" * 300}),
])
def test_form_fields_of_uploads_are_bounded(admin_client, url, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    field = "tax_file" if "reconciliation" in url else "file"
    response = admin_client.post(url, {**data, field: SimpleUploadedFile("a.csv", b"x,y\n1,2\n", "text/csv")})
    assert response.status_code == 422, response.content


@pytest.mark.parametrize("name", ["张\u202e三", "李\u200b四", "王\x00五"])
def test_names_with_control_characters_are_refused(admin_client, name):
    response = _post(admin_client, "/api/households", {
        "village_code": "421223200201", "members": [{"name": name, "id_number": "42122319900517123X", "relation": "户主"}],
    })
    assert response.status_code in (400, 422)
    assert "控制字符" in response.json()["detail"] or "空字符" in response.json()["detail"]
    response = _post(admin_client, "/api/collection/receipts/1/void", {"reason": f"作废{name}"})
    assert response.status_code in (400, 422)
