"""The trainable pipeline on the tiny transformer (models/tiny): a few real training
steps, export of the small model and reload on the backbone, relation outputs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import spacy
from spacy.training import Example as SpacyExample
from spacy.training.initialize import init_nlp
from thinc.api import Adam

from pipeline.annotations.corpus import read_splits
from pipeline.annotations.docbin import RELATIONS_KEY, example_to_doc
from pipeline.model.package import export_finetuned, load_finetuned, model_files
from pipeline.model.train import CONFIGS_DIR, load_profile, write_corpus
from pipeline.schema import RELATION_ARGS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory, tiny_model_dir: Path):
    corpus = tmp_path_factory.mktemp("corpus")
    write_corpus(corpus)
    config = load_profile(CONFIGS_DIR / "fast.cfg")
    config["paths"]["base"] = str(tiny_model_dir)
    config["paths"]["train"] = str(corpus / "train.spacy")
    config["paths"]["dev"] = str(corpus / "dev.spacy")
    return config


@pytest.fixture(scope="module")
def trained(fast_config):
    """The whole pipeline after 8 updates on one fixed batch, with the per-step losses."""
    import pipeline.components  # noqa: F401

    nlp = init_nlp(fast_config)
    train = read_splits()["train"]
    batch = [ex for ex in train if ex.relations][:4]
    optimizer = Adam(0.001)  # the profile's schedule starts at 0 and is stepped by spacy train
    history = []
    for _ in range(8):
        examples = [SpacyExample(nlp.make_doc(ex.text), example_to_doc(nlp, ex)) for ex in batch]
        losses: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        history.append(losses)
    return nlp, history, batch


def test_losses_fall(trained) -> None:
    _, history, _ = trained
    for name in ("ner", "span_entities", "relation_extractor"):
        first = np.mean([h[name] for h in history[:2]])
        last = np.mean([h[name] for h in history[-2:]])
        assert last < first, f"{name} loss did not fall: {[round(h[name], 3) for h in history]}"


def _relation_scores(nlp, examples) -> list[list[tuple]]:
    """Relation scores for every candidate pair, on the gold entities."""
    relation = nlp.get_pipe("relation_extractor")
    with relation.keeping_every_candidate():
        out = []
        for ex in examples:
            doc = nlp.make_doc(ex.text)
            doc.set_ents([doc.char_span(e.start, e.end, label=e.label) for e in ex.entities])
            doc = relation(nlp.get_pipe("transformer")(doc))
            out.append([(r["type"], tuple(r["head"]), tuple(r["tail"]), r["score"]) for r in doc.user_data[RELATIONS_KEY]])
    return out


def test_export_reloads_with_identical_predictions(trained, tiny_model_dir: Path, tmp_path: Path) -> None:
    nlp, _, batch = trained
    out = export_finetuned(nlp, tmp_path / "finetuned")
    files = model_files(out)
    assert "transformer/delta.safetensors" in files
    assert not any(name.startswith("transformer/model") for name in files), "the backbone's weights must not be exported"
    reloaded = load_finetuned(out, tiny_model_dir)
    texts = [ex.text for ex in batch]
    for a, b in zip(nlp.pipe(texts), reloaded.pipe(texts)):
        assert np.array_equal(a._.trf_data.model_output.last_hidden_state, b._.trf_data.model_output.last_hidden_state)
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [(e.start_char, e.end_char, e.label_) for e in b.ents]
        assert a.user_data.get(RELATIONS_KEY) == b.user_data.get(RELATIONS_KEY)
    before, after = _relation_scores(nlp, batch), _relation_scores(reloaded, batch)
    assert sum(map(len, before)) > 10
    assert before == after


def test_span_entities_keep_the_ner_entities_of_other_labels(trained) -> None:
    nlp, _, batch = trained
    span_entities = nlp.get_pipe("span_entities")
    own = set(span_entities.labels)
    span_entities.cfg["threshold"] = 1e-6  # eight updates in: let the finder find something
    found = 0
    for ex in batch:
        doc = nlp.make_doc(ex.text)
        doc.set_ents([doc.char_span(e.start, e.end, label=e.label) for e in ex.entities])
        others = [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ not in own]
        after = span_entities(nlp.get_pipe("transformer")(doc)).ents
        assert [(e.start_char, e.end_char, e.label_) for e in after if e.label_ not in own] == others
        ours = [e for e in after if e.label_ in own]
        found += len(ours)
        assert all(len(e) <= 20 for e in ours)
    span_entities.cfg["threshold"] = 0.5
    assert found > 0


def test_span_entities_threshold_trades_recall_for_precision(trained) -> None:
    nlp, _, batch = trained
    span_entities = nlp.get_pipe("span_entities")
    counts = []
    for threshold in (1e-6, 0.5, 0.95):
        span_entities.cfg["threshold"] = threshold
        docs = nlp.get_pipe("transformer").pipe(nlp.make_doc(ex.text) for ex in batch)
        counts.append(sum(len(span_entities(doc).ents) for doc in docs))
    span_entities.cfg["threshold"] = 0.5
    assert counts[0] >= counts[1] >= counts[2]
    assert counts[0] > counts[2]


def test_relations_reference_real_entities(trained) -> None:
    nlp, _, batch = trained
    for ex, scored in zip(batch, _relation_scores(nlp, batch)):
        spans = {(e.start, e.end): e.label for e in ex.entities}
        for rel_type, head, tail, score in scored:
            assert 0.0 <= score <= 1.0
            assert (spans.get(head), spans.get(tail)) == RELATION_ARGS[rel_type]


def test_predicted_doc_keeps_relations_through_docbin(trained) -> None:
    from spacy.tokens import DocBin

    nlp, _, batch = trained
    relation = nlp.get_pipe("relation_extractor")
    with relation.keeping_every_candidate():
        doc = nlp.make_doc(batch[0].text)
        doc.set_ents([doc.char_span(e.start, e.end, label=e.label) for e in batch[0].entities])
        doc = relation(nlp.get_pipe("transformer")(doc))
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (back,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    def plain(rels):  # msgpack gives tuples back for lists
        return json.loads(json.dumps(list(rels)))

    assert plain(back.user_data[RELATIONS_KEY]) == plain(doc.user_data[RELATIONS_KEY]) != []


def test_load_without_model_says_how_to_make_one(tmp_path: Path) -> None:
    from pipeline.model.package import ModelNotFound

    with pytest.raises(ModelNotFound, match="make train"):
        load_finetuned(tmp_path / "nothing")


def test_fast_profile_extends_default() -> None:
    config = load_profile(CONFIGS_DIR / "fast.cfg")
    default = load_profile(CONFIGS_DIR / "default.cfg")
    assert config["paths"]["base"] == "models/tiny"
    assert config["nlp"]["pipeline"] == default["nlp"]["pipeline"]
    assert config["training"]["max_steps"] < default["training"]["max_steps"]
    assert spacy.util.load_config(CONFIGS_DIR / "default.cfg")["components"]["relation_extractor"]["model"]["@architectures"] == "pipeline.RelationModel.v1"


def test_frozen_layer_cache_gives_exactly_the_plain_outputs(tiny_model_dir: Path) -> None:
    import copy

    import torch
    from transformers import AutoModel, AutoTokenizer

    from pipeline.components.frozen_cache import FrozenLayerCache

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    plain = AutoModel.from_pretrained(str(tiny_model_dir), hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    cached = copy.deepcopy(plain)
    cache = FrozenLayerCache(cached, 1, tokenizer.pad_token_id).install()
    batch = tokenizer(["威海市环翠区签约佰鸿未来科技产业园项目，总投资20.7亿元。", "项目开工。"], padding=True, return_tensors="pt")
    real = batch["attention_mask"].bool()
    for training, cached_windows in ((False, 0), (True, 2), (True, 2)):
        plain.train(training)
        cached.train(training)
        with torch.no_grad():
            expected = plain(**batch).last_hidden_state[real]
            got = cached(**batch).last_hidden_state[real]
        assert torch.equal(expected, got)
        assert len(cache.cache) == cached_windows  # filled while training only, once per window
    assert [n for n, _ in plain.named_parameters()] == [n for n, _ in cached.named_parameters()]


def test_model_view_keeps_offsets() -> None:
    from pipeline.text.normalise import model_view

    text = "總投資２０．７億元，簽約"
    view = model_view(text)
    assert len(view) == len(text)
    assert view == "总投资20.7亿元，签约"


def test_length_bucketed_prediction_matches_one_padded_batch(trained) -> None:
    """Windows predicted in length groups give what one batch padded to the longest gives."""
    nlp, _, _ = trained
    encoder = nlp.get_pipe("transformer").model.layers[0]
    bucketed = encoder._func
    plain = next(c.cell_contents for c in bucketed.__closure__ if callable(c.cell_contents))
    # documents of very different lengths, so windows are short and long in one batch
    from pipeline.annotations.seeds import read_seed, seed_files

    texts = [read_seed(path.name)[:1500] for path in seed_files()] + ["项目开工。", "青岛市崂山区签约项目。"]
    grouped_docs = list(nlp.pipe(texts, batch_size=len(texts)))
    encoder._func = plain
    try:
        plain_docs = list(nlp.pipe(texts, batch_size=len(texts)))
    finally:
        encoder._func = bucketed
    windows = 0
    for a, b in zip(grouped_docs, plain_docs):
        data = a._.trf_data
        for row, length in enumerate(data.wordpieces.lengths):
            np.testing.assert_allclose(data.model_output.last_hidden_state[row, :length], b._.trf_data.model_output.last_hidden_state[row, :length], atol=1e-4)
            windows += 1
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [(e.start_char, e.end_char, e.label_) for e in b.ents]
        pairs = [[(r["head"], r["tail"], r["type"]) for r in doc.user_data.get("relations", [])] for doc in (a, b)]
        assert pairs[0] == pairs[1]
    assert windows > 8  # more windows than one group: grouping really happened


def test_length_bucketed_training_gives_the_plain_gradients(trained) -> None:
    """Grouped forward and backward passes leave the same gradients on the encoder."""
    import torch
    from spacy_transformers.data_classes import WordpieceBatch
    from spacy_transformers.layers.transformer_model import huggingface_tokenize
    from transformers.modeling_outputs import ModelOutput

    nlp, _, _ = trained
    model = nlp.get_pipe("transformer").model
    encoder = model.layers[0]
    hf = model.transformer
    for module in hf.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    texts = [ex.text[:200] for ex in read_splits()["dev"][:10]] + ["项目开工。"]
    wordpieces = WordpieceBatch.from_batch_encoding(huggingface_tokenize(model.tokenizer, texts))
    bucketed = encoder._func
    plain = next(c.cell_contents for c in bucketed.__closure__ if callable(c.cell_contents))

    def gradients(forward) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        hf.zero_grad()
        output, backprop = forward(encoder, wordpieces, True)
        hidden = output.last_hidden_state.detach()
        d_hidden = torch.zeros_like(hidden)
        for row, length in enumerate(wordpieces.lengths):
            d_hidden[row, :length] = torch.sin(torch.arange(length * hidden.shape[-1], dtype=hidden.dtype)).reshape(length, -1)
        backprop(ModelOutput(output_0=d_hidden))
        grads = {n: p.grad.clone() for n, p in hf.named_parameters() if p.grad is not None}
        return hidden, grads

    grouped_hidden, grouped = gradients(bucketed)
    plain_hidden, reference = gradients(plain)
    assert len(wordpieces) > 8 and grouped and grouped.keys() == reference.keys()
    for row, length in enumerate(wordpieces.lengths):
        torch.testing.assert_close(grouped_hidden[row, :length], plain_hidden[row, :length], atol=1e-4, rtol=1e-4)
    for name, grad in reference.items():
        torch.testing.assert_close(grouped[name], grad, atol=1e-4, rtol=1e-3, msg=name)


def test_thresholds_of_types_with_little_dev_support_are_shared() -> None:
    from pipeline.model.thresholds import choose_thresholds

    # STATUS has enough dev relations for its own threshold; the others are pooled
    status = [(0.9, True)] * 20 + [(0.35, True)] * 5 + [(0.3, False)] * 2
    location = [(0.85, True), (0.6, False), (0.55, False)]
    date = [(0.7, True), (0.65, False)]
    chosen = choose_thresholds({"STATUS": status, "LOCATION": location, "DATE": date},
                               {"STATUS": 25, "LOCATION": 1, "DATE": 1}, min_support=20)
    assert chosen["STATUS"]["shared"] is False and chosen["STATUS"]["threshold"] == 0.35
    assert chosen["LOCATION"]["threshold"] == chosen["DATE"]["threshold"] == 0.7
    assert chosen["LOCATION"]["f1"] == 1.0 and chosen["DATE"]["f1"] == 1.0
    # with no floor every type is tuned alone
    alone = choose_thresholds({"LOCATION": location, "DATE": date}, {"LOCATION": 1, "DATE": 1}, min_support=0)
    assert alone["LOCATION"]["threshold"] == 0.65 and alone["DATE"]["threshold"] == 0.7


def test_projects_listed_together_share_stage_date_and_place() -> None:
    import spacy

    from pipeline.components.relation import project_lists, share_within_lists

    from .conftest import seed_text

    text = seed_text("001")
    start = text.index("一季度,经开区促成")
    text = text[start : text.index("6月份", start)]
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    doc = nlp.make_doc(text)
    names = ["香港震大威海Artemed国际专科医院及共享生命科学产业园项目", "香港威东跨境电商项目", "香港盛华大宗商品交易中心项目"]
    spans = [doc.char_span(text.index(n), text.index(n) + len(n), label="PROJECT") for n in names]
    signed = doc.char_span(text.index("签约"), text.index("签约") + 2, label="STATUS")
    quarter = doc.char_span(0, 3, label="DATE")
    money_at = text.index("5000万美元")
    money = doc.char_span(money_at, money_at + 7, label="MONEY")
    later = text.index("香港威东跨境电商项目总投资")
    again = doc.char_span(later, later + len(names[1]), label="PROJECT")
    doc.set_ents([quarter, *spans, signed, again, money])
    assert [[s.text for s in run] for run in project_lists(doc, ["、"])] == [names]

    scored = [(spans[0], signed, "STATUS", 0.9), (spans[1], signed, "STATUS", 0.2), (spans[2], quarter, "DATE", 0.8),
              (again, money, "AMOUNT", 0.7), (again, signed, "STATUS", 0.1)]
    shared = {(h.text, h.start_char, t.text, r): p for h, t, r, p in share_within_lists(doc, scored, ["STATUS", "DATE"], ["、"])}
    for span in spans:
        assert shared[(span.text, span.start_char, "签约", "STATUS")] == 0.9
        assert shared[(span.text, span.start_char, "一季度", "DATE")] == 0.8
    # the later mention is not in the list, and AMOUNT is not a shared type
    assert shared[(again.text, again.start_char, "签约", "STATUS")] == 0.1
    assert not any(r == "AMOUNT" and h != again.text for h, _, _, r in shared)
    assert share_within_lists(doc, scored, [], ["、"]) == scored
