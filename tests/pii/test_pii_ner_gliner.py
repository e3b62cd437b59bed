"""The `gliner:` NER backend, end to end on a tiny GLiNER built here from config (2-layer BERT encoder,
a `tokenizers` WordPiece tokenizer over a vocabulary counted from the data) and trained briefly on
synthetic support tickets (seeded, deterministic, ~13 s on one CPU thread); loaded offline with the
network blocked; plus windowing, batching, offsets, metadata, the scan CLI and clear errors."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gliner")
pytest.importorskip("tokenizers")

from privtune.errors import ConfigError  # noqa: E402
from privtune.pii.config import NerConfig  # noqa: E402
from privtune.pii.ner import gliner_backend as gb  # noqa: E402
from privtune.pii.ner import load_ner, model_info  # noqa: E402
from privtune.pii.ner.base import worth_ner  # noqa: E402
from privtune.sample.tickets import generate_tickets  # noqa: E402

PROMPT = {"PERSON": "person", "LOCATION": "location"}
MAX_WIDTH = 5  # words: names are shorter; long addresses are left out of training
CROP, BATCH, STEPS = 16, 16, 300  # 16-word training crops: twice the steps per second of whole texts
VOCAB = (1200, 300, 200)  # tokenizer: frequent words, word starts, word endings


def examples(n: int, seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(text, gold PERSON/LOCATION spans) for the prompt and completion of `n` tickets."""
    out = []
    for rec, gold in generate_tickets(n, seed):
        for field in ("prompt", "completion"):
            spans = [(g["start"], g["end"], g["entity_type"]) for g in gold if g["field"] == field]
            out.append((rec[field], [s for s in spans if s[2] in PROMPT]))
    return out


def _tokenizer(texts: list[str]):  # type: ignore[no-untyped-def]
    """A cased WordPiece tokenizer over `texts`: every character, the frequent words, word starts and
    endings. The vocabulary is counted here (ties by name): the `tokenizers` trainer breaks ties
    differently from run to run, which would make the trained model, and the test, vary."""
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(t))
    heads, tails = Counter(), Counter()
    for w, n in words.items():
        heads.update({w[:k]: n for k in (2, 3, 4) if len(w) > k})
        tails.update({"##" + w[-k:]: n for k in (2, 3) if len(w) > k})
    chars = sorted({c for w in words for c in w})

    def top(c: Counter, k: int) -> list[str]:
        return [w for w, _ in sorted(c.items(), key=lambda x: (-x[1], x[0]))[:k]]

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    vocab += top(words, VOCAB[0]) + top(heads, VOCAB[1]) + top(tails, VOCAB[2])
    ids = {w: i for i, w in enumerate(dict.fromkeys(vocab))}
    tok = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()  # cased: capitals are the main cue a tiny model can learn
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    kw = dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=256, **kw)


