"""The `place_filter` pipe: drops DISTRICT entities that name no administrative area.

The NER tags place-like strings the guidelines exclude from DISTRICT (sections 1 and 7):
roads, residential compounds, communities, parks and buildings (`海口路`, `北涧安置区`,
`流清河社区`), and place names used inside a slogan or an event (`“崂山担当”`,
`上合组织青岛峰会`, `青岛国际啤酒节`). These rules state the guidelines, not a model; they
sit after `span_entities` (which finds the DISTRICT spans) and before
`relation_extractor`, so no LOCATION is drawn to a dropped span. Every rule is a
setting in the training config.
"""

import re
from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span

DEFAULT_NOT_PLACE_SUFFIXES = ["路", "大道", "大街", "小区", "社区", "公园", "安置区", "花园", "广场", "大厦", "村", "线"]
DEFAULT_KEEP_SUFFIXES = ["街道"]
DEFAULT_EVENT_WORDS = [
    "峰会", "博览会", "交易会", "论坛", "展览会", "运动会", "马拉松", "啤酒节", "文化节", "旅游节", "艺术节", "音乐节", "进口商品展",
]
CLAUSE_BREAKS = "，,。；;、：:！？!?“”\"（）()《》\n\t "


@Language.factory(
    "place_filter",
    default_config={
        "not_place_suffixes": DEFAULT_NOT_PLACE_SUFFIXES,
        "keep_suffixes": DEFAULT_KEEP_SUFFIXES,
        "event_words": DEFAULT_EVENT_WORDS,
        "event_reach": 8,
        "slogan_max_chars": 12,
    },
    default_score_weights={},
)
def make_place_filter(
    nlp: Language,
    name: str,
    not_place_suffixes: Sequence[str],
    keep_suffixes: Sequence[str],
    event_words: Sequence[str],
    event_reach: int,
    slogan_max_chars: int,
) -> "PlaceFilter":
    return PlaceFilter(
        name,
        not_place_suffixes=not_place_suffixes,
        keep_suffixes=keep_suffixes,
        event_words=event_words,
        event_reach=event_reach,
        slogan_max_chars=slogan_max_chars,
    )


class PlaceFilter:
    def __init__(
        self,
        name: str = "place_filter",
        *,
        not_place_suffixes: Sequence[str] = DEFAULT_NOT_PLACE_SUFFIXES,
        keep_suffixes: Sequence[str] = DEFAULT_KEEP_SUFFIXES,
        event_words: Sequence[str] = DEFAULT_EVENT_WORDS,
        event_reach: int = 8,
        slogan_max_chars: int = 12,
    ):
        self.name = name
        self.not_place_suffixes = tuple(not_place_suffixes)
        self.keep_suffixes = tuple(keep_suffixes)
        self.slogan_max_chars = slogan_max_chars
        words = "|".join(re.escape(w) for w in sorted(event_words, key=len, reverse=True))
        breaks = re.escape(CLAUSE_BREAKS)
        # an event word within `event_reach` characters after the place, in the same phrase
        self._event_after = re.compile(rf"[^{breaks}]{{0,{event_reach}}}?(?:{words})") if words else None

    def __call__(self, doc: Doc) -> Doc:
        kept = [ent for ent in doc.ents if ent.label_ != "DISTRICT" or self.reason(ent) is None]
        if len(kept) != len(doc.ents):
            doc.set_ents(kept, default="outside")
        return doc

    def reason(self, ent: Span) -> str | None:
        """Why a DISTRICT span is not one, or None when it stays."""
        text = ent.text
        if text.endswith(self.not_place_suffixes) and not text.endswith(self.keep_suffixes):
            return "road, compound or building"
        if self._in_slogan(ent):
            return "inside a slogan"
        if self._event_after is not None and self._event_after.match(ent.doc.text, ent.end_char):
            return "names an event"
        return None

    def _in_slogan(self, ent: Span) -> bool:
        """Inside short quoted words that say more than the place (`“崂山担当”`)."""
        text = ent.doc.text
        # the quotes can be no further apart than slogan_max_chars allows
        opening = text.rfind("“", max(0, ent.start_char - self.slogan_max_chars - 1), ent.start_char)
        closing = text.find("”", ent.end_char, ent.start_char + self.slogan_max_chars + 1)
        if opening == -1 or closing == -1 or text.find("”", opening, ent.start_char) != -1:
            return False
        quoted = text[opening + 1 : closing]
        return quoted != ent.text and len(quoted) <= self.slogan_max_chars and not re.search(r"[，。；、,;]", quoted)
