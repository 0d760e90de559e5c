"""The harness names that the scripts not yet on :mod:`benchmarks.harness` import from here
(``distill_cost``, ``efficiency``, ``plain_agents``, ``ppo_throughput``); remove this module once
they import from the harness."""

from benchmarks.harness.cli import parse_config
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import parallel_map, write_results

__all__ = ["markdown_table", "parallel_map", "parse_config", "write_results"]