def _rows(model, data: list[tuple[str, list[tuple[int, int, str]]]]) -> list[dict]:  # type: ignore[no-untyped-def]
    """GLiNER training rows: CROP-word pieces (half overlapping) with their entities (word indices,
    inclusive end); all pieces with an entity, 30% of those without."""
    split, rows, rng = model.data_processor.words_splitter, [], random.Random(1)
    for text, gold in data:
        words = list(split(text))
        first = {s: k for k, (_, s, _) in enumerate(words)}
        last = {e: k for k, (_, _, e) in enumerate(words)}
        ner = [(first[a], last[b], PROMPT[t]) for a, b, t in gold if a in first and b in last]
        for a0 in range(0, max(1, len(words) - CROP // 2), CROP // 2):
            inside = [
                [a - a0, b - a0, t] for a, b, t in ner if a0 <= a and b < a0 + CROP and b - a < MAX_WIDTH
            ]
            if inside or rng.random() < 0.3:
                rows.append({"tokenized_text": [w for w, _, _ in words[a0 : a0 + CROP]], "ner": inside})
    return rows


def _train(model, data: list[tuple[str, list[tuple[int, int, str]]]], steps: int) -> None:  # type: ignore[no-untyped-def]
    """GLiNER's own collator and span loss, a plain AdamW loop (the HF Trainer adds seconds of setup)."""
    rows, collate, rng, bs = _rows(model, data), model._create_data_collator(), random.Random(0), BATCH
    c2i = {"person": 1, "location": 2}
    i2c = {v: k for k, v in c2i.items()}
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    model.train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            batch = collate(rng.sample(rows, bs), class_to_ids=[c2i] * bs, id_to_classes=[i2c] * bs)
            loss = model(**batch, alpha=0.75).loss  # balanced: ~1 positive per 300 candidate spans
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    model.eval()


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):  # type: ignore[no-untyped-def]
    """{"untrained", "trained", "short"} GLiNER dirs; the backbone dir they were built from is deleted."""
    from gliner import GLiNER, GLiNERConfig
    from transformers import BertConfig

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("gliner")
    backbone = root / "backbone"
    train = examples(400, 11)
    tok = _tokenizer([t for t, _ in train])
    tok.save_pretrained(backbone)
    BertConfig(
        vocab_size=len(tok),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=256,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    ).save_pretrained(backbone)
    conf = GLiNERConfig(
        model_name=str(backbone),
        name="tiny-test",
        hidden_size=64,
        max_width=MAX_WIDTH,
        max_len=128,
        dropout=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLiNER.from_config(conf, backbone_from_pretrained=False, local_files_only=True)
    model.save_pretrained(root / "untrained")
    _train(model, train, STEPS)
    model.save_pretrained(root / "trained")
    shutil.rmtree(backbone)  # the saved dirs must stand alone
    shutil.copytree(root / "trained", root / "short")  # same weights, GLiNER cuts at 24 words
    cfg_file = root / "short" / "gliner_config.json"
    cfg_file.write_text(json.dumps({**json.loads(cfg_file.read_text()), "max_len": 24}))
    yield {k: root / k for k in ("untrained", "trained", "short")}
    torch.set_num_threads(threads)


def _cfg(path, **kw) -> NerConfig:  # type: ignore[no-untyped-def]
    return NerConfig(model=f"gliner:{path}", **kw)


@pytest.fixture(scope="module")
def ner(dirs):  # type: ignore[no-untyped-def]
    """The trained model through the backend, loaded offline with every socket connect refused."""
    import huggingface_hub.constants as hf_constants

    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setattr(hf_constants, "HF_HUB_OFFLINE", True)

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError("network access in an offline test")

    mp.setattr(socket.socket, "connect", refuse)
    try:
        backend = load_ner(_cfg(dirs["trained"]))
    finally:
        mp.undo()
    return backend


def recall_precision(backend, data, etype: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    found = backend.entities([t for t, _ in data])
    tp = fn = fp = 0
    for i, (_, gold) in enumerate(data):
        g = {(a, b) for a, b, t in gold if t == etype}
        p = {(s.start, s.end) for s in found.get(i, []) if s.entity_type == etype}
        tp, fn, fp = tp + len(g & p), fn + len(g - p), fp + len(p - g)
    return tp / max(1, tp + fn), tp / max(1, tp + fp)


HELD_OUT = examples(120, 99)  # other seed: other people, addresses and template fillings than in training
REACHABLE = [x for x in HELD_OUT if worth_ner(x[0])]  # the gate keeps all-lower-case texts from any model


def test_trained_model_finds_names_on_held_out_tickets(ner, dirs) -> None:
    assert isinstance(ner, gb.GlinerNer) and ner.name == "gliner:tiny-test"
    assert not ner.model.training and all(p.device.type == "cpu" for p in ner.model.parameters())
    recall, precision = recall_precision(ner, REACHABLE, "PERSON")
    overall = recall_precision(ner, HELD_OUT, "PERSON")[0]
    print(
        f"PERSON recall {recall:.3f} precision {precision:.3f} (all texts, gate included: recall {overall:.3f})"
    )
    assert recall >= 0.6 and precision >= 0.8
    # the same plumbing on the untrained weights finds (almost) nothing: the numbers above are learned
    untrained = gb.load(_cfg(dirs["untrained"]))
    assert recall_precision(untrained, REACHABLE[:60], "PERSON")[0] < 0.2


def test_spans_are_string_offsets_into_the_original_text(ner) -> None:
    texts = [t for t, _ in HELD_OUT[:40]]
    base = ner.entities(texts)
    assert sum(map(len, base.values())) >= 10
    prefix = "𝒜 ünï — 😀 "  # astral-plane and combining-free accented characters before the entities
    shifted = ner.entities([prefix + t for t in texts])
    for i, spans in base.items():
        for s in spans:
            assert 0 <= s.start < s.end <= len(texts[i]) and s.recognizer == "gliner_ner"
            assert s.entity_type in ("PERSON", "LOCATION", "ORGANIZATION") and 0.5 <= s.score <= 1.0
            value = texts[i][s.start : s.end]
            assert value == value.strip() and value[0].isalpha()
            words = list(ner.splitter(texts[i]))  # GLiNER's words, a regex over the str
            assert s.start in {w[1] for w in words} and s.end in {w[2] for w in words} | {
                w[2] - 2 for w in words
            }
    # offsets in bytes or UTF-16 units would move by more than len(prefix) and match nothing
    n = len(prefix)
    moved = {(i, s.start - n, s.end - n, s.entity_type) for i, spans in shifted.items() for s in spans}
    same = {(i, s.start, s.end, s.entity_type) for i, spans in base.items() for s in spans}
    assert len(same & moved) >= 0.6 * len(same)  # the prefix changes the context of the first words


def test_batch_and_single_agree(ner) -> None:
    texts = [t for t, _ in HELD_OUT[:24]]
    batched = ner.entities(texts)
    for i, t in enumerate(texts):
        single = ner.entities([t]).get(0, [])
        assert [(s.start, s.end, s.entity_type) for s in batched.get(i, [])] == [
            (s.start, s.end, s.entity_type) for s in single
        ]
        assert [s.score for s in batched.get(i, [])] == pytest.approx([s.score for s in single], abs=1e-4)


def test_long_text_is_windowed_not_truncated(ner, dirs) -> None:
    short = gb.load(_cfg(dirs["short"]))  # same weights; GLiNER itself reads 24 words per text at most
    pieces = [t for t, g in HELD_OUT if any(x[2] == "PERSON" for x in g)][:12]
    long_text = "\n\n".join(pieces)
    starts = [long_text.index(p) for p in pieces]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = short.model.inference([long_text], ["person"], threshold=0.5)[0]
    assert all(e["end"] <= starts[2] for e in raw)  # without windows, everything after word 24 is lost
    assert len(short._windows(long_text)) > 10
    found = {(s.start, s.end, s.entity_type) for s in short.entities([long_text]).get(0, [])}
    alone = ner.entities(pieces)  # each piece whole (max_len 128), no windows
    expected = {
        (st + s.start, st + s.end, s.entity_type) for k, st in enumerate(starts) for s in alone.get(k, [])
    }
    assert len(expected) >= 8 and max(a for a, _, _ in found) > starts[-1]  # found up to the last piece
    print(
        f"windowed: {len(found)} spans, {len(found & expected)} of the {len(expected)} found in whole pieces"
    )
    # a piece's last words see the next piece here: context, not windows, explains the few differences
    assert len(found & expected) >= 0.7 * len(expected)


@pytest.mark.parametrize("max_sub", [5, 12, 40])
def test_plan_windows_cover_everything_within_limits(max_sub: int) -> None:
    rng = random.Random(max_sub)
    n_sub = [rng.choice([1, 1, 1, 2, 3, 7]) for _ in range(300)]
    plan = gb.plan_windows(n_sub, max_words=20, max_sub=max_sub, overlap=6)
    assert plan[0][0] == 0 and plan[-1][1] == len(n_sub)
    for (a, b), (c, d) in itertools.pairwise(plan):
        assert a < c <= b <= d and (c < b or b - a == 1)  # forward, overlapping unless a lone long word
        assert b - c >= min(6, (b - a) // 2)
    for a, b in plan:
        assert b - a <= 20 and (sum(n_sub[a:b]) <= max_sub or b - a == 1)


def test_flat_keeps_the_best_of_overlapping_spans() -> None:
    spans = [
        (0, 10, "PERSON", 0.6),
        (5, 15, "LOCATION", 0.9),
        (0, 10, "PERSON", 0.6),
        (16, 20, "PERSON", 0.7),
    ]
    assert gb.flat(spans) == [(5, 15, "LOCATION", 0.9), (16, 20, "PERSON", 0.7)]


def test_clean_trims_and_drops_what_cannot_be_a_name() -> None:
    text = "Ask Anna's team, or Berlin: see #Carla and ECONNRESET 42"
    assert gb.clean(text, 4, 10, "PERSON") == (4, 8)  # possessive
    assert gb.clean(text, 20, 27, "LOCATION") == (20, 26)  # trailing colon
    assert gb.clean(text, 33, 38, "PERSON") is None  # after '#'
    assert gb.clean(text, 43, 53, "PERSON") is None  # an all-caps code, no listed name
    assert gb.clean(text, 43, 56, "LOCATION") is None  # digits


def test_gate_and_label_mapping(ner, dirs) -> None:
    texts = ["nothing here, all lower case", "", HELD_OUT[0][0]]
    assert set(ner.entities(texts)) <= {2}
    only_location = gb.load(_cfg(dirs["trained"], gliner_labels={"location": "LOCATION"}))
    got = only_location.entities([t for t, _ in HELD_OUT[:40]])
    assert all(s.entity_type == "LOCATION" for spans in got.values() for s in spans)


def test_model_info_reads_metadata_without_torch(dirs) -> None:
    code = (
        "import sys, json; from privtune.pii.config import NerConfig; from privtune.pii.ner import model_info; "
        f"info = model_info(NerConfig(model='gliner:{dirs['trained']}')); "
        "assert 'torch' not in sys.modules and 'gliner' not in sys.modules, 'heavy import'; print(json.dumps(info))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    info = json.loads(out.stdout)
    assert info == model_info(_cfg(dirs["trained"]))
    assert info["name"] == "gliner:tiny-test" and info["version"].startswith(gb._gliner_version() + "+")
    assert model_info(_cfg(dirs["untrained"]))["version"] != info["version"]  # the weights are hashed


def test_clear_errors(dirs, tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        model_info(_cfg(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_ner(_cfg(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="needs a local model directory"):
        model_info(NerConfig(model="gliner:"))
    hf_like = tmp_path / "hf"
    hf_like.mkdir()
    (hf_like / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a GLiNER model"):
        load_ner(_cfg(hf_like))
    no_weights = tmp_path / "noweights"
    no_weights.mkdir()
    shutil.copy(dirs["trained"] / "gliner_config.json", no_weights)
    with pytest.raises(ConfigError, match="no weights"):
        model_info(_cfg(no_weights))
    with pytest.raises(ValueError, match="gliner_labels"):
        NerConfig(model="gliner:x", gliner_labels={})
    real = gb.importlib.util.find_spec
    monkeypatch.setattr(gb.importlib.util, "find_spec", lambda n, *a: None if n == "gliner" else real(n, *a))
    with pytest.raises(ConfigError, match="pip install gliner"):
        model_info(_cfg(dirs["trained"]))


def test_inference_errors_carry_no_text(ner, monkeypatch) -> None:
    secret = "Marguerite Okonkwo-Villeneuve lives at 12 Rue Secrète"

    def boom(texts, *a, **k):  # type: ignore[no-untyped-def]
        raise ValueError(f"bad input {texts[0]!r}")

    monkeypatch.setattr(ner.model, "inference", boom)
    with pytest.raises(RuntimeError) as exc:
        ner.entities([secret])
    assert (
        "Marguerite" not in str(exc.value) and exc.value.__cause__ is None and exc.value.__suppress_context__
    )


def test_scan_cli_uses_the_gliner_model(cli, dirs, tmp_path) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"prompt": t, "completion": "ok"}) + "\n" for t, _ in REACHABLE[:30]))
    conf = tmp_path / "c.yaml"
    conf.write_text(
        "ingest: {schema: prompt_completion}\npii:\n  disable: [person_rules]\n"
        f"  ner: {{model: 'gliner:{dirs['trained']}'}}\n"
    )
    r = cli("scan", inp, "--findings", tmp_path / "f.jsonl", "--json", "-c", conf)
    assert r.code == 0, r.err
    assert json.loads(r.out)["ner"] == model_info(_cfg(dirs["trained"]))
    lines = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    people = [s for x in lines for s in x["spans"] if s["entity_type"] == "PERSON"]
    assert len(people) >= 10 and {s["recognizer"] for s in people} == {"gliner_ner"}
    conf.write_text(conf.read_text().replace(str(dirs["trained"]), str(tmp_path / "missing")))
    r = cli("scan", inp, "--findings", tmp_path / "g.jsonl", "--json", "-c", conf)
    assert r.code == 2 and "does not exist" in r.err and not (tmp_path / "g.jsonl").exists()
