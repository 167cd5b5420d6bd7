"""What the library's databases say about a document: its level (法律, 行政法规, 司法解释, 部门规章, 地方性法规 …), its
dates, and for a local regulation its region.

LawRefBook/Laws keeps a `db.sqlite3` at its root (national) and one in each `DLC/<province>地方法规/` folder, each
with a table `law` (name, level, publish, valid_from, expired, ver, subtitle, category_id) and `category` (name,
folder). A document is matched to its row by name (the file name without its date; the databases write national
laws without 中华人民共和国) and version date. A document without a row gets its level from its folder.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE = "db.sqlite3"
DLC = "DLC"
VERSION_IN_NAME = re.compile(r"^(.*?)[ \t]*[(（](\d{4})-(\d{2})-(\d{2})[)）]$")
# Top folders of the national part and the level their documents have when the database has no row for them.
FOLDER_LEVELS = {
    "行政法规": "行政法规", "司法解释": "司法解释", "部门规章": "部门规章", "宪法": "宪法", "案例": "案例",
    "其他": "其他",
    "民法典": "法律", "宪法相关法": "法律", "行政法": "法律", "经济法": "法律", "民法商法": "法律", "社会法": "法律",
    "刑法": "法律", "诉讼与非诉讼程序法": "法律",
}
LOCAL_LEVEL = "地方性法规"
MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
REGION_IN_TITLE = re.compile(r"^([^《（(“\s]{2,12}?(?:自治区|自治州|省|市|县))")


@dataclass(frozen=True)
class LawRow:
    name: str
    level: str
    publish: str | None
    valid_from: str | None
    expired: bool
    category: str | None  # the category's folder: "经济法", "部门规章/市场监督管理总局", "地方性法规/浙江"


@dataclass(frozen=True)
class DocumentMeta:
    level: str | None
    region: str | None
    version: str | None  # ISO date of this version (the file name's date, else the database's publish date)
    promulgated: str | None
    effective: str | None
    expired: bool | None = None  # the database row's flag; None without a row


def split_version(stem: str) -> tuple[str, str | None]:
    """`计量法实施细则(2022-03-29)` -> ("计量法实施细则", "2022-03-29"); a name without a date -> (name, None)."""
    m = VERSION_IN_NAME.match(stem.strip())
    if not m:
        return stem.strip(), None
    return m.group(1), f"{m.group(2)}-{m.group(3)}-{m.group(4)}"


def database_for(path: Path) -> Path | None:
    """The library database nearest above a document (a province's, else the national one)."""
    for folder in path.resolve().parents:
        if (folder / DATABASE).is_file():
            return folder / DATABASE
    return None


@lru_cache(maxsize=32)
def read_database(db: Path) -> dict[str, tuple[LawRow, ...]]:
    """The rows of one library database by name. An unreadable database gives no rows (the folder still gives a
    level), and is logged once."""
    rows: dict[str, list[LawRow]] = {}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            con.row_factory = sqlite3.Row
            query = ("SELECT law.name, law.level, law.publish, law.valid_from, law.expired, category.folder "
                     "FROM law LEFT JOIN category ON law.category_id = category.id")
            for r in con.execute(query):
                row = LawRow(str(r["name"]).strip(), str(r["level"]), _date(r["publish"]), _date(r["valid_from"]),
                             bool(r["expired"]), r["folder"])
                rows.setdefault(row.name, []).append(row)
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.warning("cannot read the library database %s (%s); levels come from the folders", db, exc)
        return {}
    return {name: tuple(found) for name, found in rows.items()}


def _date(value: object) -> str | None:
    text = str(value or "").strip()
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


def document_meta(path: Path, title: str) -> DocumentMeta:
    """Level, region, version and dates of a library document, from its file name, folder and database."""
    name, version = split_version(path.stem)
    db = database_for(path)
    row = _match(read_database(db), name, title, version) if db else None
    relative = path.resolve().relative_to(db.parent).parts if db else path.parts
    local = db is not None and db.parent.parent.name == DLC
    level = row.level if row else (LOCAL_LEVEL if local else FOLDER_LEVELS.get(relative[0] if relative else ""))
    region = _region(title, db.parent.name if local and db else None) if local or level == LOCAL_LEVEL else None
    return DocumentMeta(level=level, region=region, version=version or (row.publish if row else None),
                        promulgated=row.publish if row else None, effective=row.valid_from if row else None,
                        expired=row.expired if row else None)


def _match(rows: dict[str, tuple[LawRow, ...]], name: str, title: str, version: str | None) -> LawRow | None:
    found = rows.get(name) or rows.get(title) or ()
    if version is not None:
        same = [r for r in found if r.publish == version]
        return same[0] if same else None
    return found[0] if len(found) == 1 else None


def _region(title: str, province_folder: str | None) -> str | None:
    """A local regulation's region: the place its title starts with (浙江省…, 杭州市…), else its province's folder
    (北京地方法规 -> 北京市)."""
    m = REGION_IN_TITLE.match(title)
    if m and "关于" not in m.group(1):
        return m.group(1)
    if province_folder:
        province = province_folder.removesuffix("地方法规")
        return province + ("市" if province in MUNICIPALITIES else "省")
    return None
