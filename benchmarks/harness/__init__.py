"""The machinery every benchmark script shares; the scripts themselves are the modules of
:mod:`benchmarks` (``python -m benchmarks.<script>``).

* :mod:`~benchmarks.harness.cli`: the base configs (out_dir, runs_dir, seeds, jobs, merge,
  reuse, smoke), ``--flags`` from their fields, the ``__main__`` tail;
* :mod:`~benchmarks.harness.cells`: a table of training cells (:func:`run_table`: cells ->
  reuse of finished runs -> train the missing ones);
* :mod:`~benchmarks.harness.results`: the results layout (``publish``, ``merged``), parallel
  cells and fresh-process workers, peak memory;
* :mod:`~benchmarks.harness.report`: the markdown table, ``mean +- std``, the t-interval over
  seeds, training curves and figures;
* :mod:`~benchmarks.harness.paired` and :mod:`~benchmarks.harness.sections`: paired tests
  against a baseline and the comparison sections of the summaries;
* :mod:`~benchmarks.harness.sweep` and :mod:`~benchmarks.harness.sweep_plots`: the engine
  and figures of the DRL-Rec sweeps (ablations, k_sweep, compression);
* :mod:`~benchmarks.harness.scale_report`: the report of :mod:`benchmarks.scale`.
"""
