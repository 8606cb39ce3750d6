import shutil

import pytest

from yibao.core.models import Event
from yibao.policy.loader import BUILTIN_DIR, load_policy
from yibao.policy.services import PolicyInstallError, policy_check, policy_install



def next_year_file(tmp_path):
    """A county's 2026 file made from its 2025 one, as staff would do."""
    source = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8")
    cases = (BUILTIN_DIR / "anhui-huaiyuan-2025.cases.yaml").read_text(encoding="utf-8")
    path = tmp_path / "anhui-huaiyuan-2026.yaml"
    path.write_text(source.replace("id: anhui-huaiyuan-2025", "id: anhui-huaiyuan-2026").replace("benefit_year: 2025", "benefit_year: 2026"), encoding="utf-8")
    (tmp_path / "anhui-huaiyuan-2026.cases.yaml").write_text(cases.replace("policy: anhui-huaiyuan-2025", "policy: anhui-huaiyuan-2026"), encoding="utf-8")
    return path


@pytest.fixture
def install_dir(tmp_path, monkeypatch):
    var = tmp_path / "var"
    monkeypatch.setenv("YIBAO_VAR_DIR", str(var))
    return var / "policies"


def test_check_runs_the_cases_of_a_new_year_and_finds_what_no_longer_holds(tmp_path):
    report = policy_check(path=next_year_file(tmp_path))
    assert report.policy.id == "anhui-huaiyuan-2026"
    # the dates in the 2025 cases no longer fall in the 2026 year: the check must say so
    assert report.failed and not report.ok


@pytest.mark.django_db
def test_install_copies_a_checked_file_and_records_an_event(tmp_path, install_dir):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("shanxi-shuozhou-2024.yaml", "shanxi-shuozhou-2024.cases.yaml"):
        shutil.copy(BUILTIN_DIR / name, source / name.replace("2024", "2024"))
    # rename the locality id so it is not a built-in
    text = (source / "shanxi-shuozhou-2024.yaml").read_text(encoding="utf-8").replace("id: shanxi-shuozhou-2024", "id: shanxi-shuocheng-2024")
    (source / "shanxi-shuocheng-2024.yaml").write_text(text, encoding="utf-8")
    cases = (source / "shanxi-shuozhou-2024.cases.yaml").read_text(encoding="utf-8").replace("policy: shanxi-shuozhou-2024", "policy: shanxi-shuocheng-2024")
    (source / "shanxi-shuocheng-2024.cases.yaml").write_text(cases, encoding="utf-8")

    policy = policy_install(path=source / "shanxi-shuocheng-2024.yaml", actor="命令行:test")
    assert (install_dir / "shanxi-shuocheng-2024.yaml").exists()
    assert load_policy("shanxi-shuocheng-2024").version == policy.version
    event = Event.objects.get(entity="policy", entity_id="shanxi-shuocheng-2024")
    assert event.action == "installed" and event.after["version"] == policy.version

    with pytest.raises(PolicyInstallError, match="已安装"):
        policy_install(path=source / "shanxi-shuocheng-2024.yaml")
    policy_install(path=source / "shanxi-shuocheng-2024.yaml", replace=True)


@pytest.mark.django_db
def test_install_refuses_failing_cases_and_builtin_ids(tmp_path, install_dir):
    with pytest.raises(PolicyInstallError, match="用例未通过"):
        policy_install(path=next_year_file(tmp_path))
    builtin_copy = tmp_path / "b"
    builtin_copy.mkdir()
    for name in ("shanxi-shuozhou-2024.yaml", "shanxi-shuozhou-2024.cases.yaml"):
        shutil.copy(BUILTIN_DIR / name, builtin_copy / name)
    with pytest.raises(PolicyInstallError, match="系统内置政策"):
        policy_install(path=builtin_copy / "shanxi-shuozhou-2024.yaml")
    assert not install_dir.exists() or not any(install_dir.iterdir())


@pytest.mark.django_db
def test_a_new_countys_notice_is_uploaded_checked_and_installed_with_its_policy(tmp_path, install_dir):
    from yibao.policy.services import policy_check_uploaded

    notice = (BUILTIN_DIR.parent / "notices" / "003_f4d22e1b3ea3efd6.txt").read_bytes()
    text = (BUILTIN_DIR / "shanxi-shuozhou-2024.yaml").read_text(encoding="utf-8")
    text = text.replace("id: shanxi-shuozhou-2024", "id: shanxi-shuocheng-2024").replace(
        "seed: 003_f4d22e1b3ea3efd6.txt", "seed: shuocheng-2024.txt")
    cases = (BUILTIN_DIR / "shanxi-shuozhou-2024.cases.yaml").read_text(encoding="utf-8").replace(
        "policy: shanxi-shuozhou-2024", "policy: shanxi-shuocheng-2024")
    without, _ = policy_check_uploaded(policy_bytes=text.encode(), cases_bytes=cases.encode(),
                                       policy_name="shanxi-shuocheng-2024.yaml")
    assert "通知原文 shuocheng-2024.txt 未找到" in without.error
    report, path = policy_check_uploaded(policy_bytes=text.encode(), cases_bytes=cases.encode(),
                                         policy_name="shanxi-shuocheng-2024.yaml", notice_bytes=notice,
                                         notice_name="shuocheng-2024.txt")
    assert report.ok, report.error
    policy_install(path=path, actor="命令行:test")
    assert (install_dir / "notices" / "shuocheng-2024.txt").read_bytes() == notice
    assert load_policy("shanxi-shuocheng-2024").id == "shanxi-shuocheng-2024"
