import hashlib
import json
import logging
import pickle

import pytest
import torch
import yaml
from pydantic import ValidationError

from molgen.errors import ModelFormatError
from molgen.training.artifacts import ModelLoadError, ModelSpec, export_model, load_state, read_model, write_json


def _export(tmp_path, name_length: int):
    member = torch.nn.Linear(1, 1)
    member.register_buffer("p" * name_length, torch.zeros(3))
    return export_model(tmp_path / "model", [member], {"family": "property"}, "card")


def test_roundtrip_of_members(tmp_path):
    members = [torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)]
    export_model(tmp_path / "m", members, {"family": "property", "x": 1}, "# card")
    spec, states = read_model(tmp_path / "m")
    assert spec.ensemble_size == 2 and spec.x == 1 and spec.format_version == 2
    assert torch.equal(states[1]["weight"], members[1].weight)


def test_safetensors_whose_first_byte_is_0x80_is_not_mistaken_for_a_pickle(tmp_path):
    # Grow the header until its length's low byte is 0x80 (the pickle protocol marker).
    for n in range(1, 600):
        path = _export(tmp_path / str(n), n) / "model.safetensors"
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("could not produce a header length ending in 0x80")
    _, states = read_model(path.parent)
    assert states[0]["p" * n].numel() == 3


def test_pickle_and_truncation_are_refused(tmp_path):
    model_dir = _export(tmp_path, 4)
    weights = model_dir / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelLoadError, match="never unpickles"):
        read_model(model_dir)
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelLoadError, match="does not match its checksum"):
        read_model(model_dir)
    _strip_checksums(model_dir)  # a folder from before checksums: the safetensors reader finds the damage
    with pytest.raises(ModelLoadError, match="truncated or corrupted"):
        read_model(model_dir)


def _strip_checksums(model_dir):
    values = yaml.safe_load((model_dir / "model.yaml").read_text())
    values.pop("sha256")
    (model_dir / "model.yaml").write_text(yaml.safe_dump(values))


def test_model_yaml_records_the_sha256_of_the_weights(tmp_path):
    model_dir = _export(tmp_path, 1)
    values = yaml.safe_load((model_dir / "model.yaml").read_text())
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert values["sha256"] == {"model.safetensors": digest}


def test_a_flipped_bit_in_the_weights_is_refused(tmp_path):
    model_dir = _export(tmp_path, 1)
    weights = model_dir / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # the last byte belongs to a tensor: the file still parses, its values change
    weights.write_bytes(bytes(data))
    with pytest.raises(
        ModelFormatError, match=r"model.safetensors does not match its checksum in model.yaml \(expected"
    ):
        read_model(model_dir)


def test_0xff_bytes_in_the_weights_are_refused_even_without_a_checksum(tmp_path):
    model_dir = _export(tmp_path, 1)
    weights = model_dir / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-12] + b"\xff" * 12)  # the buffer p…: three float32 NaNs
    with pytest.raises(ModelFormatError, match="checksum"):
        read_model(model_dir)
    _strip_checksums(model_dir)
    with pytest.raises(ModelFormatError, match=r"tensor 'members.0.p' holds NaN or infinite values"):
        read_model(model_dir)


def test_non_finite_weights_are_refused_at_load(tmp_path):
    member = torch.nn.Linear(2, 1)
    with torch.no_grad():
        member.weight[0, 1] = float("inf")
    export_model(tmp_path / "m", [member], {"family": "property"}, "card")
    with pytest.raises(ModelFormatError, match=r"m/model.safetensors: tensor 'members.0.weight' holds NaN or infinite"):
        read_model(tmp_path / "m")


def test_a_folder_without_checksums_loads_unverified(tmp_path, caplog):
    model_dir = _export(tmp_path, 1)
    _strip_checksums(model_dir)
    with caplog.at_level(logging.INFO, logger="molgen"):
        spec, states = read_model(model_dir)
    assert spec.sha256 == {} and states[0]["p"].numel() == 3
    assert "loading it unverified" in caplog.text


def test_wrong_shape_names_the_tensor_and_both_shapes(tmp_path):
    with pytest.raises(ModelFormatError) as err:
        load_state(torch.nn.Linear(3, 2), {"weight": torch.zeros(4, 3), "bias": torch.zeros(2)}, "m/model.yaml")
    assert str(err.value) == (
        "m/model.yaml: tensor 'weight' has shape [4, 3], the model described in model.yaml needs [2, 3]"
    )
    with pytest.raises(ModelFormatError, match="missing tensors bias"):
        load_state(torch.nn.Linear(3, 2), {"weight": torch.zeros(2, 3)}, "m/model.yaml")


def test_a_missing_key_names_the_key_and_the_file(tmp_path):
    model_dir = _export(tmp_path, 1)
    values = yaml.safe_load((model_dir / "model.yaml").read_text())
    (model_dir / "model.yaml").write_text(yaml.safe_dump({**values, "task": {"targets": ["y"]}}))
    with pytest.raises(ModelFormatError) as err:
        read_model(model_dir)
    assert str(err.value) == f"{model_dir / 'model.yaml'}: invalid model spec: task.type: missing key"
    spec, _ = read_model(_export(tmp_path / "b", 1))
    with pytest.raises(ModelFormatError, match=r"b/model/model.yaml: missing key 'task'"):
        spec.section("task")


def test_export_replaces_the_folder_whole_or_not_at_all(tmp_path):
    model_dir = export_model(tmp_path / "model", [torch.nn.Linear(1, 1)], {"family": "property", "x": 1}, "old")
    with pytest.raises(ValidationError):  # fails after the weights were written: the old folder stays
        export_model(model_dir, [torch.nn.Linear(2, 2)], {"family": None}, "new")
    assert (model_dir / "README.md").read_text() == "old"
    assert read_model(model_dir)[0].x == 1
    export_model(model_dir, [torch.nn.Linear(2, 2)], {"family": "property", "x": 2}, "new")
    assert read_model(model_dir)[0].x == 2 and (model_dir / "README.md").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folders left


def test_write_json_writes_null_for_nan(tmp_path):
    write_json(tmp_path / "metrics.json", {"test": {"r2": float("nan"), "rmse": 1.5, "x": [float("inf")]}})
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"test": {"r2": None, "rmse": 1.5, "x": [None]}}


def test_format_1_folder_is_upgraded_on_read(tmp_path):
    model_dir = _export(tmp_path, 1)
    values = yaml.safe_load((model_dir / "model.yaml").read_text())
    values.pop("format_version")
    (model_dir / "model.yaml").write_text(yaml.safe_dump({"format": 1, **values}))
    spec, _ = read_model(model_dir)
    assert spec.format_version == 2 and spec.family == "property" and "format" not in spec.model_dump()


def test_newer_format_is_refused_with_the_upgrade_hint(tmp_path):
    model_dir = _export(tmp_path, 1)
    values = yaml.safe_load((model_dir / "model.yaml").read_text())
    (model_dir / "model.yaml").write_text(yaml.safe_dump({**values, "format_version": 3}))
    with pytest.raises(ModelFormatError) as err:
        read_model(model_dir)
    assert str(err.value) == "model.yaml format_version 3 is newer than this molgen understands (2); upgrade molgen"


def test_spec_is_typed_and_keeps_family_extras():
    spec = ModelSpec.model_validate(
        {"family": "generation", "generator": "charrnn", "sizes": {"hidden_dim": 8}, "task": None}
    )
    assert spec.generator == "charrnn" and spec.sizes == {"hidden_dim": 8}
    assert "task" not in yaml.safe_load(spec.to_yaml())  # absent sections are not written
