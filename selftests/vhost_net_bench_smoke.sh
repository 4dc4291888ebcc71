#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's smoke run of make bench: the page pool paths once, and a
# short cell of each receive mode (zero-copy, copy, stock) at 1500 bytes.
# It fails unless the pool benchmark ran, every frame arrived intact, none
# was dropped, and zero-copy copied at most 1 frame in 100 (through a
# spare) and pinned nothing in steady state.
here=$(dirname "$(readlink -f "$0")")
exec "$here/vhost_net_bench" --smoke
