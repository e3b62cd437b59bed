"""The `hf:` NER backend, end to end on a tiny BERT token classifier trained here from scratch (seconds on
CPU, seeded), plus the label/aggregation logic on crafted inputs, windowing, metadata and clear errors."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from privtune.errors import ConfigError  # noqa: E402
from privtune.pii.config import NerConfig, PiiConfig  # noqa: E402
from privtune.pii.ner import hf_backend as hf  # noqa: E402
from privtune.pii.ner import load_ner, model_info  # noqa: E402

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
TAG = {"PERSON": "PER", "LOCATION": "LOC"}
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES"]
# {P}/{Q} a person, {C} a city, {N} a number; the other capitalized words are the hard negatives
TEMPLATES = (
    "Hi, my name is {P} and my order {N} never arrived.",
    "Please forward the invoice to {P} at the {C} office.",
    "Thanks for your help!\n\nBest regards,\n{P}",
    "{P} called on Monday about the refund for order {N}.",
    "Customer: {P}\nCity: {C}\nIssue: the Kettle Pro stopped working",
    "I spoke with {P} yesterday; the parcel left {C} on Friday.",
    "Could {P} call me back? I live in {C} since March.",
    "Ticket {N} was opened by {P} (Priority: High).",
    "Dear {P}, your Premium plan renews in April.",
    "Ship it to {P} in {C}. Thanks, {Q}",
    "Our Support Team escalated case {N} to {P} and {Q}.",
    "Order {N} from {C}: Blue Widget, Express Shipping.",
)


def synthetic(n: int, seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """`n` (text, gold spans) from the templates with seeded Faker names and cities."""
    from faker import Faker

    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text, gold = "", []
        for part in re.split(r"(\{[PQCN]\})", rng.choice(TEMPLATES)):
            kind = {"{P}": "PERSON", "{Q}": "PERSON", "{C}": "LOCATION"}.get(part)
            if kind == "PERSON":
                value = f"{fake.first_name()} {fake.last_name()}"
            elif kind == "LOCATION":
                value = fake.city()
            else:
                value = str(rng.randrange(10_000, 99_999_999)) if part == "{N}" else part
            if kind:
                gold.append((len(text), len(text) + len(value), kind))
            text += value
        out.append((text, gold))
    return out


def _tokenizer(texts: list[str]):  # type: ignore[no-untyped-def]
    """A cased WordPiece tokenizer for `texts`, as a fast tokenizer. The vocabulary is counted here, not
    by the tokenizers trainer: that one breaks frequency ties differently on every run (even on one
    thread), which made the test model, and its recall, change from run to run."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pre = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(t))
    pieces: Counter[str] = Counter()
    for w, n in words.items():
        pieces.update({w: n, **{w[:k]: n for k in range(2, min(len(w), 6))}})
        pieces.update(
            {"##" + w[i : i + k]: n for i in range(1, len(w)) for k in (2, 3, 4) if i + k <= len(w)}
        )
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    base = set(vocab)
    vocab += [p for p, _ in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0])) if p not in base]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab[:1500])}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre
    pairs = [("[CLS]", 2), ("[SEP]", 3)]
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=pairs)
    tok.decoder = decoders.WordPiece()
    names = {f"{k}_token": f"[{k.upper()}]" for k in ("unk", "pad", "cls", "sep", "mask")}
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=128, **names)


def _example(tok, text: str, gold: list[tuple[int, int, str]]) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """Token ids and labels the usual way: a word's first sub-token gets B-/I-/O, the others -100."""
    enc = tok(text, truncation=True, return_offsets_mapping=True)
    labels, prev_word, prev_span = [], None, None
    for w, (a, _) in zip(enc.word_ids(), enc["offset_mapping"], strict=True):
        if w is None or w == prev_word:
            labels.append(-100)
            continue
        prev_word = w
        span = next((g for g in gold if g[0] <= a < g[1]), None)
        labels.append(
            0 if span is None else LABELS.index(("I-" if span == prev_span else "B-") + TAG[span[2]])
        )
        prev_span = span
    return enc["input_ids"], labels


