"""Evidence, beyond the scores, that a question has nothing in the corpus to match.

Three kinds, each measured on the two regulations' development questions (data/questions/README.md):

- **Background margin.** Junk (markup, SQL, keyboard mash) is about as close to every text as to the articles:
  its best article cosine stands no higher than its cosine to a fixed set of unrelated sentences. Real
  questions, in any script, stand above it. This works across scripts, where word coverage cannot.
- **Named but not held.** A question that names a law (产品质量法, 江苏省质量促进条例) or a province (上海) that the
  index does not hold asks about something else, however close its words are to the articles.
- **No words.** A question written only in Latin letters whose "words" look like no language (asdfghjkl,
  qwxz plmk) has nothing to match.
"""

from __future__ import annotations

import re

import numpy as np

from ingest.words import has_cjk

# Unrelated sentences, embedded as passages once per loaded index (everyday Chinese and English, code,
# markup, mash). Fixed for every corpus: the margin is relative to the same yardstick everywhere.
BACKGROUND = (
    "今天天气怎么样，会不会下雨", "红烧肉的做法和需要的调料", "周末去哪里玩比较好", "这部电影讲了一个爱情故事",
    "我的手机屏幕碎了怎么办", "足球比赛的比分是多少", "孩子上小学需要准备什么", "怎么减肥最有效",
    "How is the weather today?", "What is a good recipe for pasta?", "Which movie should I watch tonight?",
    "My laptop battery drains too fast.", "The football match ended in a draw.",
    "Where can I buy cheap flight tickets?", "SELECT * FROM users WHERE id = 1 OR 1=1; DROP TABLE users;--",
    "<script>alert('xss')</script><img src=x onerror=alert(1)>", "%s %d %n {0} {{7*7}} ${jndi:ldap://x}",
    "asdfghjkl qwertyuiop zxcvbnm", "lorem ipsum dolor sit amet consectetur", "aaaaaaa bbbbbbb 1234567890",
    "😀😂👍🔥🎉❤️", "function foo(x) { return x + 1; }", "import os; os.system('rm -rf /')", "../../../../etc/passwd",
    "http://example.com/index.php?id=1", "吃了吗您嘞", "哈哈哈哈哈哈", "测试测试123", "你好，在吗？", "谢谢你的帮助",
)
BACKGROUND_TOP = 3  # the margin is taken against the mean of the question's 3 closest background sentences

# Provincial-level divisions, the cities people name like one, and other countries, in Chinese and English.
# Naming one that the index does not hold means the question is about another place's rules.
PLACES = (
    ("北京", "beijing"), ("天津", "tianjin"), ("河北", "hebei"), ("山西", "shanxi"), ("内蒙古", "inner mongolia"),
    ("辽宁", "liaoning"), ("吉林", "jilin"), ("黑龙江", "heilongjiang"), ("上海", "shanghai"), ("江苏", "jiangsu"),
    ("浙江", "zhejiang"), ("安徽", "anhui"), ("福建", "fujian"), ("江西", "jiangxi"), ("山东", "shandong"),
    ("河南", "henan"), ("湖北", "hubei"), ("湖南", "hunan"), ("广东", "guangdong"), ("广西", "guangxi"),
    ("海南", "hainan"), ("重庆", "chongqing"), ("四川", "sichuan"), ("贵州", "guizhou"), ("云南", "yunnan"),
    ("西藏", "tibet"), ("陕西", "shaanxi"), ("甘肃", "gansu"), ("青海", "qinghai"), ("宁夏", "ningxia"),
    ("新疆", "xinjiang"), ("香港", "hong kong"), ("澳门", "macau"), ("台湾", "taiwan"), ("深圳", "shenzhen"),
    ("广州", "guangzhou"), ("南京", "nanjing"), ("苏州", "suzhou"), ("成都", "chengdu"), ("西安", "xi'an"),
    # other countries: their law is not in a corpus of Chinese regulations unless it says so
    ("美国", "united states"), ("美国", "america"), ("美国", "usa"), ("英国", "britain"), ("英国", "uk"),
    ("日本", "japan"), ("德国", "germany"), ("法国", "france"), ("澳大利亚", "australia"), ("加拿大", "canada"),
    ("韩国", "korea"), ("俄罗斯", "russia"), ("欧盟", "european union"), ("欧盟", "eu"), ("新加坡", "singapore"),
    ("印度", "india"), ("意大利", "italy"), ("西班牙", "spain"),
)
# A law's name ends in one of these; the characters before it (after the last stop word) are its name. 法 followed
# by 律/规/人/院… is another word (法律, 法规, 法人), except 法规定: the law followed by 规定 (产品质量法规定了什么).
_LAW_RE = re.compile(
    r"《([^《》]{2,40})》|([\u4e00-\u9fff]{2,16}?(?:法|条例|办法))(?![律人院官治定]|规(?!定))"
    r"(?![\u4e00-\u9fff]*(?:法|条例))")
