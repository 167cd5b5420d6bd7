"""Does the best article answer what was asked, or only touch the subject? ("direct" or "related")

Retrieval finds the article about the subject; it cannot tell whether the article states the kind of fact the
question asks for. Two generic checks over the question's form and the articles' text, no list of questions:

- **The kind of fact asked for.** A question that asks for a time limit (多少天, 期限, 几年, how many days), an
  amount or multiple (罚款多少, 几倍, how much), a list of materials (需要哪些材料, what documents), a department
  (哪个部门, who is responsible) or the date a text was or will be issued (什么时候出台, when will … be issued)
  is answered only by an article that holds a fact of that kind: a number with a unit of time or money, a
  list of papers, a named department, a date. When none of the best articles holds one, they are related.
- **A claim the article does not make.** A question that names a sanction, a duty, an exemption, a figure or a
  frequency (罚款五万元, 必须, 免检, 吊销, 三年内, 每年) presumes it; when none of the best articles holds those
  words (or their equivalents: 必须 ≈ 应当), the articles are related and the reply names what is missing.

"Best articles" are the first `CHECKED` results: a fact one of them states is an answer the person sees.
An abstained search is neither ("none"): nothing was shown as an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.words import normalise

CHECKED = 2  # results read for the fact asked for

DIRECT, RELATED, NONE = "direct", "related", "none"

# A number: not part of a four-digit year, not 哪一年 / 每年 / 这一年.
_NUM = r"(?<![\d〇零一二三四五六七八九哪几每这那同当])(?:\d{1,3}(?:\.\d+)?|[一二三四五六七八九十百千万两半]+)"


@dataclass(frozen=True)
class Ask:
    """A kind of fact a question can ask for: how the question asks it, how an article states it."""

    name: str  # 期限 | 数额 | 材料 | 部门 | 日期: shown in the reason
    english: str
    question: re.Pattern[str]
    fact: re.Pattern[str]


ASKS: tuple[Ask, ...] = (
    Ask("期限", "time limit",
        re.compile(r"多少(?:个)?(?:天|日|工作日|小时|周|星期|个月|月|年)|几(?:个)?(?:天|日|工作日|小时|周|星期|个月|年)"
                   r"|多长时间|多久|期限|时限|截止|\bhow (?:many|much) (?:days|hours|weeks|months|years|time)\b"
                   r"|\bhow (?:long|soon|often)\b|\bdeadline|\btime limit|\bwithin how\b"),
        re.compile(rf"{_NUM}\s*(?:个)?(?:工作日|日|天|小时|周|星期|个月|年)\s*(?:内|以内|之内|以上|届满|后)"
                   r"|期限|时限|每(?:年|半年|季度|月|周|日)|(?:年|季|月)度")),
    Ask("数额", "amount",
        re.compile(r"多少(?:钱|元|万|亿|资助|补贴|补助|奖金|奖励|经费|资金)|几倍|多少倍|金额|数额"
                   r"|(?:罚款|罚金|奖金|资助|补贴|补助|奖励|规模|赔偿)[^，。？?,]{0,8}(?:多少|几)"
                   r"|\bhow much\b|\bwhat amount\b|\bhow many times\b"),
        re.compile(rf"{_NUM}\s*(?:元|万元|亿元|倍|%|％)|百分之")),
    Ask("材料", "list of materials",
        re.compile(r"(?:哪些|什么|啥|何种)(?:申请)?(?:材料|资料|文件|证明|手续|证件)|材料清单|(?:准备|提交|提供|交)(?:些)?什么"
                   r"|\bwhat (?:documents|papers|materials|paperwork)\b|\bwhich documents\b|\bpaperwork\b"),
        re.compile(r"(?<!新)材料|资料|申请书|证明|证件|清单|报送|提交")),  # 新材料 is a product, not paperwork
    Ask("部门", "department",
        re.compile(r"哪个部门|哪些部门|什么部门|哪个机关|哪个机构|什么机构|哪个单位|由谁|谁(?:来)?(?:负责|管|监管|主管|组织|牵头)"
                   r"|\bwhich (?:department|agency|authority|body|office)\b"
                   r"|\bwho (?:is responsible|is in charge|supervises|runs|organi[sz]es|handles|oversees|regulates)\b"),
        re.compile(r"部门|机关|人民政府|委员会|机构|协会")),
    Ask("日期", "date",
        re.compile(r"(?:什么时候|何时|哪天|哪一天|哪一?年|几月几[日号]|什么日期)[^，。？?]{0,6}"
                   r"(?:出台|发布|公布|颁布|施行|实施|生效|通过|制定|印发|出来)"
                   r"|(?:出台|发布|公布|颁布|施行|生效|通过)(?:时间|日期)"
                   r"|\bwhen (?:will|was|were|did|does|do|is)\b[^?]{0,60}\b(?:issued|published|released|adopted|"
                   r"promulgated|effective|enacted|take effect|come into force|in force)\b|\beffective date\b"),
        re.compile(r"(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年|起施行")),
)


@dataclass(frozen=True)
class Claim:
    """Words that presume a fact (a sanction, a duty, an exemption): satisfied when an article holds any of
    `satisfied_by`."""

    question: re.Pattern[str]
    satisfied_by: tuple[str, ...]


CLAIMS: tuple[Claim, ...] = (
    Claim(re.compile(r"罚款|罚金|处罚|罚\S{0,2}钱|\bfined?\b|\bfines\b|\bpenalt(?:y|ies)\b"), ("罚款", "罚金", "处罚")),
    Claim(re.compile(r"吊销|营业执照|\brevoked?\b|\bbusiness licen[cs]e\b"), ("吊销", "营业执照")),
    Claim(re.compile(r"拘留|没收|停业|停产|关停|\bdetain|\bconfiscat|\bshut down\b"),
          ("拘留", "没收", "停业", "停产", "关停")),
    Claim(re.compile(r"免税|减税|退税|税收优惠|\btax\b"), ("税",)),
    Claim(re.compile(r"免检|免于检验|免除检验|\bexempt(?:ed|ion)? from inspection"), ("免检", "免于")),
    Claim(re.compile(r"持证|上岗证|资格证|许可证|\bcertificate to\b|\blicen[cs]ed?\b"),
          ("持证", "证书", "许可证", "上岗证", "资格证")),
    Claim(re.compile(r"审核|审批|批准|\bapprov(?:e|al)\b"), ("审核", "审批", "批准")),
    Claim(re.compile(r"必须|强制|一定要|有义务|\bmust\b|\bmandatory\b|\bcompulsory\b|\bobliged\b|\brequired to\b"),
          ("应当", "必须", "强制", "责任")),
    # A frequency as a duty (每年都要提交), not as a setting (每年的质量月).
    Claim(re.compile(r"每(?:年|半年|季度|个月|月|周)都?(?:要|必须|应当|需要|得)"
                     r"|\b(?:every|each) (?:year|month|quarter)\b|\bannually\b"),
          ("每年", "每半年", "每季度", "每月", "每周")),
)
# A figure with a unit of time, money or count; a four-digit year is a date, not a claim.
_FIGURE_RE = re.compile(rf"{_NUM}\s*(?:万元|亿元|元|倍|%|％|个工作日|工作日|个月|年|天|日|小时|家|人|次)(?:内|以内)?")


@dataclass(frozen=True)
class Verdict:
    answer: str  # direct | related | none
    reason: str | None = None  # for related: what the articles do not state, for people

    def to_json(self) -> dict[str, str | None]:
        return {"answer": self.answer, "reason": self.reason}


def asked(question: str) -> list[Ask]:
    """The kinds of fact the question asks for."""
    q = normalise(question)
    return [a for a in ASKS if a.question.search(q)]


def claimed(question: str) -> list[str]:
    """What the question presumes (as typed) that an article would have to state."""
    q = normalise(question)
    out: list[str] = []
    for c in CLAIMS:
        m = c.question.search(q)
        if m:
            out.append(m.group())
    out.extend(m.group() for m in _FIGURE_RE.finditer(q))
    return list(dict.fromkeys(out))


def judge(question: str, articles: Sequence[str], abstained: bool) -> Verdict:
    """Whether `articles` (the texts of the results, best first) answer `question` or only touch it."""
    if abstained or not articles:
        return Verdict(NONE)
    best = [_compact(normalise(t)) for t in articles[:CHECKED]]
    missing_kind = [a for a in asked(question) if not any(a.fact.search(t) for t in best)]
    if missing_kind:
        names = "、".join(a.name for a in missing_kind)
        english = ", ".join(a.english for a in missing_kind)
        return Verdict(RELATED, f"条文涉及该事项，但未规定所问的{names} · the articles touch the subject but do not "
                                f"state the {english} asked for")
    q = normalise(question)
    missing: list[str] = []
    for c in CLAIMS:
        m = c.question.search(q)
        if m and not any(w in t for t in best for w in c.satisfied_by):
            missing.append(m.group())
    for m in _FIGURE_RE.finditer(q):
        if not any(_compact(m.group()) in t for t in best):
            missing.append(m.group())
    if missing:
        named = [w.strip() for w in dict.fromkeys(missing)]
        shown = "、".join(f"“{w}”" for w in named)
        return Verdict(RELATED, f"条文涉及该事项，但没有{shown}的规定 · the articles touch the subject but do not "
                                f"say what the question assumes ({', '.join(named)})")
    return Verdict(DIRECT)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)
