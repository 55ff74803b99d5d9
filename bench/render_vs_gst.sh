#!/usr/bin/env bash
# Offline render of a chain with studiograph, next to the equivalent GStreamer pipeline in the
# same run, comparing CPU time (user+sys) per second of audio. Runs are interleaved and
# repeated; the table shows medians. CHAIN picks the chain:
#   meter  bench/chain.yaml:  sine -> gain -> gain -> meter (mono)
#   fx5    bench/chain5.yaml: saw osc -> gain -> lowpass -> delay -> pan (stereo out)
#
#   CHAIN=fx5 SECONDS_AUDIO=60 BLOCKS="64 128" REPEATS=3 SG_BUILD=build bench/render_vs_gst.sh
#
# Like the GStreamer pipeline, which ends in fakesink, studiograph's output goes nowhere: its
# 32-bit float WAV is written to /dev/null (still encoded by libsndfile and written). SINK=wav
# writes a real file to a temporary folder in /tmp instead (see docs/PERFORMANCE.md). "startup" is the CPU time of
# a one-block run of the same command; "net" subtracts it, leaving the cost of the audio itself.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SG_BUILD:-build}
[[ $build == /* ]] || build=$root/$build
sg=$build/apps/studiograph/studiograph
chain=${CHAIN:-meter}
case $chain in
  meter) graph=$root/bench/chain.yaml ;;
  fx5) graph=$root/bench/chain5.yaml ;;
  *) echo "render_vs_gst: CHAIN must be meter or fx5" >&2; exit 1 ;;
esac
seconds=${SECONDS_AUDIO:-60}
sink=${SINK:-null}
[[ $sink == null || $sink == wav ]] || { echo "render_vs_gst: SINK must be null or wav" >&2; exit 1; }
blocks=${BLOCKS:-"64 128"}
repeats=${REPEATS:-3}
rate=48000

die() {
  echo "render_vs_gst: $*" >&2
  exit 1
}

[[ -x $sg ]] || die "studiograph binary not found at $sg
  build it first (cmake --build $build --target studiograph) or point SG_BUILD at a build folder"
command -v gst-launch-1.0 >/dev/null || die "gst-launch-1.0 not found (Debian: gstreamer1.0-tools)"
gst-inspect-1.0 level >/dev/null 2>&1 ||
  die "GStreamer element 'level' not found (Debian: gstreamer1.0-plugins-good)"
[[ $repeats -ge 1 ]] || die "REPEATS must be at least 1"

work=$(mktemp -d /tmp/sg-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# cpu_seconds CMD...: user+sys CPU seconds of CMD (children included), its output discarded.
# bash's own `time` reads getrusage, so it needs nothing installed and resolves milliseconds.
cpu_seconds() {
  local TIMEFORMAT='%3U %3S' t
  if ! t=$({ time "$@" >/dev/null 2>"$work/stderr"; } 2>&1); then
    cat "$work/stderr" >&2
    die "command failed: $*"
  fi
  awk '{ printf "%.3f", $1 + $2 }' <<<"$t"
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# sg_render BLOCK SECONDS
sg_render() {
  local out=/dev/null
  [[ $sink == null ]] || out=$work/render-$1.wav
  "$sg" render "$graph" --seconds "$2" --block "$1" --out "$out"
}

# gst_render BLOCK BUFFERS: the same chain; audiotestsrc volume 0.5 is -6 dBFS, each volume
# element -6 dB, and level publishes every 50 ms like the meter's default 20 Hz.
# fx5: the same five stages; audiocheblimit is a 2-pole lowpass like the RBJ biquad, audioecho
# a 250 ms delay with feedback 0.3 and a 50 % wet mix, audiopanorama a mono-to-stereo pan.
gst_render() {
  if [[ $chain == fx5 ]]; then
    gst-launch-1.0 -q audiotestsrc num-buffers="$2" samplesperbuffer="$1" wave=saw freq=220 \
      volume=0.5 ! audio/x-raw,format=F32LE,rate=$rate,channels=1 ! volume volume=0.5 ! \
      audiocheblimit mode=low-pass cutoff=1000 poles=2 ! \
      audioecho max-delay=250000000 delay=250000000 intensity=0.5 feedback=0.3 ! \
      audiopanorama panorama=0.3 ! fakesink sync=false
    return
  fi
  gst-launch-1.0 -q audiotestsrc num-buffers="$2" samplesperbuffer="$1" wave=sine freq=440 \
    volume=0.5 ! audio/x-raw,format=F32LE,rate=$rate,channels=1 ! volume volume=0.5 ! \
    volume volume=0.5 ! level interval=50000000 ! fakesink sync=false
}

buffers_for() {  # BLOCK -> buffers covering SECONDS_AUDIO
  awk -v s="$seconds" -v r="$rate" -v b="$1" 'BEGIN { n = s * r / b; printf "%d", n == int(n) ? n : int(n) + 1 }'
}

# Warm-up: GStreamer's plugin registry and the page cache, not counted.
gst_render 128 1 >/dev/null 2>&1 || die "the GStreamer pipeline does not run"
sg_render 128 0.01 >/dev/null || die "studiograph render fails on $graph"

declare -A runs
for ((r = 0; r < repeats; ++r)); do
  for b in $blocks; do
    n=$(buffers_for "$b")
    one_block=$(awk -v b="$b" -v r="$rate" 'BEGIN { printf "%.6f", b / r }')
    runs[sg,$b]+="$(cpu_seconds sg_render "$b" "$seconds") "
    runs[gst,$b]+="$(cpu_seconds gst_render "$b" "$n") "
    runs[sg0,$b]+="$(cpu_seconds sg_render "$b" "$one_block") "
    runs[gst0,$b]+="$(cpu_seconds gst_render "$b" 1) "
  done
  [[ $sink == null || -s $work/render-${b}.wav ]] || die "studiograph wrote no WAV"
done

if [[ $chain == fx5 ]]; then
  echo "saw -> gain -> lowpass -> delay -> pan (stereo), ${seconds} s of ${rate} Hz audio, median of ${repeats} runs"
else
  echo "sine -> gain -> gain -> meter, ${seconds} s of ${rate} Hz mono audio, median of ${repeats} runs"
fi
echo "CPU = user + sys of the whole process; ms/s = CPU milliseconds per second of audio;"
echo "studiograph output: $([[ $sink == null ]] && echo "WAV to /dev/null (gst: fakesink)" || echo "WAV file")"
echo
printf '%-12s %6s %9s %10s %10s %10s %11s\n' tool block "cpu s" "startup s" "ms/s" "net ms/s" "x realtime"
declare -A per_s net_per_s
for b in $blocks; do
  for tool in sg gst; do
    total=$(tr ' ' '\n' <<<"${runs[$tool,$b]}" | grep . | median)
    start=$(tr ' ' '\n' <<<"${runs[${tool}0,$b]}" | grep . | median)
    read -r per net x < <(awk -v t="$total" -v s0="$start" -v s="$seconds" 'BEGIN {
      net = t - s0; if (net < 0) net = 0
      printf "%.3f %.3f %.0f\n", 1000 * t / s, 1000 * net / s, (t > 0 ? s / t : 0) }')
    per_s[$tool,$b]=$per
    net_per_s[$tool,$b]=$net
    name=$([[ $tool == sg ]] && echo studiograph || echo gst-launch)
    printf '%-12s %6s %9s %10s %10s %10s %11s\n' "$name" "$b" "$total" "$start" "$per" "$net" "$x"
  done
done
echo
for b in $blocks; do
  awk -v b="$b" -v a="${per_s[sg,$b]}" -v g="${per_s[gst,$b]}" -v an="${net_per_s[sg,$b]}" \
    -v gn="${net_per_s[gst,$b]}" 'BEGIN {
      printf "ratio studiograph/gst, block %s: %.2f (net of startup: %s)\n", b,
        (g > 0 ? a / g : 0), (gn > 0 ? sprintf("%.2f", an / gn) : "n/a") }'
done
