"""Batched summarization with a model that can be swapped while serving."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

import torch

from .modeling import LoadedModel
from .prompts import build_messages, max_new_tokens, truncate_words
from .settings import StyleSettings

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]?(?=\s|$)")


class GeneratedOnly:
    """Applies a logits processor to the generated tokens only.

    Transformers' n-gram and repetition penalties count the prompt too, so a decoder-only model may
    not repeat any 4 words of the article it summarizes: names come out misspelt ("John Carber") and
    quotes paraphrased. A summary may reuse its article's words; it should not repeat itself.
    """

    def __init__(self, inner, prompt_len: int):
        self.inner, self.prompt_len = inner, prompt_len

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_len :]
        return self.inner(generated, scores) if generated.shape[1] else scores


def repetition_processors(prompt_len: int):
    from transformers import LogitsProcessorList, NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    return LogitsProcessorList([GeneratedOnly(NoRepeatNGramLogitsProcessor(4), prompt_len),
                                RepetitionPenaltyLogitsProcessor(1.1, prompt_ignore_length=prompt_len)])


@dataclass
class Request:
    """One article to summarize, at a length (None = the style's)."""

    article: str
    length: str | None = None


@dataclass
class Summary:
    text: str
    version: str


def tidy(text: str, hit_limit: bool) -> str:
    """Collapse whitespace; when generation ran out of tokens, drop the unfinished last sentence."""
    text = " ".join(text.split())
    if hit_limit:
        ends = list(_SENTENCE_END.finditer(text))
        if ends and ends[-1].end() < len(text):
            text = text[: ends[-1].end()]
    return text


class Summarizer:
    """Serves one model at a time; ``swap`` replaces it atomically between batches.

    Each call reads the current model once, so every summary of a batch comes from one version
    and carries that version's name.
    """

    def __init__(self, loaded: LoadedModel, max_input_tokens: int = 768, batch_size: int = 4):
        self._current = loaded
        self._lock = threading.Lock()  # one generate() at a time: torch already uses every core
        self.max_input_tokens = max_input_tokens
        self.batch_size = batch_size

    @property
    def version(self) -> str:
        return self._current.version

    def swap(self, loaded: LoadedModel) -> str:
        """Serve ``loaded`` from the next batch on; return the version it replaced."""
        old, self._current = self._current, loaded
        log.info("serving model %s (was %s)", loaded.version, old.version)
        return old.version

    def summarize(self, requests: list[Request], style: StyleSettings) -> list[Summary]:
        current = self._current
        out: list[Summary | None] = [None] * len(requests)
        by_length: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            by_length.setdefault(req.length or style.length, []).append(i)
        for length, idxs in by_length.items():
            for start in range(0, len(idxs), self.batch_size):
                chunk = idxs[start : start + self.batch_size]
                texts = self._generate(current, [requests[i].article for i in chunk], style, length)
                for i, text in zip(chunk, texts):
                    out[i] = Summary(text, current.version)
        return out  # type: ignore[return-value]

    def _generate(self, current: LoadedModel, articles: list[str], style: StyleSettings, length: str) -> list[str]:
        tok, model = current.tokenizer, current.model
        prompts = [
            tok.apply_chat_template(build_messages(truncate_words(a, tok, self.max_input_tokens), style, length), tokenize=False, add_generation_prompt=True)
            for a in articles
        ]
        tok.padding_side = "left"
        batch = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(current.device)
        limit = max_new_tokens(length)
        with self._lock, torch.inference_mode():
            generated = model.generate(
                **batch,
                max_new_tokens=limit,
                do_sample=False,
                logits_processor=repetition_processors(batch["input_ids"].shape[1]),
                pad_token_id=tok.pad_token_id,
            )
        new_tokens = generated[:, batch["input_ids"].shape[1] :]
        texts = []
        for row in new_tokens:
            ids = [t for t in row.tolist() if t != tok.pad_token_id]
            hit_limit = tok.eos_token_id not in row.tolist()
            texts.append(tidy(tok.decode(ids, skip_special_tokens=True), hit_limit))
        return texts
