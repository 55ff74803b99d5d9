#!/usr/bin/env bash
# 4 layers composited to 1280x720, 300 frames: studiograph next to the equivalent GStreamer
# pipeline in the same run (interleaved, medians, wall-time ratio), then the same graph with
# layer parameters changed 100 times a second, not live and live at 30 fps (0 dropped frames
# expected). See docs/PERFORMANCE.md, "Video compositing".
#
#   FRAMES=300 REPEATS=5 RATE=100 SG_BUILD=build bench/video_vs_gst.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SG_BUILD:-build}
[[ $build == /* ]] || build=$root/$build
bin=$build/bench/bench_video
[[ -x $bin ]] || { echo "video_vs_gst: $bin not found; build it: cmake --build $build --target bench_video" >&2; exit 1; }
command -v gst-launch-1.0 >/dev/null || { echo "video_vs_gst: gst-launch-1.0 not found (Debian: gstreamer1.0-tools)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "GStreamer: $(gst-launch-1.0 --version | sed -n 2p)"
exec "$bin" --frames "${FRAMES:-300}" --repeats "${REPEATS:-5}" --rate "${RATE:-100}"
