import pickle

import pytest
import torch
import yaml

from molgen.errors import ModelFormatError
from molgen.training.artifacts import ModelLoadError, ModelSpec, export_model, read_model


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
    with pytest.raises(ModelLoadError, match="truncated or corrupted"):
        read_model(model_dir)


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
