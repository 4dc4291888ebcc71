#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The PNG of `make bench`: frames per CPU-second of vhost-net's worker, by
# frame size, one bar per receive mode, from the CSV vhost_net_bench wrote.
#
# Usage: plot-bench.sh CSV PNG
set -euo pipefail

csv=${1:?usage: plot-bench.sh CSV PNG}
png=${2:?usage: plot-bench.sh CSV PNG}
here=$(cd "$(dirname "$0")" && pwd)
"$here/deps.sh" gnuplot-nox
dat=$(mktemp /tmp/bench.XXXXXX.dat)
trap 'rm -f "$dat"' EXIT

# One row a frame size, one column a mode (single-guest cells; a guest
# with several queue pairs is a column of its own)
python3 - "$csv" > "$dat" <<'PY'
import csv, sys
def col(r):
    qp = r.get("queue_pairs", "1")
    return r["mode"] if qp == "1" else "%s-%sq" % (r["mode"], qp)
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["guests"] == "1"]
modes = list(dict.fromkeys(col(r) for r in rows))
sizes = list(dict.fromkeys(int(r["frame_bytes"]) for r in rows))
val = {(col(r), int(r["frame_bytes"])): r["frames_per_worker_cpu_s"] for r in rows}
print("bytes " + " ".join(modes))
for s in sizes:
    print(s, " ".join(val.get((m, s), "0") for m in modes))
PY

gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "$png"
set title "vhost-net receive: frames per CPU-second of the vhost worker (higher is better)"
set xlabel "frame bytes"
set ylabel "frames per worker CPU-second"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top right autotitle columnheader
set yrange [0:*]
set grid ytics
plot for [i=2:*] "$dat" using i:xtic(1)
GP
echo "bench: plot in $png"