def _bert(tok, **kw):  # type: ignore[no-untyped-def]
    size = {
        "hidden_size": 64,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "max_position_embeddings": 128,
    }
    labels = {"id2label": dict(enumerate(LABELS)), "label2id": {x: i for i, x in enumerate(LABELS)}}
    return transformers.BertForTokenClassification(
        transformers.BertConfig(vocab_size=len(tok), **size, **labels, **kw)
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """2 layers, hidden 64, trained from scratch: 300 steps on 3000 synthetic texts (varied names matter more
    than steps), entity tokens weigh 3x in the loss. ~10 s on one core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; restored after this module
    torch.manual_seed(0)
    data = synthetic(3000, seed=1)
    tok = _tokenizer([t for t, _ in data])
    model = _bert(tok, num_hidden_layers=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    examples = [_example(tok, t, g) for t, g in data]
    steps = 300
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 20) * max(0.05, 1 - s / steps)
    )
    weight = torch.tensor([1.0, 3.0, 3.0, 3.0, 3.0])
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        batch = [examples[i] for i in torch.randint(len(examples), (32,), generator=gen).tolist()]
        width = max(len(ids) for ids, _ in batch)
        x = torch.tensor([ids + [0] * (width - len(ids)) for ids, _ in batch])
        y = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        logits = model(input_ids=x, attention_mask=(x != 0).long()).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, len(LABELS)), y.reshape(-1), weight=weight
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    d = tmp_path_factory.mktemp("hf") / "tiny-ner"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    yield d
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def context_free_dir(model_dir, tmp_path_factory):
    """No layers and zero position embeddings: each token's label depends on that token alone, so a long
    text cut into windows must give exactly the spans of its pieces. Random weights, spread logits."""
    torch.manual_seed(1)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = _bert(tok, num_hidden_layers=0, initializer_range=1.0)
    model.bert.embeddings.position_embeddings.weight.data.zero_()
    d = tmp_path_factory.mktemp("hf") / "context-free"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


def _cfg(d, **kw) -> NerConfig:
    return NerConfig(model=f"hf:{d}", **kw)


# -- pure logic ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "want"),
    [
        ("O", ("O", "")),
        ("B-PER", ("B", "PER")),
        ("I_LOC", ("I", "LOC")),
        ("E-ORG", ("E", "ORG")),
        ("S-PER", ("S", "PER")),
        ("L-PER", ("L", "PER")),
        ("U-LOC", ("U", "LOC")),
        ("PER", ("", "PER")),
        ("LABEL_3", ("", "LABEL_3")),
        ("BIRTH", ("", "BIRTH")),
    ],
)
def test_split_label(label, want):
    assert hf.split_label(label) == want


MODEL_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-PER", "S-LOC", "PER", "B-MISC"]
TABLE = hf.label_table(dict(enumerate(MODEL_LABELS)), NerConfig().labels)


def _decode(text: str, labels: list[str], p: float = 0.9) -> list[tuple[str, str, float]]:
    """Decode whitespace words whose distributions put `p` on the given model label."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    rest = (1 - p) / (len(MODEL_LABELS) - 1)
    probs = [[p if x == want else rest for x in MODEL_LABELS] for want in labels]
    return [(text[a:b], t, s) for a, b, t, s in hf.decode(text, words, probs, TABLE)]


def test_label_table_maps_and_ignores():
    types = " ".join(str(t) for _, t in TABLE)
    assert types == "None PERSON PERSON LOCATION LOCATION PERSON LOCATION PERSON None"  # MISC: not in labels


def test_decode_bio_merging():
    text = "Ann Lee met Bob Ray Kim in Oslo"
    got = _decode(text, ["B-PER", "I-PER", "O", "B-PER", "I-PER", "B-PER", "O", "B-LOC"])
    assert [(v, t) for v, t, _ in got] == [
        ("Ann Lee", "PERSON"),
        ("Bob Ray", "PERSON"),
        ("Kim", "PERSON"),
        ("Oslo", "LOCATION"),
    ]
    # I- without B- starts an entity; a type change ends one; a line break ends one
    got = _decode("Ann Lee Oslo Bergen", ["I-PER", "I-PER", "I-LOC", "I-LOC"])
    assert [(v, t) for v, t, _ in got] == [("Ann Lee", "PERSON"), ("Oslo Bergen", "LOCATION")]
    assert [v for v, _, _ in _decode("Ann\nLee", ["B-PER", "I-PER"])] == ["Ann", "Lee"]


def test_decode_ioe_bilou_plain_and_unmapped():
    got = _decode("Ann Lee Bob Oslo Rome", ["I-PER", "E-PER", "PER", "S-LOC", "S-LOC"])
    assert [v for v, _, _ in got] == ["Ann Lee", "Bob", "Oslo", "Rome"]  # E- and S- close their entity
    assert [v for v, _, _ in _decode("Ann Lee", ["PER", "PER"])] == ["Ann Lee"]  # plain labels merge
    assert _decode("Acme Corp", ["B-MISC", "B-MISC"]) == []  # labels not in pii.ner.labels are outside


def test_decode_score_is_mean_type_probability():
    text = "Ann Lee"
    words = [(0, 3), (4, 7)]
    first = [0.0] * len(TABLE)
    first[1], first[2], first[0] = 0.5, 0.3, 0.2  # B-PER wins; P(PERSON) = B+I(+E+plain) = 0.8
    second = [0.0] * len(TABLE)
    second[2], second[3] = 0.6, 0.4
    ((a, b, t, score),) = hf.decode(text, words, [first, second], TABLE)
    assert (a, b, t) == (0, 7, "PERSON") and score == pytest.approx((0.8 + 0.6) / 2)


def test_collect_words_first_subtoken_decides_and_windows_overlap():
    # "Kowalczyk Ann": word 0 = 3 sub-tokens; two windows, the second starting inside word 0
    wids = [[None, 0, 0, 0, 1, None], [None, 0, 0, 1, None]]
    offs = [[(0, 0), (0, 3), (3, 6), (6, 9), (10, 13), (0, 0)], [(0, 0), (3, 6), (6, 9), (10, 13), (0, 0)]]
    (words,) = hf.collect_words(wids, offs, [0, 0], 1)
    # word 0 spans all its sub-tokens and is decided by its first sub-token (row 0, position 1), which only
    # window 0 holds; word 1 by the copy with more context (row 0: 3 tokens before it vs row 1: 2)
    assert words == [(0, 9, 0, 1), (10, 13, 0, 4)]
    wids2 = [[None, 0, 1, 2, 3, None], [None, 2, 3, 4, 5, None]]
    offs2 = [
        [(0, 0), (0, 1), (2, 3), (4, 5), (6, 7), (0, 0)],
        [(0, 0), (4, 5), (6, 7), (8, 9), (10, 11), (0, 0)],
    ]
    (w2,) = hf.collect_words(wids2, offs2, [0, 0], 1)
    # word 2 is better placed in row 0 (one token each side), word 3 in row 1
    want = [(0, 0, 1), (2, 0, 2), (4, 0, 3), (6, 1, 2), (8, 1, 3), (10, 1, 4)]
    assert [(a, r, p) for a, _, r, p in w2] == want


def test_tidy():
    text = ' ("Ann Lee\'s", '
    a, b = hf.tidy(text, 0, len(text))
    assert text[a:b] == "Ann Lee"


# -- the trained model, through the public API --------------------------------------------------
def _recall(texts_gold, found) -> float:  # type: ignore[no-untyped-def]
    gold = {(i, a, b) for i, (_, g) in enumerate(texts_gold) for a, b, t in g if t == "PERSON"}
    pred = {(i, s.start, s.end) for i, spans in found for s in spans if s.entity_type == "PERSON"}
    return len(gold & pred) / len(gold)


def test_analyzer_finds_held_out_names(model_dir):
    from privtune.pii.analyzer import Analyzer

    cfg = PiiConfig(disable=["person_rules"])  # PERSON from the model only
    cfg.ner.model = f"hf:{model_dir}"
    ner = load_ner(cfg.ner)
    assert (ner.name, ner.version) == (model_info(cfg.ner)["name"], model_info(cfg.ner)["version"])
    held_out = synthetic(150, seed=99)
    found = Analyzer(cfg, ner).analyze_many([t for t, _ in held_out])
    recall = _recall(held_out, enumerate(found))
    assert recall >= 0.8, recall  # exact offsets: a span one character off counts as a miss
    people = [(t[s.start : s.end], s) for (t, _), ss in zip(held_out, found, strict=True) for s in ss]
    people = [(v, s) for v, s in people if s.entity_type == "PERSON"]
    assert people and all(s.recognizer == "hf_ner" and 0.5 <= s.score <= 1.0 for _, s in people)
    assert all(v == v.strip() and v[0].isupper() for v, _ in people)


def test_offsets_are_string_indices_past_astral_characters(context_free_dir):
    """Emoji (one str index, 4 UTF-8 bytes each) and accents before the words must not shift offsets; the
    context-free model labels every word as it would without them, so the spans just move over."""
    ner = load_ner(_cfg(context_free_dir, gate=False))
    prefix = "😀🚀 Zoë… "
    texts = [t for t, _ in synthetic(30, seed=7)]
    alone, moved = ner.entities(texts), ner.entities([prefix + t for t in texts])
    assert sum(len(v) for v in alone.values()) >= 30
    for i in range(len(texts)):
        want = [(s.start + len(prefix), s.end + len(prefix), s.entity_type) for s in alone.get(i, [])]
        got = [(s.start, s.end, s.entity_type) for s in moved.get(i, []) if s.start >= len(prefix)]
        assert got == want  # byte offsets would be off by 9 here


def test_scan_cli_reports_model_and_names(cli, model_dir, tmp_path):
    held_out = synthetic(40, seed=5)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"prompt": t, "completion": "ok"}) + "\n" for t, _ in held_out))
    conf = tmp_path / "c.yaml"
    conf.write_text(
        f"ingest: {{schema: prompt_completion}}\npii:\n  disable: [person_rules]\n"
        f"  ner: {{model: 'hf:{model_dir}'}}\n"
    )
    r = cli("scan", inp, "--findings", tmp_path / "f.jsonl", "--json", "-c", conf)
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["ner"] == model_info(_cfg(model_dir))
    lines = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    keys = ("start", "end", "entity_type", "score", "recognizer")
    as_spans = [(x["record"], [hf.Span(*(s[k] for k in keys)) for s in x["spans"]]) for x in lines]
    assert _recall(held_out, as_spans) >= 0.8
    assert {s.recognizer for _, ss in as_spans for s in ss if s.entity_type == "PERSON"} == {"hf_ner"}
    assert "Loading weights" not in r.err  # transformers' progress bars are off while loading


