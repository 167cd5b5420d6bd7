"""A fixed sample of real library files, taken from the vendored snapshot (data/library/*.tar.xz) with tarfile: one or
more files from every kind of folder, with the databases. Nothing unpacked is committed."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ingest.snapshot import ARCHIVE_NAME, TOP_FOLDER

ARCHIVE = Path(__file__).resolve().parent.parent / "data" / "library" / ARCHIVE_NAME

CIVIL_CODE_PARTS = ("总则", "物权编", "合同编", "人格权编", "婚姻家庭编", "继承编", "侵权责任编", "附则")
PRODUCT_QUALITY = "经济法/产品质量法(2018-12-29).md"
METROLOGY_2018 = "行政法规/计量法实施细则(2018-03-19).md"
METROLOGY_2022 = "行政法规/计量法实施细则(2022-03-29).md"
AMENDMENT = "刑法/刑法修正案（七）.md"
CONSTITUTION_AMENDMENT = "宪法/宪法修正案（2018年）.md"
UNDATED = "宪法/宪法.md"
DUPLICATE_KEPT = "社会法/反电信网络诈骗法(2022-09-02).md"
DUPLICATE_SKIPPED = "行政法/反电信网络诈骗法(2022-09-02).md"
INTERPRETATION = "司法解释/最高人民法院关于严格执行案件审理期限制度的若干规定(2000-09-22).md"
DEPARTMENT_RULE = "部门规章/市场监督管理总局/侵害消费者权益行为处罚办法(2015-01-05).md"
CASE = "案例/消费购物/吴小秦诉陕西广电网络传媒（集团）股份有限公司捆绑交易纠纷案.md"
CATEGORY_PAGE = "经济法/_index.md"
TEMPLATE = "法律法规模版.md"
PROVINCE = "DLC/浙江地方法规"
HANGZHOU_GAS = f"{PROVINCE}/地方性法规/浙江/杭州市燃气管理条例(2021-12-03).md"
PROVINCE_PAGE = f"{PROVINCE}/地方性法规/浙江/_index.md"

SAMPLE = (
    "db.sqlite3", f"{PROVINCE}/db.sqlite3",
    PRODUCT_QUALITY, METROLOGY_2018, METROLOGY_2022, AMENDMENT, CONSTITUTION_AMENDMENT, UNDATED,
    DUPLICATE_KEPT, DUPLICATE_SKIPPED, INTERPRETATION, DEPARTMENT_RULE, CASE, CATEGORY_PAGE, TEMPLATE,
    HANGZHOU_GAS, PROVINCE_PAGE,
    *(f"民法典/{p}.md" for p in CIVIL_CODE_PARTS),
)


def extract_sample(dest: Path, names: tuple[str, ...] = SAMPLE) -> Path:
    """Extract `names` (paths below lawrefbook/) into dest/lawrefbook and return that folder."""
    wanted = {f"{TOP_FOLDER}/{n}" for n in names}
    with tarfile.open(ARCHIVE, "r:xz") as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        missing = wanted - {m.name for m in members}
        assert not missing, f"not in the snapshot: {sorted(missing)}"
        tar.extractall(dest, members=members, filter="data")
    return dest / TOP_FOLDER
