"""`geobrief dataset import|stats|export`: thin commands over the dataset API, errors as one line."""

from __future__ import annotations

import json

from bot.cli import main


def test_import_stats_export(tmp_path, base_model_path, shared_data, capsys):
    config = tmp_path / "config.toml"
    config.write_text(f'db_path = "g.db"\n[model]\nbase = "{base_model_path}"\nmodels_dir = "models"\nmax_input_tokens = 256\n'
                      f'[training]\nmax_length = 384\n')
    run = lambda *argv: main(["--config", str(config), *argv])  # noqa: E731

    assert run("dataset", "import", str(shared_data / "news_pairs.jsonl"), "--input-field", "article", "--output-field", "summary",
               "--origin-field", "source_dataset", "--id-field", "id") == 0
    assert "imported 969 pairs into the pairs table" in capsys.readouterr().out

    assert run("dataset", "stats") == 0
    out = capsys.readouterr().out
    assert out.startswith("pairs: 969 (train ") and "XSum (via FRANK benchmark): " in out
    cut = int(out.split("marked …): ")[1].split()[0])
    assert cut > 300  # most real articles are longer than 256 tokens

    assert run("dataset", "export", "--split", "holdout", "-o", str(tmp_path / "h.jsonl")) == 0
    rows = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert rows and {r["split"] for r in rows} == {"holdout"} and rows[0]["completion"][0]["role"] == "assistant"
    assert f"wrote {len(rows)} holdout pairs (chat format)" in capsys.readouterr().out

    assert run("dataset", "import", str(shared_data / "news_pairs.jsonl"), "--input-field", "text") == 2
    err = capsys.readouterr().err
    assert err.startswith("geobrief: ") and "no field 'text'" in err and err.count("\n") == 1

    seed = tmp_path / "seed.jsonl"
    assert run("dataset", "import", str(shared_data / "news_pairs.jsonl"), "--input-field", "article", "--output-field", "summary", "--to", str(seed)) == 0
    assert len(seed.read_text().splitlines()) == 969 and set(json.loads(seed.read_text().splitlines()[0])) == {"input", "output"}
