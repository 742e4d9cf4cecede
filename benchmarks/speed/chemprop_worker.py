"""Chemprop 2.3.1 side of compare_chemprop.py; runs inside Chemprop's own venv (never imports molgen).

Usage (done by compare_chemprop.py): <chemprop venv>/bin/python chemprop_worker.py JOB.json RESULT.json
The job names the SMILES to featurize, the train/val CSV (column ``split``) and the SMILES to predict;
the result holds the timings. Model: BondMessagePassing(d_h=300, depth=3), mean aggregation,
RegressionFFN(hidden 300, 1 hidden layer), Chemprop's noam schedule, batch 64, targets standardized.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(job_path: str, result_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    import logging

    import chemprop
    import pandas as pd
    import torch
    from chemprop import data, featurizers, models, nn
    from lightning import pytorch as pl
    from rdkit import Chem, rdBase

    sys.path.insert(0, str(Path(__file__).parent))
    from epoch_timer import EpochTimer

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # no banner, as molgen's quiet_lightning()
    torch.set_num_threads(job["threads"])
    torch.manual_seed(0)
    featurizer = featurizers.SimpleMoleculeMolGraphFeaturizer()
    out = {
        "chemprop": chemprop.__version__,
        "torch": torch.__version__,
        "rdkit": rdBase.rdkitVersion,
        "threads": torch.get_num_threads(),
    }

    smiles = Path(job["featurize_smiles"]).read_text().split()
    start = time.perf_counter()
    for s in smiles:
        Chem.MolFromSmiles(s)
    out["parse_per_s"] = len(smiles) / (time.perf_counter() - start)
    start = time.perf_counter()
    for s in smiles:
        featurizer(data.MoleculeDatapoint.from_smi(s).mol)
    out["featurize_per_s"] = len(smiles) / (time.perf_counter() - start)

    table = pd.read_csv(job["train_csv"])
    target = job["target"]

    def dataset(rows):
        points = [data.MoleculeDatapoint.from_smi(s, [y]) for s, y in zip(rows["smiles"], rows[target])]
        dset = data.MoleculeDataset(points, featurizer)
        dset.cache = True  # featurize once, as the chemprop CLI does by default
        return dset

    train, val = dataset(table[table["split"] == "train"]), dataset(table[table["split"] == "val"])
    scaler = train.normalize_targets()
    val.normalize_targets(scaler)
    ffn = nn.RegressionFFN(
        input_dim=300, hidden_dim=300, n_layers=1, output_transform=nn.UnscaleTransform.from_standard_scaler(scaler)
    )
    model = models.MPNN(nn.BondMessagePassing(d_h=300, depth=3), nn.MeanAggregation(), ffn)
    timer = EpochTimer()
    trainer = pl.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
        max_epochs=job["epochs"],
        callbacks=[timer],
    )
    start = time.perf_counter()
    trainer.fit(
        model,
        data.build_dataloader(train, batch_size=64, seed=0),
        data.build_dataloader(val, batch_size=64, shuffle=False),
    )
    out["fit_s"] = time.perf_counter() - start
    out["epoch_s"], out["epoch_samples"] = timer.seconds, timer.samples
    out["train_per_s"] = timer.steady_rate()
    out["train_cpu_per_s"] = timer.steady_cpu_rate()
    out["n_params"] = sum(p.numel() for p in model.parameters())

    predict = Path(job["predict_smiles"]).read_text().split()
    model.eval()
    start, cpu_start = time.perf_counter(), time.process_time()  # featurization included, as `chemprop predict`
    points = [data.MoleculeDatapoint.from_smi(s) for s in predict]
    loader = data.build_dataloader(data.MoleculeDataset(points, featurizer), batch_size=64, shuffle=False)
    with torch.inference_mode():
        preds = torch.cat(trainer.predict(model, loader))
    out["predict_per_s"] = len(predict) / (time.perf_counter() - start)
    out["predict_cpu_per_s"] = len(predict) / (time.process_time() - cpu_start)
    out["n_predicted"] = int(preds.shape[0])
    Path(result_path).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:])
