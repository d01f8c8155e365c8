"""Rollback in the registry and through the CLI, on a registry with a real fine-tuned v1."""

from __future__ import annotations

import shutil

import pytest
import sqlite_utils

from bot.cli import main
from trainer import registry

pytestmark = [pytest.mark.model, pytest.mark.training]


@pytest.fixture
def reg(trained, tmp_path):
    root = trained.copy_to(tmp_path / "reg")
    return root, sqlite_utils.Database(root / "geobrief.db")


def test_rollback_and_forward_again(reg):
    root, db = reg
    models = root / "models"
    assert registry.champion(db)["name"] == "v1"
    v0 = registry.rollback(db, "0", models, by="admin 5")
    assert v0["status"] == "champion" and registry.champion(db)["name"] == "v0"
    assert registry.get_version(db, "v1")["status"] == "retired"  # kept, not deleted
    event = registry.events(db)[0]
    assert (event["name"], event["event"]) == ("v0", "rolled_back") and event["reason"] == "rolled back by admin 5 from v1"
    with pytest.raises(registry.RollbackError, match="already serving"):
        registry.rollback(db, "v0", models)
    with pytest.raises(registry.VersionNotFound, match="no model version 'v7'"):
        registry.rollback(db, "v7", models)
    assert registry.rollback(db, "v1", models)["status"] == "champion"
    assert [e["event"] for e in registry.events(db)][:3] == ["rolled_back", "rolled_back", "promoted"]


def test_rollback_refuses_a_version_whose_files_are_gone(reg):
    root, db = reg
    registry.rollback(db, "0", root / "models")
    shutil.rmtree(root / "models" / "v1")
    with pytest.raises(registry.RollbackError, match="adapter files are missing"):
        registry.rollback(db, "1", root / "models")
    assert registry.champion(db)["name"] == "v0"


def test_cli_lists_and_rolls_back(reg, base_model_path, capsys):
    root, db = reg
    config = root / "config.toml"
    config.write_text(f'db_path = "geobrief.db"\n[model]\nbase = "{base_model_path}"\nmodels_dir = "models"\n')
    v1 = registry.metrics_of(registry.get_version(db, "v1"))
    assert main(["--config", str(config), "models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["version", "status", "rougeLsum", "parent"]
    assert out[2].split()[:5] == ["v1", "champion", f"{v1['candidate']['rougeLsum']:.4f}", f"{v1['baseline']['rougeLsum']:.4f}", "31"]
    assert main(["--config", str(config), "models", "rollback", "0"]) == 0
    assert "v0 is now the champion" in capsys.readouterr().out
    assert registry.champion(db)["name"] == "v0"
    assert main(["--config", str(config), "models", "rollback", "9"]) == 2
    assert capsys.readouterr().err == "geobrief: no model version '9'; /models or `geobrief models list` lists them\n"