# -- windowing -----------------------------------------------------------------------------------
def test_long_text_windows_give_the_spans_of_its_pieces(context_free_dir):
    ner = load_ner(_cfg(context_free_dir, gate=False))
    pieces = [t for t, _ in synthetic(12, seed=3)]
    alone = ner.entities(pieces)
    assert sum(len(v) for v in alone.values()) >= 12  # random weights: many spans, many boundaries
    ner.window, ner.stride = 24, 6
    long_text = "\n\n".join(pieces)
    windows = ner.tok(long_text, truncation=True, max_length=24, stride=6, return_overflowing_tokens=True)
    assert len(windows["input_ids"]) >= 10
    expected, shift = [], 0
    for i, piece in enumerate(pieces):
        expected += [(s.start + shift, s.end + shift, s.entity_type, s.score) for s in alone.get(i, [])]
        shift += len(piece) + 2
    got = [(s.start, s.end, s.entity_type, s.score) for s in ner.entities([long_text])[0]]
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    assert [g[3] for g in got] == pytest.approx([e[3] for e in expected], abs=1e-5)
    for a, b, _, _ in got:  # whole words only: sub-tokens are aggregated
        assert not (a and long_text[a - 1].isalnum()) and not (b < len(long_text) and long_text[b].isalnum())


