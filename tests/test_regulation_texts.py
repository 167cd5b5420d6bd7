"""The real parser on the product's two real regulation texts (no model, no index).

Every expectation here is copied from the received texts in data/regulations/, not from parser output:
a change that drops, invents or reorders one character of an article fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from ingest.parse import parse_regulation
from ingest.schema import Article
from ingest.sources import SourceDoc, load_source
from tests.conftest import REGULATIONS

HUBEI = "hubei-quality-promotion-2024"
HANGZHOU = "hangzhou-quality-promotion-2021"

# The texts exactly as received: digests from the table in /work/shared/regulations/README.md (the
# hand-over note for the corpus), copied here so CI does not depend on that folder.
SHA256 = {
    f"{HUBEI}.txt": "dfd6b5ca0baa971322202354d83f2dc04f974069a7a579e2a7ed4b4610b83111",
    f"{HANGZHOU}.txt": "ed42ddf10ba7c324da195069a7fad6cfb8b74a879927100a22e15404773cc058",
}

HUBEI_CHAPTERS = ["第一章 总则", "第二章 基础支撑", "第三章 创新驱动", "第四章 品牌引领", "第五章 保障措施",
                  "第六章 监督考核", "第七章 附则"]
# The first article of each chapter, as printed in the body.
HUBEI_CHAPTER_STARTS = {1: "第一章 总则", 10: "第二章 基础支撑", 19: "第三章 创新驱动", 27: "第四章 品牌引领",
                        35: "第五章 保障措施", 43: "第六章 监督考核", 49: "第七章 附则"}

LABELS = ["第一条", "第二条", "第三条", "第四条", "第五条", "第六条", "第七条", "第八条", "第九条", "第十条",
          "第十一条", "第十二条", "第十三条", "第十四条", "第十五条", "第十六条", "第十七条", "第十八条", "第十九条",
          "第二十条", "第二十一条", "第二十二条", "第二十三条", "第二十四条", "第二十五条", "第二十六条",
          "第二十七条", "第二十八条", "第二十九条", "第三十条", "第三十一条", "第三十二条", "第三十三条",
          "第三十四条", "第三十五条", "第三十六条", "第三十七条", "第三十八条", "第三十九条", "第四十条",
          "第四十一条", "第四十二条", "第四十三条", "第四十四条", "第四十五条", "第四十六条", "第四十七条",
          "第四十八条", "第四十九条"]

# Articles split by a page break (a blank line in mid-sentence), as one text. Adjacent literals without
# "\n" between them are the two sides of the page break; "\n" separates 款.
PAGE_BROKEN = {
    HUBEI: {
        "第十一条": "省人民政府应当建立健全政府主导制定的标准"
                    "与市场自主制定的标准协同发展、协调配套的标准体系。\n"
                    "县级以上人民政府应当支持企业事业单位和社会组织创建专业标准化技术组织、技术标准创新基地、"
                    "质量标准实验室、标准验证点等，构建标准化科技支撑体系，支持开展标准化试点工作。",
        "第十五条": "鼓励和支持企业将产品或者服务纳入国家推行"
                    "的认证体系，推行高端品质认证和新型服务认证，构建认证认可国际和区域合作机制，"
                    "提升认证认可市场化、国际化水平。\n"
                    "健全政府、行业、社会等多层面的认证采信机制，推动认证结果在市场采购、行业管理、行政监管、"
                    "社会治理等领域采信。",
        "第二十四条": "县级以上人民政府建设主管部门应当会同市场监督管理、科学技术、经济和信息化等部门探索建立"
                      "建设工程质量评价制度，推进工程质量管理智能化建设，加强建筑信息模型等技术的应用，"
                      "推广工程建设数字化成果交付与应用，推动工程品质提升。\n"
                      "县级以上人民政府交通运输、水行政等有关部门在各自的职"
                      "责范围内，推动本行政区域内专业建设工程品质提升。",
        "第二十九条": "省人民政府及其有关部门应当采取措施，支持各地根据区域特色和资源禀赋，加强区域公用品牌的"
                      "评选、认定和监督管理工作，培育特色鲜明、竞争力强、市场信誉好的区域"
                      "公用品牌。",
        "第三十九条": "县级以上人民政府发展改革、经济和信息化、市场监督管理等部门应当会同金融监督管理部门按照"
                      "国家有关规定，建立质量增信融资体系和制度。\n"
                      "鼓励银行业金融机构将质量和标准水平、品牌价值等纳入企"
                      "业信用评价指标和贷款发放参考因素。",
        "第四十六条": "省人民政府发展改革部门应当会同市场监督管理等部门依法建立质量诚信体系，健全质量信用信息"
                      "收集和公开公示制度，完善质量信用评价机制，实施质量信用分类监管。\n"
                      "县级以上人民政府发展改革部门应当会同市场监督管理等部门依法建立并实施质量守信激励和失信"
                      "惩戒制度，对失信主体"
                      "依法予以惩戒。",
    },
    HANGZHOU: {
        "第四条": "市、区、县（市）人民政府应当建立健全质量促进工作保障和协调机制，统筹领导有关部门依法履行"
                  "质量促进相关职责。\n"
                  "市场监督管理部门负责质量促进具体组织、协调、督查、考核等工作。\n"
                  "发展改革、住房和城乡建设、生态环境、财政、经济和信息化、"
                  "科技、商务、教育、人力社保、卫生健康、交通运输、文化广电旅游、版权、农业农村、林业水利、"
                  "公安等部门应当按照各自职责做好质量促进相关工作。",
        "第八条": "市市场监督管理部门组织落实标准化战略，建立杭州标准化智库，加强杭州标准制定的组织、引导和"
                  "服务，支持标准化试点示范。依托本市国际标准化会议基地，推动标准化国际合作，"
                  "建立信息通报、标准比对和共同制定国际标准等交流合作机制。",
        "第十三条": "市、区、县（市）人民政府应当支持企事业单位、高等学校、科研机构等开展质量技术基础研究和"
                    "关键核心技术攻"
                    "关，加大研发投入，推进质量技术创新，加速科技成果向现实生产力转化。",
        "第二十二条": "市场监督管理、发展改革、住房和城乡建设、生态环境等部门应当依托数字化智慧监管系统，"
                      "建立和完善互联网多"
                      "元质量安全监管长效机制。",
    },
}

# Articles with more than one 款, and how each 款 begins (copied from the text). Every other article has
# exactly one 款 (Hubei 第六条's items （一）…（五） belong to the 款 that introduces them).
PARAGRAPH_STARTS = {
    HUBEI: {
        "第五条": ["县级以上人民政府市场监督", "县级以上人民政府有关部门"],
        "第七条": ["行业协会应当按照章程", "鼓励行业协会在标准制定"],
        "第九条": ["鼓励公民、法人", "县级以上人民政府应当建立政府质量奖励"],
        "第十条": ["省人民政府应当建立健全全省", "省人民政府市场监督管理部门"],
        "第十一条": ["省人民政府应当建立健全政府主导", "县级以上人民政府应当支持"],
        "第十二条": ["县级以上人民政府及其有关部门", "鼓励社会团体、企业", "支持在重要行业", "鼓励企业、社会团体"],
        "第十四条": ["省人民政府应当推动建设", "鼓励社会资本投资"],
        "第十五条": ["鼓励和支持企业将产品", "健全政府、行业、社会"],
        "第十七条": ["省人民政府市场监督管理部门", "县级以上人民政府应当推动"],
        "第二十三条": ["企业应当保障创新", "企业应当建立健全内部"],
        "第二十四条": ["县级以上人民政府建设主管", "县级以上人民政府交通运输"],
        "第二十六条": ["县级以上人民政府及其知识产权", "支持企业培育"],
        "第三十七条": ["县级以上人民政府应当支持企业", "鼓励有条件的", "完善质量专业技术"],
        "第三十九条": ["县级以上人民政府发展改革", "鼓励银行业"],
        "第四十一条": ["县级以上人民政府市场监督", "县级以上人民政府统计", "鼓励第三方"],
        "第四十二条": ["省人民政府及其有关部门", "鼓励和支持行业协会"],
        "第四十三条": ["县级以上人民政府及其有关部门", "食品、药品"],
        "第四十四条": ["省人民政府市场监督管理部门", "企业应当建立消费品"],
        "第四十五条": ["县级以上人民政府及其有关部门应当建立产品", "县级以上人民政府及其有关部门应当建立健全"],
        "第四十六条": ["省人民政府发展改革", "县级以上人民政府发展改革"],
        "第四十七条": ["县级以上人民政府及其有关部门", "广播、电视"],
    },
    HANGZHOU: {
        "第四条": ["市、区、县（市）人民政府", "市场监督管理部门负责", "发展改革、住房和城乡建设"],
        "第六条": ["市场监督管理、发展改革", "国有性质的", "鼓励社会资金"],
        "第七条": ["市场监督管理、发展改革", "鼓励企业推进计量"],
        "第九条": ["支持企事业单位", "鼓励企业、社会团体"],
        "第十二条": ["鼓励企业实施首席质量官", "市、区、县（市）人民政府"],
        "第十四条": ["市场监督管理、经济和信息化", "鼓励企事业单位"],
        "第十七条": ["鼓励高等学校", "鼓励和支持企业"],
        "第二十条": ["鼓励保险机构", "鼓励企业建立和推广"],
        "第二十一条": ["市、区、县（市）人民政府", "市、区、县（市）市场监督管理部门"],
    },
}


def _source(name: str) -> str:
    return (REGULATIONS / f"{name}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def docs() -> dict[str, SourceDoc]:
    out = {}
    for name in (HUBEI, HANGZHOU):
        [doc] = load_source(REGULATIONS / f"{name}.txt")
        out[name] = doc
    return out


def _by_label(doc: SourceDoc) -> dict[str, Article]:
    return {a.label: a for a in doc.articles}


def _chapters(doc: SourceDoc) -> list[str]:
    seen: list[str] = []
    for a in doc.articles:
        if a.chapter and a.chapter not in seen:
            seen.append(a.chapter)
    return seen


def test_files_are_the_texts_as_received():
    files = sorted(p.name for p in REGULATIONS.glob("*.txt"))
    assert files == sorted(SHA256)
    for name, digest in SHA256.items():
        assert hashlib.sha256((REGULATIONS / name).read_bytes()).hexdigest() == digest, name


def test_hubei_has_49_articles_in_7_chapters(docs):
    doc = docs[HUBEI]
    assert [a.label for a in doc.articles] == LABELS
    assert [(a.number, a.sub_number) for a in doc.articles] == [(n, 0) for n in range(1, 50)]
    assert _chapters(doc) == HUBEI_CHAPTERS
    chapter = None
    for a in doc.articles:
        chapter = HUBEI_CHAPTER_STARTS.get(a.number, chapter)
        assert a.chapter == chapter, a.label


def test_hangzhou_has_27_articles_and_no_chapters(docs):
    doc = docs[HANGZHOU]
    assert [a.label for a in doc.articles] == LABELS[:27]
    assert [a.number for a in doc.articles] == list(range(1, 28))
    assert all(a.chapter is None and a.sub_number == 0 for a in doc.articles)


def test_table_of_contents_is_neither_an_article_nor_a_second_chapter_list():
    text = _source(HUBEI)
    toc = [ln for ln in text.split("\n") if "\t" in ln]
    assert len(toc) == 7 and all(ln.startswith("第") and "章\t" in ln for ln in toc)
    parsed = parse_regulation(text)
    assert parsed.chapters == HUBEI_CHAPTERS  # each chapter once, although printed twice
    # Before the body: the title, the adoption line (kept as the preamble) and the 目录 (dropped).
    assert parsed.title == "湖北省质量促进条例"
    assert parsed.preamble == "(2024 年 7 月 25 日湖北省第十四届人民代表大会常务委员会第十一次会议通过)"
    # Title, adoption line and 目录 alone (everything before the body's first heading): no article.
    head = text[: text.index("\n第一章 总 则\n")]
    assert "目 录" in head and head.count("\t") == 7
    assert parse_regulation(head + "\n").articles == []
    # And nothing of the 目录 reaches an article's text.
    assert not any("\t" in a.text or "目 录" in a.text for a in parsed.articles)


@pytest.mark.parametrize("name, label", [(n, lab) for n, arts in PAGE_BROKEN.items() for lab in arts])
def test_page_broken_articles_are_one_text_without_a_lost_or_invented_character(docs, name, label):
    article = _by_label(docs[name])[label]
    assert article.text == PAGE_BROKEN[name][label]


@pytest.mark.parametrize("name", [HUBEI, HANGZHOU])
def test_paragraph_boundaries_are_kept_and_page_breaks_are_not_paragraphs(docs, name):
    expected = PARAGRAPH_STARTS[name]
    for a in docs[name].articles:
        paras = [a.text[s:e] for s, e in a.paragraphs]
        starts = expected.get(a.label)
        if starts is None:
            assert len(paras) == 1, a.label
            assert paras == [a.text], a.label
        else:
            assert len(paras) == len(starts), a.label
            assert all(p.startswith(s) for p, s in zip(paras, starts, strict=True)), (a.label, paras)
        # The spans tile the text, one newline between 款.
        assert "\n".join(paras) == a.text, a.label
        assert a.paragraphs[0][0] == 0 and a.paragraphs[-1][1] == len(a.text)


def test_items_stay_in_the_paragraph_that_introduces_them(docs):
    sixth = _by_label(docs[HUBEI])["第六条"]
    assert len(sixth.paragraphs) == 1
    lines = sixth.text.split("\n")
    assert lines[0].endswith("推动开展以下质量促进活动：")
    assert [ln[:3] for ln in lines[1:]] == ["（一）", "（二）", "（三）", "（四）", "（五）"]


@pytest.mark.parametrize("name", [HUBEI, HANGZHOU])
def test_no_blank_line_artifacts_in_article_text(docs, name):
    for a in docs[name].articles:
        assert "\n\n" not in a.text, a.label
        assert a.text == a.text.strip(), a.label
        for s, e in a.paragraphs:
            # Inside one 款 a line break only ever precedes an item (（一）…).
            assert all(part.startswith("（") for part in a.text[s:e].split("\n")[1:]), a.label


@pytest.mark.parametrize("name, expected", [
    (HUBEI, {"第二条": ["和 Service 质量"], "第六条": ["和 Service 质量"], "第三十七条": ["和 market 发展"],
             "第四十一条": ["企业 provide 法律法规"]}),
    (HANGZHOU, {}),
])
def test_english_words_are_kept_verbatim_with_their_spacing(docs, name, expected):
    source = _source(name)
    arts = _by_label(docs[name])
    # Every Latin word of the source, with a character of context on each side, is in an article.
    in_source = [source[m.start() - 2: m.end() + 2] for m in re.finditer(r"[A-Za-z]+", source)]
    in_articles = [m.group() for a in docs[name].articles for m in re.finditer(r"..[A-Za-z]+..", a.text)]
    assert in_articles == in_source
    for label, phrases in expected.items():
        for phrase in phrases:
            assert phrase in arts[label].text, (label, phrase)


def _body(name: str) -> str:
    """The source from the body's first heading (the chapter after the 目录, or 第一条) to the end."""
    text = _source(name)
    start = text.index("\n第一章 总 则\n") if name == HUBEI else text.index("\n第一条 ")
    return text[start:]


