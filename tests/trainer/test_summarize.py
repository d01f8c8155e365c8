"""Batched summaries from the real base model, and a swap that never mixes versions in a batch."""

from __future__ import annotations

import json
import threading

import pytest

from trainer.modeling import LoadedModel
from trainer.settings import StyleSettings
from trainer.summarize import Request, Summarizer, tidy

pytestmark = pytest.mark.model


def news(shared_data, n):
    rows = [json.loads(l) for l in (shared_data / "news_pairs.jsonl").read_text().splitlines()]
    return [r["article"] for r in rows if r["is_politics_or_world"]][:n]


def test_real_model_summarizes_a_batch(base_model, shared_data):
    articles = news(shared_data, 3)
    out = Summarizer(base_model, max_input_tokens=256, batch_size=3).summarize([Request(a) for a in articles], StyleSettings(length="brief"))
    assert len(out) == 3 and all(s.version == "v0" for s in out)
    assert all(10 < len(s.text) < 600 for s in out)
    assert len({s.text for s in out}) == 3  # each article gets its own summary


def test_swap_between_batches_never_mixes_versions(base_model, shared_data):
    articles = news(shared_data, 4)
    summarizer = Summarizer(base_model, max_input_tokens=128, batch_size=2)
    other = LoadedModel("v9", base_model.model, base_model.tokenizer, "cpu")
    results = []
    worker = threading.Thread(target=lambda: results.extend(summarizer.summarize([Request(a) for a in articles], StyleSettings(length="brief"))))
    worker.start()
    summarizer.swap(other)  # mid-flight: the running call keeps the model it started with
    worker.join()
    assert len({s.version for s in results}) == 1
    assert summarizer.summarize([Request(articles[0])], StyleSettings(length="brief"))[0].version == "v9"


def test_tidy_drops_an_unfinished_sentence():
    assert tidy("One done. Two is not", hit_limit=True) == "One done."
    assert tidy("Only an unfinished one", hit_limit=True) == "Only an unfinished one"
    assert tidy("Fine.  Spaces\n fixed.", hit_limit=False) == "Fine. Spaces fixed."


def test_a_summary_may_quote_its_article_but_not_repeat_itself():
    import torch

    from trainer.summarize import repetition_processors

    prompt = [5, 1, 2, 3, 4, 6]                 # the article says "1 2 3 4"
    quoting = torch.tensor([prompt + [1, 2, 3]])  # the summary has written "1 2 3" so far
    scores = repetition_processors(len(prompt))(quoting, torch.zeros(1, 10))
    assert scores[0, 4] > float("-inf")          # it may go on to quote "1 2 3 4"
    repeating = torch.tensor([prompt + [1, 2, 3, 4, 7, 1, 2, 3]])
    scores = repetition_processors(len(prompt))(repeating, torch.ones(1, 10))
    assert scores[0, 4] == float("-inf")         # but not write "1 2 3 4" twice
    assert scores[0, 7] < 1 == scores[0, 6]      # and words it already used are penalised, the article's are not
