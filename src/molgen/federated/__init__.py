"""Federated training with Flower: sites that cannot pool their data train one shared trunk.

Each site trains the family's own predictor (the same Lightning core as ``molgen train``) on its own file and
split; the server averages the trunk (the encoder's weights) each round; the task heads stay on their site.

- :mod:`~molgen.federated.settings`: the federation's options (rounds, strategy, sites, addresses, TLS files);
- :mod:`~molgen.federated.site`: one site's data, split, predictor, local rounds, evaluation and run folder;
- :mod:`~molgen.federated.client`: the site as a Flower client; :mod:`~molgen.federated.strategy`: FedAvg /
  FedProx that reject malformed updates and record rounds and bytes; :mod:`~molgen.federated.server`: the server;
- :mod:`~molgen.federated.simulation`: all sites and the server as local processes on loopback, then the
  federation's run folder.

This package sits beside the families: it imports ``training`` and ``families``, never the reverse.
"""
