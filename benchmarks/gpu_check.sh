#!/usr/bin/env bash
# Runs the scale benchmarks on whatever accelerator JAX sees, sized to finish within ~5 minutes,
# and writes one JSON of figures to $OUT/gpu_check.json (./out if $OUT is unset), plus each
# benchmark's own JSON beside it.
#
# Offline machines: wheels carried in .whl/ are installed with --no-index into /tmp/site.
# Run from the repo root:   bash benchmarks/gpu_check.sh
# Local CPU check:          PYTHON=.venv/bin/python bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-./out}"
mkdir -p "$OUT_DIR"

if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
  PY=python3
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi

"$PY" -c 'import jax; print(jax.devices())'  # python3 on the accelerator machine

status=()
run() {  # name, time limit (s), command...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  if timeout "$limit" "$@" > "$OUT_DIR/$name.log" 2>&1; then
    status+=("\"$name\": {\"ok\": true, \"wall_s\": $((SECONDS - t0))}")
  else
    status+=("\"$name\": {\"ok\": false, \"wall_s\": $((SECONDS - t0))}")
    echo "== $name failed; last lines:"; tail -5 "$OUT_DIR/$name.log"
  fi
}

run lq_sweep 90 "$PY" benchmarks/lq_sweep.py --quick --out "$OUT_DIR/bench_lq_sweep.json"
run bounds_scaling 110 "$PY" benchmarks/bounds_scaling.py --quick --out "$OUT_DIR/bench_bounds_scaling.json"
run many_players 80 "$PY" benchmarks/many_players.py --quick --out "$OUT_DIR/bench_many_players.json"
# issue 13: peak memory of the chunked token kernel, float32 and bfloat16 (table in token_loss.log)
run token_loss 150 "$PY" benchmarks/token_loss.py

joined=$(IFS=,; echo "${status[*]}")
"$PY" - "$OUT_DIR" "{${joined}}" <<'PYEOF'
import json, os, sys
out, status = sys.argv[1], json.loads(sys.argv[2])
import jax
fig = {"devices": [str(d) for d in jax.devices()], "backend": jax.default_backend(), "status": status}
for name in ("lq_sweep", "bounds_scaling", "many_players"):
    path = os.path.join(out, f"bench_{name}.json")
    if os.path.exists(path):
        with open(path) as fh:
            data = json.load(fh)
        fig[name] = {k: v for k, v in data.items() if k not in ("rows",)} if name == "many_players" else data
with open(os.path.join(out, "gpu_check.json"), "w") as fh:
    json.dump(fig, fh, indent=1)
print(json.dumps({"written": os.path.join(out, "gpu_check.json"), "status": status}))
PYEOF
