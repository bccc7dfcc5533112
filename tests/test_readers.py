"""Document readers on the real seeds and on deliberately bad files."""
from __future__ import annotations

import json
import shutil

import pytest

from pipeline.readers.documents import read_documents, read_file
from pipeline.readers.encoding import UnreadableDocument, decode_bytes
from pipeline.readers.markup import html_to_text

from .conftest import SEEDS, seed_path, seed_text


def test_every_seed_reads_as_one_document_with_its_exact_text():
    docs = list(read_documents(SEEDS))
    assert [d.id for d in docs] == sorted(p.name for p in SEEDS.glob("*.txt"))
    for doc in docs:
        assert doc.error is None
        assert doc.text == seed_text(doc.id[:3])


def test_progress_table_as_tsv_yields_readable_rows(tmp_path):
    table = tmp_path / "progress.tsv"
    shutil.copy(seed_path("000"), table)
    (doc,) = list(read_file(table))
    assert doc.error is None and doc.meta["format"] == "tsv"
    assert "<p>" not in doc.text
    rows = doc.text.split("\n")
    row = next(r for r in rows if "佰鸿未来科技产业园项目" in r)
    assert row.startswith("10\t")
    assert "投资20.7亿元佰鸿未来科技产业园项目签约落地" in row


def test_html_drops_scripts_and_keeps_blocks_as_lines(tmp_path):
    page = tmp_path / "news.html"
    page.write_text(
        "<html><head><title>招商快讯</title><script>var stage='签约';</script><style>p{}</style></head>"
        "<body><h1>佰鸿未来科技产业园项目签约</h1><p>总投资<b>20.7亿元</b>的项目在环翠区签约。</p>"
        "<table><tr><td>1</td><td>嘉士通冷链云仓项目</td></tr></table></body></html>",
        encoding="gb18030",
    )
    (doc,) = list(read_file(page))
    assert doc.error is None
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == ["招商快讯", "佰鸿未来科技产业园项目签约", "总投资20.7亿元的项目在环翠区签约。", "1\t嘉士通冷链云仓项目"]
    assert "var stage" not in doc.text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "big5", "utf-8-sig"])
def test_chinese_encodings_are_detected(tmp_path, encoding):
    text = seed_text("003") if encoding == "big5" else seed_text("001")
    data = text.encode(encoding, errors="ignore")
    expected = data.decode(encoding)
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    (doc,) = list(read_file(path))
    assert doc.error is None
    assert doc.text == expected


def test_bad_files_each_give_one_error_document_and_do_not_disturb_the_rest(tmp_path):
    good = "总投资3.6亿元的中外运国际智慧物流中心项目5月份注册落地。"
    (tmp_path / "a_good.txt").write_text(good, encoding="utf-8")
    (tmp_path / "b_empty.txt").write_bytes(b"")
    (tmp_path / "c_binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "d_truncated.txt").write_bytes(good.encode("utf-8")[:-1])
    (tmp_path / "e_gbk.txt").write_bytes(good.encode("gbk"))
    (tmp_path / "f_big5.txt").write_bytes("總投資3.6億元的項目簽約落戶".encode("big5"))
    (tmp_path / "g_docs.jsonl").write_text(
        json.dumps({"id": "j1", "text": good, "source": "wire"}, ensure_ascii=False) + "\n{not json\n"
        + json.dumps({"id": "j3", "text": "投资1亿元"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    (tmp_path / "h_image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    docs = {d.id: d for d in read_documents(tmp_path)}
    assert list(docs) == ["a_good.txt", "b_empty.txt", "c_binary.txt", "d_truncated.txt", "e_gbk.txt", "f_big5.txt", "j1", "g_docs.jsonl:2", "j3", "h_image.png"]
    assert docs["a_good.txt"].error is None and docs["a_good.txt"].text == good
    assert "empty" in docs["b_empty.txt"].error
    assert "binary" in docs["c_binary.txt"].error
    assert "cut off" in docs["d_truncated.txt"].error
    assert docs["e_gbk.txt"].error is None and docs["e_gbk.txt"].text == good
    assert docs["f_big5.txt"].error is None and docs["f_big5.txt"].text == "總投資3.6億元的項目簽約落戶"
    assert docs["j1"].error is None and docs["j1"].meta == {"source": "wire"}
    assert "malformed JSON" in docs["g_docs.jsonl:2"].error
    assert docs["j3"].text == "投资1亿元"
    assert "unsupported file type" in docs["h_image.png"].error


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(read_documents(tmp_path / "nope"))


def test_decode_refuses_corruption_in_the_middle():
    data = "招商引资项目签约落地".encode()
    with pytest.raises(UnreadableDocument, match="at byte 3"):
        decode_bytes(data[:3] + b"\xff" + data[3:])


def test_html_entities_and_nested_blocks():
    text = html_to_text("<div><p>A&amp;B&nbsp;项目</p><ul><li>一</li><li>二</li></ul></div>")
    assert [line for line in text.split("\n") if line] == ["A&B 项目", "一", "二"]


def test_jsonl_text_may_come_as_content(tmp_path):
    from pipeline.readers.documents import read_documents

    path = tmp_path / "reports.jsonl"
    path.write_text('{"id": "r1", "title": "政府工作报告", "content": "签约项目12个。"}\n', encoding="utf-8")
    (doc,) = read_documents(path)
    assert (doc.id, doc.text, doc.meta, doc.error) == ("r1", "签约项目12个。", {"title": "政府工作报告"}, None)
