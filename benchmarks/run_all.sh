#!/usr/bin/env bash
# The full run that regenerates results/: every benchmark script with the settings of its
# committed results, one after the other, each step timed into results/run_all_times.csv.
#
#   bash benchmarks/run_all.sh            # everything (many hours on 2 cores)
#   bash benchmarks/run_all.sh scale demo # only the named steps
#
# Needs the installed environment (`make test` creates .venv); PYTHON overrides the interpreter.
# The online agents table, the main table and the sweeps (ablations, k_sweep, compression) take
# a finished run with the identical training config from their runs/ folder (the sweeps also
# from the tables before them) instead of training it again, so a stopped run_all resumes;
# remove runs/ to retrain everything (e.g. after a code change).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
TIMES=results/run_all_times.csv

declare -A STEPS=(
  [demo]="-m benchmarks.demo"
  [data_throughput]="-m benchmarks.data_throughput"
  [simulator_fit]="-m benchmarks.simulator_fit"
  [simulator_250k]="-m benchmarks.simulator_fit --datasets synthetic --models full --synthetic-requests 250000 --out-dir results/simulator_synthetic_250k"
  [simulator_1m]="-m benchmarks.simulator_fit --datasets synthetic --models full --synthetic-requests 1000000 --out-dir results/simulator_synthetic_1m"
  [own_log]="-m benchmarks.own_log"
  [world_gaps]="-m benchmarks.world_gaps"
  [env_throughput]="-m benchmarks.env_throughput"
  [scale]="-m benchmarks.scale"
  [offline_agents]="-m benchmarks.offline_agents --datasets synthetic ml-100k --seeds 0 1 2"
  [online_agents]="-m benchmarks.online_agents"
  [plain_agents]="-m benchmarks.plain_agents --seeds 0"
  [distill_tuning]="-m benchmarks.distill_tuning"
  [main_table]="-m benchmarks.main_table --datasets synthetic-gap ml-100k"
  [main_table_obd]="-m benchmarks.main_table --datasets obd --seeds 0 1 2 --merge"
  [ablations]="-m benchmarks.ablations"
  [k_sweep]="-m benchmarks.k_sweep"
  [compression]="-m benchmarks.compression"
  [positive_control]="-m benchmarks.positive_control"
  [distill_cost]="-m benchmarks.distill_cost"
  [efficiency]="-m benchmarks.efficiency"
  [distributed]="-m benchmarks.distributed"
)
ORDER=(demo data_throughput simulator_fit simulator_250k simulator_1m own_log world_gaps env_throughput
       scale offline_agents online_agents plain_agents distill_tuning main_table main_table_obd ablations
       k_sweep compression positive_control distill_cost efficiency distributed)

selected=("${@:-${ORDER[@]}}")
for step in "${selected[@]}"; do
  [[ -v STEPS[$step] ]] || { echo "error: unknown step '$step' (known: ${ORDER[*]})" >&2; exit 2; }
done
[[ -f $TIMES ]] || echo "step,seconds,finished_utc,command" > "$TIMES"
for step in "${selected[@]}"; do
  echo "=== $step: python ${STEPS[$step]}"
  start=$SECONDS
  # shellcheck disable=SC2086  # the step's arguments are split on purpose
  "$PYTHON" ${STEPS[$step]}
  echo "$step,$((SECONDS - start)),$(date -u +%FT%TZ),python ${STEPS[$step]}" >> "$TIMES"
done
