#!/bin/sh
# Runs exp probes with the initial stack shifted by 0..56 bytes of environment padding, ASLR
# off (`setarch -R`) so that the padding alone decides the stack's alignment; the binaries
# are interleaved `reps` times (the machine is shared: take the best per binary and pad).
# usage: pad_probe.sh reps rounds bin...
reps=$1; rounds=$2; shift 2
for r in $(seq "$reps"); do
  for n in 0 8 16 24 32 40 48 56; do
    for bin in "$@"; do
      echo "$(basename "$bin") $(env PAD="$(printf '%*s' $n '')" setarch "$(uname -m)" -R taskset -c 1 "$bin" "$rounds")"
    done
  done
done
