# Shared by scripts/run and scripts/test: install what is missing, configure and build.
# Idempotent: with everything installed and nothing changed it only asks ninja, which is quick.

SG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SG_BUILD="${SG_BUILD:-$SG_ROOT/build}"

# Debian packages the build, the tests and the benchmarks need.
SG_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libcaf-dev libcaf-doc
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libyaml-cpp-dev libsqlite3-dev libboost-dev libcli11-dev libspdlog-dev
  librtaudio-dev librtmidi-dev liblo-dev liblo-tools libjack-jackd2-dev jackd2 libsndfile1-dev libsamplerate0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-x gstreamer1.0-plugins-base-apps
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-22 libclang-rt-22-dev
  python3-grpcio python3-protobuf openssl
  procps
)

sg_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

sg_install() {
  local missing=()
  for p in "${SG_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  sg_as_root apt-get update -qq
  # jackd2 asks about realtime priority during install; the default answer is fine.
  sg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

sg_build() {
  if [ ! -f "$SG_BUILD/build.ninja" ]; then
    cmake -S "$SG_ROOT" -B "$SG_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$SG_BUILD" -- -j"$(nproc)"
}

# The whole project with a sanitizer (address: ASan+UBSan; thread: TSan) into `dir`, -O1 with
# line tables for readable reports. Extra arguments are passed to cmake's first configure.
sg_build_sanitized() {
  local kind=$1 dir=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$SG_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DSG_SANITIZE="$kind" "$@"
  fi
  cmake --build "$dir" -- -j"$(nproc)"
}

# The realtime engine again, built with clang and -fsanitize=realtime.
sg_build_rtsan() {
  local dir="$SG_ROOT/build-rtsan"
  if [ ! -f "$dir/build.ninja" ]; then
    CXX=clang++-22 cmake -S "$SG_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSG_RTSAN_ONLY=ON
  fi
  cmake --build "$dir" -- -j"$(nproc)"
}
