"""The YAML cases beside each policy file, one pytest item per case, named by the rule it shows."""

import pytest

from yibao.policy.cases import load_cases, run_case
from yibao.policy.loader import cases_path_for, list_policies

POLICIES = list_policies()
CASES = [
    pytest.param(policy, case, id=f"{policy.id}:{case.name}")
    for policy in POLICIES
    for case in load_cases(cases_path_for(policy.path)).cases
]


def test_the_five_seed_localities_are_loaded():
    assert {p.id for p in POLICIES} >= {
        "hubei-chongyang-xiaoling-2024",
        "chongqing-dianjiang-xinmin-2024",
        "hubei-suixian-2023",
        "shanxi-shuozhou-2024",
        "anhui-huaiyuan-2025",
    }


@pytest.mark.parametrize("policy,case", CASES)
def test_case(policy, case):
    result = run_case(policy, case)
    assert result.passed, "\n".join(result.failures)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.id)
def test_cases_cover_every_rule_and_every_subsidy(policy):
    cases = load_cases(cases_path_for(policy.path)).cases
    assert len(cases) >= 15, f"{policy.id} 只有 {len(cases)} 个用例"
    shown_rules = {c.expect.rule for c in cases if c.expect.rule}
    missing = [r.id for r in policy.data.rules if r.id not in shown_rules]
    assert not missing, f"没有用例展示规则：{missing}"
    shown_identities = {c.expect.subsidy_identity for c in cases if c.expect.subsidy_identity}
    uncovered = [i.label for i in policy.data.subsidies.items if not shown_identities & set(i.identities)]
    assert not uncovered, f"没有用例展示资助：{uncovered}"
    window = policy.data.collection.main_window
    paid = {c.paid_on for c in cases}
    assert window.start in paid and window.end in paid, "征缴期首日和末日都要有用例"
