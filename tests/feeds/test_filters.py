"""Include/exclude filters (words, phrases, RE2 regexes) and the relevance score, on real items."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from feeds.filters import compile_filters
from feeds.relevance import score, vocabulary
from tests.conftest import SHARED


def test_words_and_phrases_match_whole_words_case_insensitively():
    f = compile_filters(include=["Ukraine", "security council"], exclude=["football"], scope="feed filter")
    assert f.allows("UKRAINE talks resume")
    assert f.allows("The Security\n Council met")
    assert not f.allows("Ukrainian grain exports")  # whole words only
    assert f.reason("Ukraine's football team wins") == 'excluded by feed filter "football"'
    assert f.reason("Markets rally") == "matches none of the feed filter's include words"
    assert compile_filters(["été"]).allows("Un ÉTÉ chaud à Paris")
    assert compile_filters().allows("anything") and not compile_filters()


def test_regexes_run_in_linear_time_whatever_the_pattern():
    f = compile_filters(exclude=["/(a|aa)+$/", "/(x+x+)+y/", "/(\\w+\\s?)+$/"])
    hostile = "a" * 50_000 + "!"
    assert f.allows(hostile)  # finishes at once with RE2; Python's re would not finish
    assert not compile_filters(exclude=["/celebrit(y|ies)/"]).allows("Celebrities gather in Cannes")


@pytest.mark.parametrize("pattern, message", [
    ("/(a)\\1/", "backreferences and lookarounds are not supported"),
    ("/(?=x)y/", "backreferences and lookarounds are not supported"),
    ("/[unclosed/", "is not a valid regular expression: missing ]"),
    ("//", "is empty"),
    ("   ", "cannot be empty"),
    ("x" * 201, "longer than 200 characters"),
])
def test_bad_patterns_are_refused_with_a_readable_reason(pattern, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("]", r"\]")):
        compile_filters(exclude=[pattern])


def test_invalid_feed_filter_in_config_names_the_feed():
    from feeds.settings import FeedSource

    with pytest.raises(ValueError, match="feed https://x.example/rss: /\\[/ is not a valid regular expression"):
        FeedSource(url="https://x.example/rss", exclude=["/[/"])


def test_relevance_drops_sport_and_celebrity_keeps_politics():
    """Measured on the BBC News Summary, XSum and CNN/DailyMail items by their topic labels."""
    vocab = vocabulary()
    kept: dict[str, list[bool]] = defaultdict(list)
    for line in (SHARED / "news_pairs.jsonl").read_text().splitlines():
        r = json.loads(line)
        topic = r["topic"].lower()
        if r["source_dataset"].startswith("NeuS"):
            label = "politics"
        elif any(k in topic for k in ("sport", "entertainment", "femail", "showbiz", "travel", "arts")):
            label = "sport/celebrity"
        elif "politics" in topic or "world" in topic:
            label = "politics"
        else:
            label = "other"
        title, _, text = r["article"].partition("\n") if r["source_dataset"].startswith("BBC") else (r.get("title") or "", "", r["article"])
        kept[label].append(score(vocab, title, text) >= 0.3)
    rate = {k: sum(v) / len(v) for k, v in kept.items()}
    print("\nrelevance >= 0.3 keeps: " + ", ".join(f"{k} {sum(v)}/{len(v)} ({rate[k]:.0%})" for k, v in sorted(kept.items())))
    assert rate["politics"] >= 0.97 and rate["other"] >= 0.9 and rate["sport/celebrity"] <= 0.4


def test_relevance_vocabulary_is_extensible():
    base = vocabulary()
    extra = vocabulary(extra_geopolitical=["chess olympiad"])
    assert score(base, "Chess olympiad opens", "") == 0.5
    assert score(extra, "Chess olympiad opens", "") > 0.7
    assert score(base, "Striker scores twice as United win the cup final", "") < 0.2
