"""Direct answer or only related (retrieval/answer_kind.py): the kind of fact a question asks for, and what it
presumes, against the text of the best articles. Fast unit tests on article texts quoted from the two
regulations; the real index is measured by the quality gate (tests/test_quality_gate_hard.py)."""

from __future__ import annotations

import pytest

from retrieval.answer_kind import DIRECT, NONE, RELATED, asked, claimed, judge

# Quoted verbatim from data/regulations/.
HZ_25 = ("任何组织或者个人有权通过消费者投诉举报热线、政务服务便民热线等方式投诉、举报质量违法行为，"
         "有关部门应当按照职责及时处理。")
HZ_27 = "本办法自 2021 年 9 月 15 日起施行。"
HB_9 = ("鼓励公民、法人和其他组织积极参与质量促进活动。县级以上人民政府应当建立政府质量奖励制度，"
        "对质量管理水平高、成效显著，经济效益、社会效益、生态效益处于行业领先地位的单位和质量工作成绩突出的个人，"
        "按照国家和省有关规定给予奖励。")
HB_37 = ("县级以上人民政府应当支持企业推行首席质量官制度，加大计量、标准、检验检测、认证认可、质量管理等"
         "质量专业技术人才培养和引进力度，将质量人才纳入相关专业人才序列，并按照有关规定在落户、住房、子女入学等方面给予支持。")
HZ_20 = ("鼓励保险机构开发适应质量促进需要的保险产品。支持企业运用保险手段促进产品质量提升和新产品推广应用。"
         "鼓励企业建立和推广第三方质量担保争议处理机制、质量保证金制度。")
HB_44 = ("省人民政府市场监督管理部门应当履行缺陷消费品召回工作监督管理职责，根据需要组织消费品缺陷调查。"
         "企业应当建立消费品缺陷信息的收集核实和分析处理制度，依法实施缺陷消费品召回。")
HB_41 = "县级以上人民政府统计部门应当建立健全质量统计分析制度，定期发布质量状况分析报告。"


@pytest.mark.parametrize(("question", "kind"), [
    ("投诉后多少天内处理完？", "期限"), ("召回要在几天内完成", "期限"), ("信用修复期限是多久", "期限"),
    ("How many days does the department have?", "期限"),
    ("罚款多少", "数额"), ("惩罚性赔偿是损失的几倍", "数额"), ("能拿到多少资助", "数额"),
    ("How much is the award?", "数额"),
    ("申报需要提交哪些材料？", "材料"), ("要交什么材料", "材料"), ("What documents do I need?", "材料"),
    ("召回由哪个部门负责", "部门"), ("Which department is responsible?", "部门"),
    ("实施细则什么时候出台？", "日期"), ("杭州办法是哪一年公布的", "日期"), ("When will the rules be issued?", "日期"),
])
def test_the_kind_of_fact_asked_for(question: str, kind: str):
    assert kind in [a.name for a in asked(question)]


@pytest.mark.parametrize("question", ["首席质量官制度是怎么规定的", "企业要不要配专门管质量的人？",
                                      "每年的质量月活动是谁搞的？",
                                      "What do the Hangzhou measures say about chief quality officers?"])
def test_ordinary_questions_ask_for_no_particular_fact_and_presume_nothing(question: str):
    assert asked(question) == []
    assert claimed(question) == []


def test_a_time_limit_the_article_does_not_state_is_related():
    v = judge("杭州市民投诉质量问题后，有关部门要在多少天内处理完？", [HZ_25], abstained=False)
    assert v.answer == RELATED
    assert "未规定所问的期限" in v.reason and "time limit" in v.reason


def test_a_list_of_materials_or_an_amount_the_article_does_not_hold_is_related():
    assert judge("申报湖北省政府质量奖需要提交哪些材料？", [HB_9], False).answer == RELATED
    assert judge("获得质量奖能拿到多少奖金？", [HB_9], False).answer == RELATED


def test_the_article_that_holds_the_fact_is_a_direct_answer():
    assert judge("杭州办法什么时候施行？", [HZ_27], False).answer == DIRECT
    assert judge("When does the Hangzhou measure take effect?", [HZ_27], False).answer == DIRECT
    assert judge("缺陷消费品召回由哪个部门负责", [HB_44], False).answer == DIRECT
    assert judge("首席质量官制度是怎么规定的", [HB_37], False).answer == DIRECT


def test_a_fact_in_the_second_article_counts_but_not_in_the_third():
    assert judge("杭州办法什么时候施行？", [HZ_25, HZ_27], False).answer == DIRECT
    assert judge("杭州办法什么时候施行？", [HZ_25, HB_9, HZ_27], False).answer == RELATED


@pytest.mark.parametrize(("question", "article", "missing"), [
    ("湖北条例规定企业不设首席质量官要罚款五万元，对吗？", HB_37, ["罚款", "五万元"]),
    ("杭州办法要求所有企业必须购买质量保险吗？", HZ_20, ["必须"]),
    ("湖北条例规定每家企业每年都要提交质量报告吗？", HB_41, ["每年都要"]),
    ("Does the Hangzhou measure fine companies that have no chief quality officer?", HZ_20, ["fine"]),
])
def test_a_claim_the_article_does_not_make_is_named(question: str, article: str, missing: list[str]):
    v = judge(question, [article], False)
    assert v.answer == RELATED
    for w in missing:
        assert f"“{w}”" in v.reason or w in v.reason


def test_a_duty_the_article_does_state_is_no_false_claim():
    # 应当 is how the texts say "must".
    assert judge("企业必须建立消费品缺陷信息收集制度吗？", [HB_44], False).answer == DIRECT


def test_years_and_article_numbers_are_no_claimed_figures():
    assert claimed("2024年的湖北条例第37条讲什么") == []
    assert claimed("杭州办法是哪一年公布的") == []


def test_an_abstained_search_is_neither():
    v = judge("缺陷消费品召回要几天完成", [HB_44], abstained=True)
    assert v.answer == NONE and v.reason is None
    assert judge("anything", [], False).answer == NONE


@pytest.mark.integration
def test_the_command_line_json_says_direct_or_related(real_index, capsys):
    import json

    from retrieval.__main__ import main

    assert main(["search", "--index", str(real_index), "--json", "-k", "3",
                 "杭州市民投诉质量问题后，有关部门要在多少天内处理完？"]) == 0
    related = json.loads(capsys.readouterr().out)
    assert (related["answer"], related["abstained"]) == ("related", False)
    assert "未规定所问的期限" in related["reason"]
    assert ("杭州市质量促进办法", "第二十五条") in {(r["title"], r["article"]) for r in related["results"]}
    assert main(["search", "--index", str(real_index), "--json", "-k", "3", "杭州办法什么时候施行"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert (direct["answer"], direct["reason"]) == ("direct", None)
    assert (direct["results"][0]["title"], direct["results"][0]["article"]) == ("杭州市质量促进办法", "第二十七条")


def test_new_materials_are_no_paperwork_and_a_qualification_system_is_no_certificate():
    hb_40 = ("鼓励保险机构开发适应质量促进需要的保险产品，加大质量保险推广力度。支持企业运用保险手段促进质量提升和"
             "新技术、新材料、新模式、新工艺的推广应用。")
    assert judge("申报湖北省政府质量奖需要提交哪些材料？", [HB_9, hb_40], False).answer == RELATED
    hb_37_3 = "完善质量专业技术人员职称制度，实现职称制度与职业资格制度有效衔接。"
    assert judge("首席质量官必须持证上岗，对吗？", [HB_37, hb_37_3], False).answer == RELATED
