"""The experiments behind results/, one runnable script each (``python -m benchmarks.<script>``,
``--help`` for its flags, ``--smoke`` for a tiny run; ``benchmarks/run_all.sh`` runs them all):

* tables of trained cells: ``main_table``, ``offline_agents``, ``online_agents``,
  ``plain_agents``, ``distill_tuning``, the DRL-Rec sweeps ``ablations``, ``k_sweep`` and
  ``compression``, the data-limited ``positive_control``, and ``demo``;
* data and simulator: ``data_throughput``, ``own_log``, ``simulator_fit``, ``scale``,
  ``world_gaps``;
* speed: ``env_throughput``, ``ppo_throughput``, ``distill_cost``, ``efficiency``,
  ``distributed``;
* on finished runs: ``auc_by_slot``, ``plot``.

Their shared machinery (base configs, reuse of finished runs, the report) is
:mod:`benchmarks.harness`.
"""