def _printed_sequence(doc: SourceDoc) -> list[str]:
    """Chapter headings and articles (label and text) in document order."""
    out: list[str] = []
    chapter = None
    for a in doc.articles:
        if a.chapter != chapter:
            chapter = a.chapter
            out.append(chapter or "")
        out.append(f"{a.label} {a.text}")
    return out


@pytest.mark.parametrize("name", [HUBEI, HANGZHOU])
def test_every_character_of_the_body_is_in_exactly_one_article_or_heading_in_order(docs, name):
    no_space = re.compile(r"\s+")
    source = no_space.sub("", _body(name))
    parsed = no_space.sub("", "".join(_printed_sequence(docs[name])))
    assert parsed == source


@pytest.mark.parametrize("name", [HUBEI, HANGZHOU])
def test_every_source_line_appears_verbatim_and_in_order(docs, name):
    """Spaces inside a line (dates, English words) and full-width punctuation are kept exactly."""
    articles = "\n".join(f"{a.label} {a.text}" for a in docs[name].articles)
    pos = 0
    for line in _body(name).split("\n"):
        line = line.strip()
        if not line or re.match(r"^第[一二三四五六七八九十]+章 ", line):
            continue
        found = articles.find(line, pos)
        assert found >= 0 and not articles[pos:found].strip(), line
        pos = found + len(line)
    assert not articles[pos:].strip()


