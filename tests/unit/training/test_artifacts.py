import pickle

import pytest
import torch

from molgen.training.artifacts import ModelLoadError, export_model, read_model


def _export(tmp_path, name_length: int):
    member = torch.nn.Linear(1, 1)
    member.register_buffer("p" * name_length, torch.zeros(3))
    return export_model(tmp_path / "model", [member], {"family": "property"}, "card")


def test_roundtrip_of_members(tmp_path):
    members = [torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)]
    export_model(tmp_path / "m", members, {"family": "property", "x": 1}, "# card")
    spec, states = read_model(tmp_path / "m")
    assert spec["ensemble_size"] == 2 and spec["x"] == 1
    assert torch.equal(states[1]["weight"], members[1].weight)


def test_safetensors_whose_first_byte_is_0x80_is_not_mistaken_for_a_pickle(tmp_path):
    # Grow the header until its length's low byte is 0x80 (the pickle protocol marker).
    for n in range(1, 600):
        path = _export(tmp_path / str(n), n) / "model.safetensors"
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("could not produce a header length ending in 0x80")
    spec, states = read_model(path.parent)
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
