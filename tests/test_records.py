"""Normalisers on real phrases from the seeds, and record building."""
from __future__ import annotations

from datetime import date

import pytest

from pipeline.records.build import RelationRef, SpanRef, build_records
from pipeline.records.dates import DateContext, document_context, parse_date
from pipeline.records.districts import resolve
from pipeline.records.money import parse_money
from pipeline.records.stages import parse_stage

from .conftest import seed_text


@pytest.mark.parametrize(
    "text, before, after, value, currency, qualifier",
    [
        ("20.7亿元", "投资", "", 2070000000, "CNY", None),
        ("5545万美元", "到账", "", 55450000, "USD", None),
        ("1.3亿", "", "", 130000000, "CNY", None),
        ("三千万元", "", "", 30000000, "CNY", None),
        ("6000万欧元", "", "", 60000000, "EUR", None),
        ("亿元", "", "以上", 100000000, "CNY", "over"),
        ("亿元", "过", "", 100000000, "CNY", "over"),
        ("40亿元", "近", "", 4000000000, "CNY", "under"),
        ("十二点五亿元", "", "", 1250000000, "CNY", None),
        ("一千二百万美元", "", "", 12000000, "USD", None),
        ("4100余万元", "", "", 41000000, "CNY", "over"),
        ("29.4億美元", "", "", 2940000000, "USD", None),
        ("3亿港元", "约", "", 300000000, "HKD", "approx"),
        ("50亿日元", "", "", 5000000000, "JPY", None),
        ("300亿韩元", "", "", 30000000000, "KRW", None),
        ("新台币1.2兆元", "", "", 1200000000000, "TWD", None),
        ("百亿级", "总投资", "", 10000000000, "CNY", "approx"),
        ("百亿元", "超", "", 10000000000, "CNY", "over"),
        ("超百亿元", "", "", 10000000000, "CNY", "over"),
        ("10多亿元", "", "", 1000000000, "CNY", "over"),
    ],
)
def test_money(text, before, after, value, currency, qualifier):
    money = parse_money(text, before, after).to_json()
    assert (money["value"], money["currency"], money["qualifier"]) == (value, currency, qualifier)


def test_money_range():
    money = parse_money("5-10亿元").to_json()
    assert money["value"] == 500000000 and money["max"] == 1000000000 and money["qualifier"] == "range"


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2023年3月6日", "2023-03-06"), ("3月28日", "2023-03-28"), ("一季度", "2023-Q1"), ("上半年", "2023-H1"),
        ("1—6月", "2023-01/2023-06"), ("今年4月", "2023-04"), ("2021年11月", "2021-11"), ("4月份", "2023-04"),
        ("去年", "2022"), ("2024年第三季度", "2024-Q3"), ("3月25日至4月1日", "2023-03-25/2023-04-01"),
    ],
)
def test_dates_with_a_known_year(text, iso):
    assert parse_date(text, DateContext(document_year=2023)) == iso


def test_relative_dates_need_the_document_date():
    assert parse_date("昨日", DateContext(document_date=date(2023, 6, 17))) == "2023-06-16"
    assert parse_date("昨日", DateContext()) is None
    assert parse_date("3月6日", DateContext()) is None


def test_seed_000_dates_resolve_to_2023():
    text = seed_text("000")
    context = document_context(text)
    assert context.year == 2023
    offset = text.index("3月6日")
    assert parse_date("3月6日", context, text, offset) == "2023-03-06"


@pytest.mark.parametrize(
    "text, context, code",
    [
        ("环翠区", ["威海"], "371002"), ("胶州", [], "370281"), ("上合示范区", [], "370281"), ("西海岸新区", [], "370211"),
        ("威海经济技术开发区", [], "371072"), ("经开区", ["威海市"], "371072"), ("朝阳区", ["北京市"], "110105"),
        ("朝阳区", ["长春"], "220104"), ("山东省", [], "37"), ("青島", [], "3702"),
    ],
)
def test_districts(text, context, code):
    assert resolve(text, context).code == code


def test_ambiguous_district_without_context_gets_no_code():
    assert resolve("朝阳区").code is None
    assert resolve("环翠区").to_json()["city"] == "威海市"


def test_stages_and_planned():
    assert parse_stage("落户", "注册资本1亿美元的山东鸿瑞医疗器械产业园项目拟").to_json() == {"text": "落户", "stage": "landed", "planned": True}
    assert parse_stage("开工建设", "嘉士通电商食品加工及冷链云仓项目已").to_json()["planned"] is False
    assert parse_stage("投產", "").stage == "operating"
    assert parse_stage("投产", "今年将重点推进三项工作：确保金晶光伏玻璃深加工项目年内").planned is True
    assert parse_stage("投产", "确保A项目年内投产。B项目已于3月").planned is False  # another clause
    assert parse_stage("开工", "年度计划投资251.81亿元的188个项目").planned is False  # an amount, not a plan


def test_records_merge_mentions_and_keep_evidence():
    text = "总投资3亿美元的山东鸿瑞医疗器械产业园项目拟落户威海经济技术开发区。鸿瑞医疗器械产业园项目,计划6月份到账2000万美元。"
    spans = [("3亿美元", "MONEY"), ("山东鸿瑞医疗器械产业园项目", "PROJECT"), ("落户", "STATUS"), ("威海经济技术开发区", "DISTRICT"), ("鸿瑞医疗器械产业园项目", "PROJECT"), ("6月份", "DATE"), ("2000万美元", "MONEY")]
    entities = []
    cursor = 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        entities.append(SpanRef(start, start + len(surface), label, surface))
        cursor = start + len(surface)
    relations = [RelationRef(1, 0, "AMOUNT"), RelationRef(1, 2, "STATUS"), RelationRef(1, 3, "LOCATION")]
    (record,) = build_records(text, entities, relations)
    assert record["name"] == "山东鸿瑞医疗器械产业园项目" and len(record["mentions"]) == 2
    assert record["amount"]["value"] == 300000000 and record["amount"]["currency"] == "USD"
    assert text[record["amount"]["start"] : record["amount"]["end"]] == "3亿美元"
    assert record["stage"] == {"text": "落户", "stage": "landed", "planned": True, "start": text.index("落户"), "end": text.index("落户") + 2}
    assert record["district"]["code"] == "371072"


def test_two_stage_words_in_a_row_give_the_first_stage():
    text = "推动投资20.7亿元佰鸿未来科技产业园项目签约落地。"
    spans = [SpanRef(4, 10, "MONEY", "20.7亿元"), SpanRef(10, 21, "PROJECT", "佰鸿未来科技产业园项目"), SpanRef(21, 23, "STATUS", "签约"), SpanRef(23, 25, "STATUS", "落地")]
    rels = [RelationRef(1, 0, "AMOUNT"), RelationRef(1, 2, "STATUS"), RelationRef(1, 3, "STATUS")]
    (record,) = build_records(text, spans, rels)
    assert record["stage"]["stage"] == "signed" and (record["stage"]["start"], record["stage"]["end"]) == (21, 23)