# -- metadata and errors -------------------------------------------------------------------------
def test_model_info_reads_files_only(model_dir, tmp_path):
    code = (
        "import json, sys\n"
        "from privtune.pii.config import NerConfig\n"
        "from privtune.pii.ner import model_info\n"
        f"info = model_info(NerConfig(model={'hf:' + str(model_dir)!r}))\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'\n"
        "print(json.dumps(info))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(out.stdout)
    assert info == model_info(_cfg(model_dir))
    assert info["name"] == "tiny-ner" and info["version"].startswith(transformers.__version__ + "+")
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    assert model_info(_cfg(copy))["version"] == info["version"]  # stable: content, not path or time
    weights = copy / "model.safetensors"
    weights.write_bytes(b"not a model")  # metadata still reads; the version tells the files changed
    assert model_info(_cfg(copy))["version"] != info["version"]
    with pytest.raises(ConfigError, match="cannot load"):
        load_ner(_cfg(copy))
    conf = json.loads((copy / "config.json").read_text())
    for recorded, name in [("acme/ner-base", "acme/ner-base"), ("/content/drive/run3", "copy")]:
        (copy / "config.json").write_text(json.dumps({**conf, "_name_or_path": recorded}))
        assert model_info(_cfg(copy))["name"] == name  # a path from the machine that saved it is no name


def _slow_tokenizer_dir(model_dir, d):  # type: ignore[no-untyped-def]
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    d.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / f, d / f)
    vocab = transformers.AutoTokenizer.from_pretrained(model_dir).get_vocab()
    (d / "vocab.txt").write_text("".join(t + "\n" for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])))
    BertTokenizerLegacy(str(d / "vocab.txt"), do_lower_case=False).save_pretrained(d)
    return d