def test_hangzhou_preamble_is_its_promulgation_line():
    parsed = parse_regulation(_source(HANGZHOU))
    assert parsed.title == "杭州市质量促进办法"
    assert parsed.preamble == "(2021年8月13日杭州市人民政府令第327号公布 自2021年9月15日起施行)"
    assert parsed.chapters == []


def test_original_characters_are_kept(docs):
    hubei, hangzhou = _by_label(docs[HUBEI]), _by_label(docs[HANGZHOU])
    assert "根据《中华人民共和国产品质量法》、《建设工程质量管理条例》等有关法律、行政法规，" in hubei["第一条"].text
    assert "支持市（州）、县（市、区）人民政府" in hubei["第二十八条"].text
    assert hubei["第四十九条"].text == "本条例自 2024 年 11 月 1 日起施行。"
    assert "“品字标浙江制造”等团体标准。" in hangzhou["第九条"].text
    assert "“国际消费者权益保护日”“质量月”" in hangzhou["第二十一条"].text
    assert hangzhou["第二十七条"].text == "本办法自 2021 年 9 月 15 日起施行。"


def test_titles_short_names_and_dates_from_metadata(docs):
    hubei, hangzhou = docs[HUBEI].regulation, docs[HANGZHOU].regulation
    assert (hubei.id, hubei.title) == (HUBEI, "湖北省质量促进条例")
    assert (hangzhou.id, hangzhou.title) == (HANGZHOU, "杭州市质量促进办法")
    assert {"湖北条例", "湖北省质量条例"} <= set(hubei.short_names)
    assert "杭州办法" in hangzhou.short_names
    for name, reg in ((HUBEI, hubei), (HANGZHOU, hangzhou)):
        meta = json.loads((REGULATIONS / f"{name}.meta.json").read_text(encoding="utf-8"))
        assert reg.short_names == tuple(meta["short_names"])
        assert reg.source == f"{name}.txt"
    assert (hubei.adopted, hubei.promulgated, hubei.effective) == ("2024-07-25", None, "2024-11-01")
    assert (hangzhou.adopted, hangzhou.promulgated, hangzhou.effective) == (None, "2021-08-13", "2021-09-15")


