"""STATUS spans to the schema's canonical stage, with `planned` for 计划/拟/将/力争…"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..schema import PLANNED_MARKERS, STAGES, stage_of
from ..text.chinese import to_simplified

# how far before the stage word a planning word may stand (same clause): plans name
# the project in between, "确保金晶光伏玻璃深加工项目年内投产"; 计划投资 is an amount, not a plan
PLANNED_REACH = 40
_PLANNED = re.compile(
    "(?:" + "|".join(map(re.escape, PLANNED_MARKERS + ("力争", "计划于", "预计于", "将于", "确保", "争取", "推动", "加快", "早")))
    + rf")(?!总?投资)[^，,。；;！？]{{0,{PLANNED_REACH}}}$"
)
# the text before a stage word that parse_stage needs: the reach plus the planning word
PLANNED_CONTEXT = PLANNED_REACH + 8
_DONE = re.compile(r"(?:已|已经|正式|顺利|成功|完成|实现)[^，,。；;]{0,3}$")


@dataclass(frozen=True)
class Stage:
    text: str
    stage: str | None
    planned: bool

    def to_json(self) -> dict:
        return {"text": self.text, "stage": self.stage, "planned": self.planned}

    @property
    def rank(self) -> int:
        return STAGES.index(self.stage) if self.stage in STAGES else -1


def parse_stage(surface: str, context_before: str = "") -> Stage:
    before = to_simplified(context_before)
    planned = bool(_PLANNED.search(before)) and not _DONE.search(before)
    return Stage(surface, stage_of(surface), planned)