def _base_model_dir(model_dir, d):  # type: ignore[no-untyped-def]
    shutil.copytree(model_dir, d)
    conf = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**conf, "architectures": ["BertModel"]}))
    return d


def _unmapped_labels_dir(model_dir, d):  # type: ignore[no-untyped-def]
    shutil.copytree(model_dir, d)
    conf = json.loads((d / "config.json").read_text())
    names = ["O", "B-FOOD", "I-FOOD", "B-DRINK", "I-DRINK"]
    conf.update(id2label=dict(enumerate(names)), label2id={x: i for i, x in enumerate(names)})
    (d / "config.json").write_text(json.dumps(conf))
    return d


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda m, d: d, "does not exist"),
        (lambda m, d: (d.mkdir(), d)[1], "no config.json"),
        (_base_model_dir, "not a token-classification model"),
        (lambda m, d: (shutil.copytree(m, d), (d / "model.safetensors").unlink(), d)[2], "no weights"),
        (_slow_tokenizer_dir, "slow"),
        (_unmapped_labels_dir, "is mapped by pii.ner.labels"),
    ],
    ids=["missing", "not-a-model", "base-model", "no-weights", "slow-tokenizer", "unmapped-labels"],
)
def test_clear_errors_and_nothing_written(cli, model_dir, tmp_path, make, match):
    d = make(model_dir, tmp_path / "model")
    with pytest.raises(ConfigError, match=match):
        load_ner(_cfg(d))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"prompt": "Hi, I am Ann Lee from Oslo.", "completion": "ok"}) + "\n")
    conf = tmp_path / "c.yaml"
    conf.write_text(f"ingest: {{schema: prompt_completion}}\npii: {{ner: {{model: 'hf:{d}'}}}}\n")
    r = cli("scan", inp, "--findings", tmp_path / "f.jsonl", "-c", conf)
    assert r.code == 2 and not (tmp_path / "f.jsonl").exists()
    assert "Ann Lee" not in r.err  # errors name files, never text


def test_bare_prefix_is_an_error():
    with pytest.raises(ConfigError, match="needs a local model directory"):
        model_info(NerConfig(model="hf:"))