@pytest.mark.parametrize("name, title, dates", [
    (HUBEI, "湖北省质量促进条例", ("2024-07-25", None, "2024-11-01")),
    (HANGZHOU, "杭州市质量促进办法", (None, "2021-08-13", "2021-09-15")),
])
def test_the_parser_alone_finds_title_and_dates_in_the_text(tmp_path, docs, name, title, dates):
    # Without the .meta.json: mixed spacing (2024 年 7 月 25 日), half-width parentheses around the line.
    path = tmp_path / f"{name}.txt"
    shutil.copy(REGULATIONS / path.name, path)
    [doc] = load_source(Path(path))
    reg = doc.regulation
    assert reg.title == title
    assert (reg.adopted, reg.promulgated, reg.effective) == dates
    assert reg.checksum == SHA256[path.name]  # with no metadata, the digest of the text alone
    assert [(a.label, a.chapter, a.text, a.paragraphs) for a in doc.articles] == [
        (a.label, a.chapter, a.text, a.paragraphs) for a in docs[name].articles]


def test_citations_read_naturally(docs):
    hubei, hangzhou = _by_label(docs[HUBEI]), _by_label(docs[HANGZHOU])
    assert hubei["第二十三条"].citation == "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"
    assert hubei["第一条"].citation == "《湖北省质量促进条例》第一条（第一章 总则）"  # printed 总 则
    assert hubei["第四十九条"].citation == "《湖北省质量促进条例》第四十九条（第七章 附则）"
    assert hangzhou["第十二条"].citation == "《杭州市质量促进办法》第十二条"
    assert hangzhou["第二十七条"].citation == "《杭州市质量促进办法》第二十七条"
