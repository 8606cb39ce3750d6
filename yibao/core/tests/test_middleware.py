"""A malformed multipart body answers 400 in Chinese on pages and API, never a 500 with a traceback."""

import pytest
from django.test import Client


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/policy/quote", "/imports/new/roster/"])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"a b\x7f\""])
def test_multipart_without_valid_boundary_is_a_400(db, make_user, path, content_type):
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    response = client.generic("POST", path, data=b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
                              content_type=content_type)
    assert response.status_code == 400
    body = response.content.decode()
    assert "boundary" in body and "表单格式不正确" in body
    assert "Traceback" not in body and "MultiPartParserError" not in body


def test_view_raising_bad_input_answers_400_with_its_message(db, make_user, client):
    client.force_login(make_user())
    response = client.get("/progress/", {"year": "99999"})
    assert response.status_code == 400
    assert "待遇年度应为 1990–2100 之间的年份" in response.content.decode()


@pytest.mark.parametrize("method,path,kwargs", [
    ("get", "/api/residents", {"data": {"q": "张\x00三"}}),
    ("get", "/registry/", {"data": {"q": "\x00"}}),
    ("post", "/api/collection/receipts/1/void", {"data": '{"reason": "a\\u0000b"}', "content_type": "application/json"}),
    ("post", "/collection/refunds/new/", {"data": {"reason": "a\x00"}}),
])
def test_nul_character_anywhere_is_a_400(db, make_user, method, path, kwargs):
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 400
    assert "空字符" in response.content.decode()
