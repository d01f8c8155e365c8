"""The training set: dedupe by normalised input, a split that never moves, no holdout in training."""

from __future__ import annotations

import json

import pytest

from trainer import dataset, pairs


def article(i: int) -> str:
    return f"Article {i}: " + " ".join(f"word{i}_{k}" for k in range(40))


def test_split_is_stable_and_disjoint(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": article(i), "output": f"Summary number {i} of the day."}) for i in range(200)))
    first = dataset.split(dataset.collect(db, [seed]), 0.2)
    # more data arrives (corrections); no earlier input changes side
    for i in range(200, 260):
        pairs.add_pair(db, article(i), f"Corrected summary {i} here.", "correction", ref=f"article:{i}")
    second = dataset.split(dataset.collect(db, [seed]), 0.2)
    held1 = {e.input_hash for e in first.holdout}
    held2 = {e.input_hash for e in second.holdout}
    train2 = {e.input_hash for e in second.train}
    assert held1 <= held2 and not held1 & {e.input_hash for e in second.train}
    assert not held2 & train2
    assert 0.1 < len(second.holdout) / 260 < 0.3


def test_holdout_input_never_reaches_training_even_when_corrected(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": article(i), "output": f"Summary {i} of the news."}) for i in range(100)))
    split = dataset.split(dataset.collect(db, [seed]), 0.3)
    held = split.holdout[0]
    # the same article, differently spaced and cased, corrected by a reader
    pairs.add_pair(db, "  " + held.input.upper().replace(" ", "   "), "A reader's better summary of it.", "correction", ref="article:x")
    again = dataset.split(dataset.collect(db, [seed]), 0.3)
    assert held.input_hash not in {e.input_hash for e in again.train}
    assert any(e.output == "A reader's better summary of it." for e in again.holdout)  # latest wins, still held out


def test_latest_correction_for_an_article_wins(db):
    pairs.add_pair(db, article(1), "First attempt at a summary.", "correction", ref="article:1")
    pairs.add_pair(db, article(1), "Second, better summary here.", "correction", ref="article:1")
    examples = dataset.collect(db, [])
    assert [e.output for e in examples] == ["Second, better summary here."]


def test_bad_seed_line_is_named(db, tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"input": "a", "output": "b"}\n{"input": 3}\n')
    with pytest.raises(dataset.DatasetError, match="seed.jsonl:2"):
        dataset.collect(db, [seed])


def test_most_trusted_source_wins_whatever_the_order(db, tmp_path):
    text = article(7)
    seed = tmp_path / "seed.jsonl"
    seed.write_text(json.dumps({"input": text, "output": "The seed file's summary of it."}))
    pairs.add_pair(db, text, "A reader's correction of the summary.", "correction", ref="article:7")
    pairs.add_pair(db, text, "An imported reference summary here.", "import", ref="file:7")  # newer, but less trusted
    thumbs = [{"input": text, "output": "The summary readers liked a lot.", "source": "thumbs_up"}]
    data = dataset.build(db, [seed], 0.2, thumbs)
    assert [e.output for e in data.train + data.holdout] == ["A reader's correction of the summary."]
    assert data.replaced == 3
    pairs.deactivate(db, "correction", "article:7")  # withdrawn: the 👍 summary is next in line
    data = dataset.build(db, [seed], 0.2, thumbs)
    assert [(e.output, e.source) for e in data.train + data.holdout] == [("The summary readers liked a lot.", "thumbs_up")]


def test_noise_is_cleaned_and_counted(db, tmp_path, shared_data):
    rows = [json.loads(l) for l in (shared_data / "news_pairs.jsonl").read_text().splitlines()]
    xsum = next(r for r in rows if "Media playback is not supported" in r["article"])
    cnn = next(r for r in rows if r["source_dataset"].startswith("CNN") and " 's" in r["summary"])
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps({"input": r["article"], "output": r["summary"]}) for r in (xsum, cnn)) + "\n"
                    + json.dumps({"input": "Too short to be an article.", "output": "Short summary here."}) + "\n"
                    + json.dumps({"input": article(3), "output": "Two words"}))
    data = dataset.build(db, [seed], 0.01)
    texts = {e.input[:40]: e for e in data.train + data.holdout}
    assert len(texts) == 2 and not any("Media playback" in e.input for e in texts.values())
    cleaned = next(e for e in texts.values() if e.input.startswith(cnn["article"][:30]))
    assert " 's" not in cleaned.output and " ." not in cleaned.output and cleaned.output.endswith(".")
    assert data.dropped == {"article under 20 words": 1, "summary under 3 words": 1}


