"""A federated site: its trunk, its head and its local rounds on the training core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from tests.conftest import MOLECULES

pytest.importorskip("flwr")


def labelled(path):
    frame = pd.DataFrame({"smiles": MOLECULES})
    frame["aromatic"] = [1.0 if "c" in s else 0.0 for s in MOLECULES]
    frame["has_n"] = [1.0 if "N" in s or "n" in s else 0.0 for s in MOLECULES]
    frame["ring"] = [1.0 if "1" in s else 0.0 for s in MOLECULES]
    frame.to_csv(path, index=False)
    return path


def test_sites_with_different_tasks_share_one_trunk_shape(tmp_path):
    """MELLODDY's setting: one site labels two tasks, another one other task; only the heads differ."""
    from molgen.config import RunConfig
    from molgen.federated.site import prepare_site, trunk_shapes

    labelled(tmp_path / "sites.csv")
    base = {"data.name": str(tmp_path / "sites.csv"), "model.hidden_dim": 16, "data.featurize_jobs": 1}
    a = prepare_site(
        RunConfig().with_values({**base, "task.type": "multilabel", "data.target_columns": ["aromatic", "has_n"]}), "a"
    )
    b = prepare_site(RunConfig().with_values({**base, "task.type": "binary", "data.target_columns": ["ring"]}), "b")
    assert trunk_shapes(a.predictor) == trunk_shapes(b.predictor)
    assert all(np.array_equal(x, y) for x, y in zip(a.get_trunk(), b.get_trunk()))  # one seed: one starting trunk
    b.set_trunk([x + 1 for x in a.get_trunk()])
    assert np.allclose(b.get_trunk()[0], a.get_trunk()[0] + 1)
    head_a = [p.shape for p in a.predictor.head.parameters()]
    head_b = [p.shape for p in b.predictor.head.parameters()]
    assert head_a[-1] == (2,) and head_b[-1] == (1,)


def test_a_local_round_trains_and_a_head_only_round_keeps_the_trunk(tmp_path):
    from molgen.config import RunConfig
    from molgen.federated.site import prepare_site

    cfg = RunConfig().with_values(
        {
            "data.name": str(labelled(tmp_path / "site.csv")),
            "model.hidden_dim": 16,
            "data.featurize_jobs": 1,
            "data.batch_size": 16,
            "task.type": "multilabel",
            "data.target_columns": ["aromatic", "has_n"],
        }
    )
    site = prepare_site(cfg, "a")
    trunk, head = site.get_trunk(), [p.detach().clone() for p in site.predictor.head.parameters()]
    val = site.train_round(tmp_path / "run", 1, epochs=1, mu=0.5)
    assert "roc_auc" in val and (tmp_path / "run" / "logs" / "round_1").is_dir()
    after = site.get_trunk()
    assert any(not np.array_equal(x, y) for x, y in zip(trunk, after))
    site.train_round(tmp_path / "run", 2, epochs=1, mu=0.0, head_only=True)
    assert all(np.array_equal(x, y) for x, y in zip(after, site.get_trunk()))  # the trunk stayed frozen
    assert any(not torch.equal(a, b) for a, b in zip(head, site.predictor.head.parameters()))
    assert all(p.requires_grad for p in site.predictor.encoder.parameters())  # unfrozen afterwards
