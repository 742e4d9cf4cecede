"""One module per generator: ``train(cfg, data, run_dir, *, resume, callbacks) -> TrainedGenerator`` and
``load(model_dir, spec) -> Generator``; looked up by name through ``molgen.recipes.generation.GENERATORS``."""
