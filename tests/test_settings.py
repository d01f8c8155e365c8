"""config.toml and the environment become typed settings; bad values say how to fix them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_and_resolves_paths():
    s = load_settings(ROOT / "config.toml", env={})
    assert s.db_path == ROOT / "data" / "geobrief.db"
    assert Path(s.model.base) == ROOT / "models/base/SmolLM2-135M-Instruct"
    assert s.training.seed_files == [ROOT / "trainer/seed/sample_pairs.jsonl"]
    assert s.telegram.token == ""
    assert len(s.feeds.sources) >= 1


def test_token_comes_from_the_environment_only(tmp_path):
    s = load_settings(ROOT / "config.toml", env={"TELEGRAM_BOT_TOKEN": " 1:abc \n", "GEOBRIEF_ADMIN_IDS": "5, 6"})
    assert s.telegram.token == "1:abc" and s.telegram.admin_ids == [5, 6]
    assert "1:abc" not in repr(s)
    bad = tmp_path / "c.toml"
    bad.write_text('[telegram]\ntoken = "1:abc"\n')
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(bad, env={})


@pytest.mark.parametrize(
    "text, message",
    [
        ("[feeds]\npoll_intervall_s = 60\n", "unknown key 'poll_intervall_s' in \\[feeds\\]"),
        ("[style]\ntone = 'angry'\n", "style.tone"),
        ("[eval]\nprimary_metric = 'bleu'\n", "eval.primary_metric"),
        ("[training]\nlora_r = 'eight'\n", "training.lora_r must be int"),
        ("[training]\ndeepspeed = true\n", "training.num_processes >= 2"),
        ("[eval]\nrouge_tolerance = -0.1\n", "eval.rouge_tolerance must be >= 0"),
        ("[telegram]\nmode = 'webhook'\n", "webhook_url"),
        ("[[feeds.sources]]\ntitle = 'no url'\n", "url"),
        ("db_path = \n", "c.toml"),
    ],
)
def test_bad_values_are_named(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_every_trainer_setting_is_documented_in_config_toml():
    import dataclasses
    import tomllib

    from trainer.settings import EvalSettings, TrainingSettings

    shipped = tomllib.loads((ROOT / "config.toml").read_text())
    for section, cls in (("training", TrainingSettings), ("eval", EvalSettings)):
        for f in dataclasses.fields(cls):
            assert f.name in shipped[section], f"{section}.{f.name} is missing from config.toml"
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
