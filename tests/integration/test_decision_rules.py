"""What a decision must carry, and which outcomes are plausible (issue 13, items 1–7).

Each rule is catalogue data (``Outcome.requires``, ``reconsideration_first``) enforced by a
guard of the decide row, refusing with a Chinese reason a clerk can act on; and the
agency's 复议机关 and court are settings an admin enters (page, command line).
"""

from __future__ import annotations

from datetime import date

import pytest

from models import Agency, Request
from tests.conftest import NOW, login
from tests.integration.test_cli import cli
from workflow.admin import operations as admin_ops
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, OUTCOME_BY_CODE
from workflow.challenges import operations as cops
from workflow.challenges.operations import refusal_warning
from workflow.challenges.remedies import reconsideration_first
from workflow.challenges.spec import CHALLENGES, fields_for
from workflow.kernel.actor import Actor
from workflow.kernel.errors import GuardError, NotFound, ValidationError
from workflow.requests import operations as ops

INTAKE = {
    "applicant_name": "张三",
    "applicant_kind": "natural_person",
    "subject": "某地块征收补偿安置方案",
    "channel": "in_person",
    "submitted_on": "2026-09-24",
}


def fire(session, users, req: Request, role: str, trigger: str, on: str, **payload):
    actor = Actor.of(users[role])
    return ops.fire(session, req, trigger, actor, NOW, {"effective_date": on, **payload})


def accepted(session, agency: Agency, users) -> Request:
    req = ops.register(session, Actor.of(users["registrar"]), NOW, INTAKE, agency=agency)
    fire(session, users, req, "registrar", "accept", "2026-09-24")
    return req


def refusal(session, agency, users, **payload) -> str:
    req = accepted(session, agency, users)
    with pytest.raises(GuardError) as refused:
        fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post", **payload)
    assert req.state == "in_review"
    return "".join(refused.value.reasons)


# --------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("code", [o.code for o in DECIDABLE_OUTCOMES if "grounds" in o.requires])
def test_everything_withheld_needs_reasons(session, agency, users, code: str) -> None:
    """Art. 36(三), 37: every 不予公开 and 部分公开 (and 36(五)) states its reasons."""
    others = {f: "某内容" for f in OUTCOME_BY_CODE[code].requires if f != "grounds"}
    reason = refusal(session, agency, users, outcome=code, **others)
    assert "理由" in reason
    # Blank reasons are no reasons.
    assert "理由" in refusal(session, agency, users, outcome=code, grounds="  \t ", **others)


def test_every_refusal_and_partial_disclosure_requires_reasons_in_the_catalogue() -> None:
    withheld = [
        o for o in DECIDABLE_OUTCOMES if o.group.code in ("withheld", "partially_disclosed")
    ]
    assert len(withheld) == 9
    assert all("grounds" in o.requires for o in withheld)


def test_prohibited_by_law_names_the_law_and_state_secret_its_basis(session, agency, users) -> None:
    law = refusal(session, agency, users, outcome="withheld.prohibited_by_law", grounds="某理由")
    assert "法律或行政法规的名称及条款" in law
    secret = refusal(session, agency, users, outcome="withheld.state_secret", grounds="某理由")
    assert "定密依据" in secret
    req = accepted(session, agency, users)
    fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post",
         outcome="withheld.prohibited_by_law", grounds="某理由",
         legal_provision="《中华人民共和国统计法》第三十九条")  # fmt: skip
    assert req.state == "concluded"


# --------------------------------------------------------------------------- items 2–4


def test_not_responsible_names_the_agency_and_its_contact(session, agency, users) -> None:
    reason = refusal(session, agency, users, outcome="unavailable.not_responsible")
    assert "理由" in reason and "行政机关名称" in reason and "联系方式" in reason
    # 36(四) needs nothing more: the information does not exist.
    req = accepted(session, agency, users)
    fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post",
         outcome="unavailable.not_held")  # fmt: skip
    assert ops.history(session, req)[-1].payload["outcome"] == "unavailable.not_held"


def test_both_unavailable_answers_count_in_row_four_one() -> None:
    """Art. 36(四) and (五) are both counted in (四)1; 36(一) and (二) both in (一)."""
    for fmt in ("2019", "2021"):
        assert OUTCOME_BY_CODE["unavailable.not_responsible"].row_key(fmt) == "unavailable.not_held"
        assert OUTCOME_BY_CODE["disclosed.published"].row_key(fmt) == "disclosed"


def test_published_and_publication_need_the_route(session, agency, users) -> None:
    for code in ("disclosed.published", "not_processed.publication"):
        assert "获取的方式、途径" in refusal(session, agency, users, outcome=code)