# Everyday words that end like a law name but are none (不合法, 好办法); a longer name before them is a name.
_NOT_LAWS = ("方法", "做法", "说法", "看法", "想法", "用法", "合法", "违法", "依法", "执法", "司法", "立法",
             "守法", "非法", "无法", "设法", "手法", "算法", "语法")
# Words that cannot be part of a law's name: the name begins after the last of them.
_NAME_STOP_RE = re.compile(
    r".*(?:的|了|按|照|据|关于|对于|违反|请问|问|说|是|在|和|与|及|或|吗|呢|哪|那|这|该|本|个|部|两|么|有|没|要|把|被|用|想|些|种|好|新|找|啥)")
# A 《…》 title is a law's only when it reads like one (not 《用户手册》, 《红楼梦》).
_TITLE_ENDS = ("法", "条例", "办法", "规定", "细则", "规则", "解释", "决定", "意见", "通知", "准则", "章程")
_LATIN_WORD_RE = re.compile(r"[a-z]{2,}")
_VOWELS = set("aeiouy")


def background_margin(question_vector: np.ndarray, dense_top: float, background: np.ndarray) -> float:
    """Best article cosine minus the mean cosine of the question's closest background sentences."""
    if background.size == 0:
        return float("inf")
    sims = background @ question_vector
    if len(sims) > BACKGROUND_TOP:  # the closest few only: a partition, not a sort of a library's sentences
        sims = np.partition(sims, len(sims) - BACKGROUND_TOP)[-BACKGROUND_TOP:]
    sims = np.sort(sims)[::-1]  # summed in the same order as before
    return float(dense_top - sims.mean())


def looks_like_words(question: str) -> bool:
    """False for a question of Latin letters only whose tokens do not look like words of any language:
    no vowel, or a run of five consonants (asdfghjkl, qwxz plmk). Chinese, digits-and-words and real
    English, French, pinyin… pass."""
    q = question.lower()
    if has_cjk(q):
        return True
    tokens = _LATIN_WORD_RE.findall(q)
    if not tokens:
        return not re.fullmatch(r"[\W\d_]*", q)  # digits and symbols only: nothing to match
    wordlike = [t for t in tokens if set(t) & _VOWELS and not re.search(r"[^aeiouy]{5,}", t)]
    return len(wordlike) * 2 >= len(tokens)


def named_laws(question_normalised: str) -> list[str]:
    """Law and regulation names in a (normalised) question: 《…》 titles and words ending in 法/条例/办法."""
    found = []
    for m in _LAW_RE.finditer(question_normalised):
        if m.group(1):
            if m.group(1).endswith(_TITLE_ENDS):
                found.append(m.group(1))
            continue
        name = _NAME_STOP_RE.sub("", m.group(2))
        if name.endswith("办法"):  # 杭州市质量促进办法 is a name, 有什么办法 is not
            if len(name) >= 4:
                found.append(name)
        elif len(name) >= 3 and not name.endswith(_NOT_LAWS):
            found.append(name)
    return found


def places_in(text: str, held_names: list[str]) -> frozenset[str]:
    """The PLACES (both spellings) a (normalised) corpus text mentions or a regulation's names contain;
    computed once per index."""
    held = set()
    for chinese, english in PLACES:
        if chinese in text or any(chinese in n or english in n for n in held_names):
            held.update((chinese, english))
    return frozenset(held)


def foreign_names(question_normalised: str, held_names: list[str], held_places: frozenset[str]) -> list[str]:
    """Laws and places the question names that the index does not hold.

    A law counts as held when one of the index's regulation names contains it or is contained in it (质量促进条例
    and 湖北条例 are held; 产品质量法 is not, even though an article cites it). A place counts as held when the
    corpus mentions it anywhere (浙江 appears in 杭州办法, so a question on 浙江省质量奖 is not foreign)."""
    foreign = [law for law in named_laws(question_normalised)
               if not any(law in n or n in law for n in held_names)]
    for place in dict.fromkeys(p for pair in PLACES for p in pair):  # 美国 has three English names: once
        if place not in held_places and (place in question_normalised if not place.isascii() else
                                         re.search(rf"(?<![a-z]){re.escape(place)}(?![a-z])", question_normalised)):
            foreign.append(place)
    return foreign