def test_prompts_fit_the_token_budget_and_summaries_are_never_cut(tokenizer, shared_data):
    from trainer.settings import StyleSettings

    rows = [json.loads(l) for l in (shared_data / "news_pairs.jsonl").read_text().splitlines()]
    long_ones = [r for r in rows if len(r["article"].split()) > 500][:6]
    examples = [dataset.Example(r["article"], r["summary"], "seed", pairs.input_hash(r["article"]), "standard") for r in long_ones]
    examples.append(dataset.Example(article(1), " ".join(["word"] * 300), "seed", "h", "detailed"))  # its summary cannot fit
    fitter = dataset.PromptFitter(tokenizer, StyleSettings(), max_input_tokens=768, max_length=256)
    records = dataset.to_records(examples, StyleSettings(), tokenizer, 768, 256, fitter)
    assert len(records) == 6 and fitter.cut == 6
    assert fitter.dropped == {"summary too long for training.max_length": 1}
    for rec, ex in zip(records, examples):
        ids = tokenizer.apply_chat_template(rec["prompt"] + rec["completion"], tokenize=True, return_dict=True)["input_ids"]
        assert len(ids) <= 256
        assert rec["completion"][0]["content"] == ex.output  # the summary whole
        body = rec["prompt"][1]["content"].split("\n\n", 1)[1]
        assert body.endswith(" …")  # the cut is marked …
        kept = body[:-2]
        assert ex.input.startswith(kept) and ex.input[len(kept)] in " \n"  # … and falls between words


def test_import_any_layout_then_export_for_datasets(db, tmp_path, shared_data):
    from datasets import load_dataset

    from trainer.datafiles import import_jsonl
    from trainer.settings import ModelSettings, StyleSettings, TrainingSettings

    src = shared_data / "news_pairs.jsonl"
    report = import_jsonl(db, src, "article", "summary", origin_field="source_dataset", id_field="id")
    again = import_jsonl(db, src, "article", "summary", origin_field="source_dataset", id_field="id")
    assert report.added == again.added == 969 and pairs.count_active(db, "import") == 969  # re-import replaces
    assert len(report.origins) == 5
    with pytest.raises(dataset.DatasetError, match="no field 'body'"):
        import_jsonl(db, src, "body", "summary")

    training = TrainingSettings(max_length=512, holdout_fraction=0.2)
    model = ModelSettings(base=str(tokenizer_path()), max_input_tokens=384)
    data = dataset.build(db, [], training.holdout_fraction)
    assert {e.origin for e in data.holdout} == set(report.origins)  # every source is held out in part
    out = tmp_path / "train.jsonl"
    rows = dataset.export_split(data, out, training, model, StyleSettings(), "chat", "train")
    loaded = load_dataset("json", data_files=str(out), split="train")
    assert len(loaded) == rows > 700 and set(loaded.column_names) >= {"prompt", "completion", "split", "origin"}
    assert [m["role"] for m in loaded[0]["prompt"] + loaded[0]["completion"]] == ["system", "user", "assistant"]
    assert not {r["input_hash"] for r in loaded} & {e.input_hash for e in data.holdout}
    seed = tmp_path / "holdout.jsonl"
    dataset.export_split(data, seed, training, model, StyleSettings(), "seed", "holdout")
    assert len(dataset.read_seed_file(seed)) == len(data.holdout)  # the seed layout reads back as seed pairs


def tokenizer_path():
    from tests.conftest import BASE_MODEL

    return BASE_MODEL


@pytest.fixture(scope="module")
def tokenizer():
    from trainer.modeling import load_tokenizer

    return load_tokenizer(str(tokenizer_path()))


def test_the_gate_scores_every_source_newest_first():
    def ex(group, i):
        return dataset.Example(f"{group} {i}", "s", "import", f"{group}{i}", "brief", group)

    holdout = [ex("XSum", i) for i in range(10)] + [ex("CNN", i) for i in range(3)] + [ex("correction", 0), ex("correction", 1)]
    picked = dataset.holdout_sample(holdout, 7)
    assert [e.input for e in picked] == ["correction 1", "CNN 2", "XSum 9", "correction 0", "CNN 1", "XSum 8", "CNN 0"]
    assert dataset.holdout_sample(holdout, 100) and len(dataset.holdout_sample(holdout, 100)) == 15
