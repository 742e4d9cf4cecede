"""A hand-edited or damaged ``model.yaml`` is refused with a ModelFormatError naming the file and the key or
tensor, never a traceback (the folder is a copy of the format-1 property fixture)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from molgen.analysis.prediction import load_model
from molgen.errors import ModelFormatError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "models_format1" / "property"


def _edited(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(FIXTURE, folder)
    values = yaml.safe_load((folder / "model.yaml").read_text())
    edit(values)
    (folder / "model.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    return folder


def test_unknown_key_under_model_names_the_key_and_the_file(tmp_path: Path):
    folder = _edited(tmp_path, lambda v: v["model"].update(foo=1))
    with pytest.raises(ModelFormatError, match=r"model/model.yaml: model: unknown key\(s\) model.foo; valid keys"):
        load_model(folder)


def test_missing_section_names_the_key_and_the_file(tmp_path: Path):
    folder = _edited(tmp_path, lambda v: v.pop("task"))
    with pytest.raises(ModelFormatError, match=r"model/model.yaml: missing key 'task' \(a property model needs it\)"):
        load_model(folder)


def test_missing_key_inside_a_section_names_it(tmp_path: Path):
    folder = _edited(tmp_path, lambda v: v["task"].pop("type"))
    with pytest.raises(ModelFormatError, match=r"model/model.yaml: invalid model spec: task.type: missing key$"):
        load_model(folder)


def test_sizes_that_do_not_fit_the_weights_name_the_tensor_and_both_shapes(tmp_path: Path):
    folder = _edited(tmp_path, lambda v: v["model"].update(hidden_dim=8))
    with pytest.raises(ModelFormatError, match=r"tensor '[\w.]+' has shape \[16, \d+\], the model described in"):
        load_model(folder)


def test_unknown_task_type_names_the_file(tmp_path: Path):
    folder = _edited(tmp_path, lambda v: v["task"].update(type="foo"))
    with pytest.raises(ModelFormatError, match=r"model/model.yaml: unknown task type 'foo'; valid types: regression"):
        load_model(folder)
