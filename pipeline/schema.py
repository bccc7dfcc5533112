"""The annotation contract of ../shared/spec/annotation-schema.md, as data.

Every other module (validator, model, records, evaluation, doccano) takes its labels,
relation types and stages from here, so the contract lives in exactly one place.
"""
from __future__ import annotations

ENTITY_LABELS: tuple[str, ...] = (
    "ORG",
    "PROJECT",
    "MONEY",
    "DATE",
    "INDUSTRY",
    "DISTRICT",
    "STATUS",
)

# relation type -> (head label, tail label)
RELATION_ARGS: dict[str, tuple[str, str]] = {
    "AMOUNT": ("PROJECT", "MONEY"),
    "LOCATION": ("PROJECT", "DISTRICT"),
    "STATUS": ("PROJECT", "STATUS"),
    "INVESTOR": ("PROJECT", "ORG"),
    "INDUSTRY": ("PROJECT", "INDUSTRY"),
    "DATE": ("PROJECT", "DATE"),
}
RELATION_TYPES: tuple[str, ...] = tuple(RELATION_ARGS)
TAIL_LABEL_TO_RELATION: dict[str, str] = {tail: rel for rel, (_, tail) in RELATION_ARGS.items()}

STAGES: tuple[str, ...] = ("negotiating", "signed", "landed", "started", "completed", "operating")

# Trigger words per stage. Longer words are matched first by the stage normaliser,
# so 开工建设 wins over 开工 and 集中签约 over 签约.
STAGE_TRIGGERS: dict[str, tuple[str, ...]] = {
    "negotiating": ("在谈", "洽谈", "对接", "跟踪", "商谈", "接洽", "磋商"),
    "signed": ("签约", "签订", "签署", "集中签约"),
    "landed": ("落户", "落地", "注册", "入驻"),
    "started": ("开工", "开工建设", "奠基", "开建", "动工", "在建", "续建"),
    "completed": ("竣工", "建成", "封顶", "完工"),
    "operating": ("投产", "试生产", "达产", "投入运营", "运营", "开业", "投用", "投入使用", "试运营", "启用", "开馆", "揭牌"),
}

PLANNED_MARKERS: tuple[str, ...] = ("计划", "拟", "将", "力争", "预计", "争取", "准备", "有望")

# Colours shown in doccano, one per label, readable on white.
LABEL_COLOURS: dict[str, str] = {
    "ORG": "#1f77b4",
    "PROJECT": "#d62728",
    "MONEY": "#2ca02c",
    "DATE": "#9467bd",
    "INDUSTRY": "#ff7f0e",
    "DISTRICT": "#17becf",
    "STATUS": "#e377c2",
}
RELATION_COLOURS: dict[str, str] = {
    "AMOUNT": "#2ca02c",
    "LOCATION": "#17becf",
    "STATUS": "#e377c2",
    "INVESTOR": "#1f77b4",
    "INDUSTRY": "#ff7f0e",
    "DATE": "#9467bd",
}


def _stage_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for stage, words in STAGE_TRIGGERS.items():
        for word in words:
            table[word] = stage
    return table


_WORD_TO_STAGE = _stage_lookup()
_TRIGGERS_LONGEST_FIRST = sorted(_WORD_TO_STAGE, key=len, reverse=True)


def stage_of(status_text: str) -> str | None:
    """The canonical stage a STATUS span names, or None when no trigger word is in it.

    Traditional characters are read as simplified (簽約 is signed). Otherwise the longest
    trigger contained in the text decides.
    """
    if status_text in _WORD_TO_STAGE:
        return _WORD_TO_STAGE[status_text]
    from .text.chinese import plain_simplified

    simplified = plain_simplified(status_text)
    if simplified in _WORD_TO_STAGE:
        return _WORD_TO_STAGE[simplified]
    for word in _TRIGGERS_LONGEST_FIRST:
        if word in simplified:
            return _WORD_TO_STAGE[word]
    return None