def test_administrative_query_names_the_procedure(session, agency, users) -> None:
    reason = refusal(session, agency, users, outcome="withheld.administrative_query", grounds="x")
    assert "应依照办理的程序" in reason or "依照办理的程序" in reason


# --------------------------------------------------------------------------- item 5


@pytest.mark.parametrize(
    ("code", "on", "first"),
    [
        ("partially_disclosed", date(2024, 1, 1), True),
        ("partially_disclosed", date(2023, 12, 29), False),
        ("withheld.third_party", date(2025, 3, 3), True),
        ("withheld.administrative_query", date(2025, 3, 3), False),
        ("unavailable.not_held", date(2025, 3, 3), False),
        ("unavailable.not_responsible", date(2025, 3, 3), False),
        ("disclosed", date(2025, 3, 3), False),
    ],
)
def test_reconsideration_first(code: str, on: date, first: bool) -> None:
    """行政复议法 Art. 23(1)(四): refusals, 部分公开 included, from 2024-01-01; not 36(七)."""
    assert reconsideration_first(code, on) is first


def test_a_direct_lawsuit_against_a_partial_disclosure_is_warned_about(
    session, agency, users
) -> None:
    req = accepted(session, agency, users)
    fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post",
         outcome="partially_disclosed", grounds="涉及个人隐私")  # fmt: skip
    events = ops.history(session, req)
    warning = refusal_warning(events, {"kind": "litigation", "route": "direct"})
    assert warning is not None and "先申请行政复议" in warning


# --------------------------------------------------------------------------- item 7


def test_still_unclear_needs_an_answered_supplement(session, agency, users) -> None:
    reason = refusal(session, agency, users, outcome="unavailable.still_unclear")
    assert "未告知补正" in reason
    req = ops.register(session, Actor.of(users["registrar"]), NOW, INTAKE, agency=agency)
    fire(session, users, req, "registrar", "request_supplement", "2026-09-25",
         items="请写明文件名称", due_on="2026-10-15")  # fmt: skip
    fire(session, users, req, "registrar", "receive_supplement", "2026-09-30")
    fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post",
         outcome="unavailable.still_unclear")  # fmt: skip
    assert ops.history(session, req)[-1].payload["outcome"] == "unavailable.still_unclear"


def test_on_the_spot_only_on_the_day_of_receipt(session, agency, users) -> None:
    req = accepted(session, agency, users)
    with pytest.raises(GuardError) as refused:
        fire(session, users, req, "handler", "decide", "2026-09-25",
             outcome="disclosed", delivery="on_the_spot")  # fmt: skip
    assert "当场答复" in "".join(refused.value.reasons)
    fire(session, users, req, "handler", "decide", "2026-09-24",
         outcome="disclosed", delivery="on_the_spot")  # fmt: skip
    assert req.state == "concluded"


# --------------------------------------------------------------------------- item 6


def test_proposal_by_agency_kind(session) -> None:
    county = Agency(code="county", name="某某县人民政府", report_level="government")
    dept = Agency(code="county-edu", name="某某县教育局", parent=county, report_level="department")
    top = Agency(code="top", name="某某市人民政府", report_level="government")
    session.add_all([county, dept, top])
    session.flush()
    assert admin_ops.propose_remedy_bodies(dept).reconsideration_body == "某某县人民政府"
    assert admin_ops.propose_remedy_bodies(top).reconsideration_body == "上一级人民政府"
    vertical = admin_ops.propose_remedy_bodies(dept, "vertical")
    assert "第二十七条" in vertical.reason


def test_set_remedy_bodies_refuses_blanks_and_other_branches(session, agency, users) -> None:
    with pytest.raises(ValidationError) as refused:
        admin_ops.set_agency_remedies(
            session, agency.code, {"reconsideration_body": " ", "court": ""}, by=users["admin"]
        )
    assert set(refused.value.field_errors) == {"reconsideration_body", "court"}
    elsewhere = Agency(code="elsewhere", name="另一机关")
    session.add(elsewhere)
    session.flush()
    with pytest.raises(NotFound):
        admin_ops.set_agency_remedies(
            session, "elsewhere", {"reconsideration_body": "甲", "court": "乙"}, by=users["admin"]
        )
    done = admin_ops.set_agency_remedies(
        session, agency.code, {"reconsideration_body": "某市人民政府", "court": "某区人民法院"},
        by=users["admin"],
    )  # fmt: skip
    assert (done.reconsideration_body, done.court) == ("某市人民政府", "某区人民法院")
    assert done.remedies_updated_by == "admin" and done.remedies_updated_at is not None


