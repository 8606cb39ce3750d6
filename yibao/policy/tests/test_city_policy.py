"""A city-wide policy (region_prefix of 4 digits): the city's 医保局 checks and installs it; a county's
account cannot install it for the whole city, and a city cannot install another city's."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.policy.loader import BUILTIN_DIR, load_policy, policies_for_region
from yibao.policy.services import PolicyInstallError, policy_install

pytestmark = pytest.mark.django_db
CITY_ID = "shanxi-shuozhouxin-2024"


def city_policy(folder, policy_id=CITY_ID, prefix="1406"):
    """朔州's city-wide file under a new id (optionally narrowed to one county's prefix), with its cases."""
    folder.mkdir(exist_ok=True)
    text = (BUILTIN_DIR / "shanxi-shuozhou-2024.yaml").read_text(encoding="utf-8")
    text = text.replace("id: shanxi-shuozhou-2024", f"id: {policy_id}").replace('region_prefix: "1406"', f'region_prefix: "{prefix}"')
    cases = (BUILTIN_DIR / "shanxi-shuozhou-2024.cases.yaml").read_text(encoding="utf-8")
    (folder / f"{policy_id}.yaml").write_text(text, encoding="utf-8")
    (folder / f"{policy_id}.cases.yaml").write_text(cases.replace("policy: shanxi-shuozhou-2024", f"policy: {policy_id}"),
                                                    encoding="utf-8")
    return folder / f"{policy_id}.yaml"


@pytest.fixture
def install_dir(tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setenv("YIBAO_VAR_DIR", str(var))
    return var / "policies"


def test_city_admin_installs_a_city_wide_policy_that_then_applies_to_each_county(tmp_path, install_dir, make_user):
    admin = make_user("sz_admin", role="city_admin", region_code="1406")
    policy = policy_install(path=city_policy(tmp_path / "src"), actor=admin)
    assert (install_dir / f"{CITY_ID}.yaml").exists() and load_policy(CITY_ID).version == policy.version
    event = Event.objects.get(entity="policy", entity_id=CITY_ID)
    assert event.county_code == "1406" and event.actor_name == "sz_admin"
    for county in ("140602", "140621", "1406"):
        assert CITY_ID in {p.id for p in policies_for_region(county)}
    assert CITY_ID not in {p.id for p in policies_for_region("1407")}


def test_county_admin_cannot_install_for_the_whole_city(tmp_path, install_dir, make_user):
    county = make_user("sc_admin", role="county_admin", region_code="140602")
    with pytest.raises(PolicyInstallError, match="区划 1406.*超出当前账号的管辖范围.*全市适用的政策由市医保局安装"):
        policy_install(path=city_policy(tmp_path / "src"), actor=county)
    assert not (install_dir / f"{CITY_ID}.yaml").exists()
    # its own county's file it may install
    own = policy_install(path=city_policy(tmp_path / "own", "shanxi-shuocheng-2024", "140602"), actor=county)
    assert own.data.locality.region_prefix == "140602"


def test_city_admin_cannot_install_another_citys_policy(tmp_path, install_dir, make_user):
    other = make_user("xn_admin", role="city_admin", region_code="4212")
    with pytest.raises(PolicyInstallError, match="超出当前账号的管辖范围"):
        policy_install(path=city_policy(tmp_path / "src"), actor=other)
    assert not Event.objects.filter(entity="policy").exists()
    # a county of its own city is within reach
    mine = policy_install(path=city_policy(tmp_path / "mine", "hubei-chongyangxin-2024", "421223"), actor=other)
    assert mine.id == "hubei-chongyangxin-2024"


def test_upload_page_installs_for_the_city_admin_only(tmp_path, install_dir, client, make_user):
    path = city_policy(tmp_path / "src")

    def upload():
        return client.post("/policy/upload/", {
            "policy_file": SimpleUploadedFile(path.name, path.read_bytes()),
            "cases_file": SimpleUploadedFile(f"{CITY_ID}.cases.yaml", path.with_name(f"{CITY_ID}.cases.yaml").read_bytes()),
            "install": "on",
        }, follow=True)

    client.force_login(make_user("sc_admin", role="county_admin", region_code="140602"))
    refused = upload().content.decode()
    assert "用例 20 个，失败 0 个" in refused and "超出当前账号的管辖范围" in refused
    assert not (install_dir / f"{CITY_ID}.yaml").exists()
    client.force_login(make_user("sz_admin", role="city_admin", region_code="1406"))
    installed = upload().content.decode()
    assert f"已安装政策 {CITY_ID}" in installed and (install_dir / f"{CITY_ID}.yaml").exists()


def test_cli_install_checks_the_named_account(tmp_path, install_dir, make_user):
    make_user("sc_admin", role="county_admin", region_code="140602")
    make_user("sz_admin", role="city_admin", region_code="1406")
    path = str(city_policy(tmp_path / "src"))
    runner = CliRunner()
    refused = runner.invoke(app, ["policy", "install", path, "--user", "sc_admin"])
    assert refused.exit_code == 1 and "超出当前账号的管辖范围" in refused.stderr
    done = runner.invoke(app, ["policy", "install", path, "--user", "sz_admin", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"policy": CITY_ID, "version": load_policy(CITY_ID).version, "region_prefix": "1406"}