def test_admin_page_sets_them(app, client, session, agency, users) -> None:
    login(client, "admin")
    page = client.get(f"/admin/agencies/{agency.code}/remedies")
    assert page.status_code == 200 and "建议的行政复议机关" in page.text
    assert 'name="csrf_token"' in page.text  # CSRF is off in tests; the form carries it
    bad = client.post(
        f"/admin/agencies/{agency.code}/remedies",
        data={"reconsideration_body": "", "court": "某区人民法院"},
    )
    assert bad.status_code == 400 and "请填写行政复议机关" in bad.text
    done = client.post(
        f"/admin/agencies/{agency.code}/remedies",
        data={"reconsideration_body": "某市人民政府", "court": "某区人民法院"},
    )
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Agency, agency.id).reconsideration_body == "某市人民政府"
    listing = client.get("/admin/agencies")
    assert "某市人民政府 / 某区人民法院" in listing.text
    assert client.get("/admin/agencies/no-such/remedies").status_code == 404


def test_command_line_sets_and_changes_them(db_url: str) -> None:
    made = cli(db_url, "create-agency", "county", "某县人民政府")
    assert made.returncode == 0 and "不能出具答复书" in made.stdout
    both = cli(
        db_url, "create-agency", "county-edu", "某县教育局", "--parent", "county",
        "--reconsideration-body", "某县人民政府", "--court", "某县人民法院",
    )  # fmt: skip
    assert both.returncode == 0 and "不能出具答复书" not in both.stdout
    changed = cli(db_url, "set-agency-remedies", "county-edu", "--court", "某市铁路运输法院")
    assert changed.returncode == 0, changed.stderr
    assert "某县人民政府" in changed.stdout and "某市铁路运输法院" in changed.stdout
    nothing = cli(db_url, "set-agency-remedies", "county-edu")
    assert nothing.returncode == 1 and "至少填写" in nothing.stderr
    missing = cli(db_url, "set-agency-remedies", "nowhere", "--court", "某法院")
    assert missing.returncode == 1 and "不存在" in missing.stderr


# --------------------------------------------------------------------------- item 15: 审级


def decided_request(session, agency, users) -> Request:
    req = accepted(session, agency, users)
    fire(session, users, req, "handler", "decide", "2026-10-10", delivery="post",
         outcome="disclosed")  # fmt: skip
    return req


def file(session, users, req: Request, **case: str):
    raw = {"effective_date": "2026-10-20", "body": "某机关", "case_no": "某号", **case}
    return cops.file_challenge(session, Actor.of(users["legal"]), NOW, req, raw)


def test_a_reconsideration_is_not_a_first_instance(session, agency, users) -> None:
    req = decided_request(session, agency, users)
    with pytest.raises(GuardError) as refused:
        file(session, users, req, kind="reconsideration", instance="first")
    assert "行政复议不分审级" in "".join(refused.value.reasons)
    with pytest.raises(GuardError) as refused:
        file(session, users, req, kind="litigation", route="direct", instance="reconsideration")
    assert "一审、二审或再审" in "".join(refused.value.reasons)
    case = file(session, users, req, kind="reconsideration")
    assert case.instance == "reconsideration"
    lawsuit = file(session, users, req, kind="litigation", route="direct", case_no="诉1")
    assert lawsuit.instance == "first"


def test_a_reconsideration_decision_is_not_appealed(session, agency, users) -> None:
    req = decided_request(session, agency, users)
    case = file(session, users, req, kind="reconsideration")
    legal = Actor.of(users["legal"])
    cops.fire_challenge(session, case, "conclude", legal, NOW,
                        {"effective_date": "2026-11-20", "result": "maintained"})  # fmt: skip
    with pytest.raises(GuardError) as refused:
        cops.fire_challenge(session, case, "appeal", legal, NOW,
                            {"effective_date": "2026-11-25", "instance": "second",
                             "body": "某中院", "case_no": "二审1号"})  # fmt: skip
    assert "复议后起诉" in "".join(refused.value.reasons)


@pytest.mark.parametrize(
    ("kind", "offered", "not_offered"),
    [
        ("reconsideration", {"maintained", "request_dismissed"}, {"claims_dismissed"}),
        (
            "litigation",
            {"claims_dismissed", "suit_rejected"},
            {"maintained", "application_rejected"},
        ),
    ],
)
def test_each_result_list_offers_its_own_kind(kind, offered, not_offered) -> None:
    (result,) = [
        f for f in fields_for(CHALLENGES.by_trigger["conclude"], kind) if f.name == "result"
    ]
    codes = {code for code, _ in result.choices}
    assert offered <= codes and not (not_offered & codes)
