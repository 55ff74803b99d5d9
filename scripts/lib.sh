# Shared by scripts/run and scripts/test: install what is missing, configure and build.
# Idempotent: with everything installed and nothing changed it only asks ninja, which is quick.

SG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SG_BUILD="${SG_BUILD:-$SG_ROOT/build}"
# ccache hits across clones of the repository: paths are hashed relative to the checkout, and
# the working directory (which -g puts into the objects) is left out.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$SG_ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

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

# CAF 0.17 built with ThreadSanitizer into `dir` (src/ and build/), for the TSan build only:
# Debian's CAF libraries are not instrumented, so TSan would see no synchronisation in them.
# The source is the upstream tarball of Debian's own source package for the libcaf-dev
# installed (fetched through apt from the machine's configured Debian sources, its checksum
# checked against the package's signed .dsc); only libcaf_core and libcaf_io are built.
sg_build_caf_tsan() {
  local dir=$1
  if [ -f "$dir/build/lib/libcaf_io_static.a" ] && [ -f "$dir/build/lib/libcaf_core_static.a" ]; then
    return 0
  fi
  local apt="$dir/apt" pkg version
  pkg=$(dpkg-query -W -f='${source:Package}' libcaf-dev)
  version=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
  if [ ! -f "$dir/src/CMakeLists.txt" ]; then
    mkdir -p "$apt/sources.d" "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/get"
    # The machine's own Debian sources, as source indexes, in a private apt state.
    : > "$apt/sources.list"
    if [ -f /etc/apt/sources.list ]; then
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$apt/sources.list"
    fi
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$apt/sources.d/$(basename "$f")"
    done
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.d"
                -o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
    apt-get "${opts[@]}" -qq update
    # Only the upstream tarball is needed; a missing Debian diff does not matter here.
    (cd "$apt/get" && apt-get "${opts[@]}" -qq source --download-only "$pkg=$version") \
      > "$apt/source.log" 2>&1 || true
    local dsc tarball sum
    dsc=$(ls "$apt/get"/*.dsc 2>/dev/null | head -n 1)
    tarball=$(ls "$apt/get"/*.orig.tar.* 2>/dev/null | head -n 1)
    if [ -z "$dsc" ] || [ -z "$tarball" ]; then
      echo "CAF source: apt-get source $pkg=$version brought no tarball; see $apt/source.log" >&2
      return 1
    fi
    sum=$(sed -n '/^Checksums-Sha256:/,/^[A-Z]/p' "$dsc" | grep " $(basename "$tarball")\$" | awk '{print $1}')
    if [ -z "$sum" ] || ! echo "$sum  $tarball" | sha256sum -c --quiet; then
      echo "CAF source: $tarball does not match $dsc" >&2
      return 1
    fi
    mkdir -p "$dir/src"
    tar -xf "$tarball" -C "$dir/src" --strip-components=1
  fi
  # The upstream release misses an include that GCC 12 needs (Debian's package patches it too).
  local rb="$dir/src/libcaf_io/caf/io/network/receive_buffer.hpp"
  grep -q '^#include <limits>' "$rb" || sed -i '1i #include <limits>' "$rb"
  if [ ! -f "$dir/build/build.ninja" ]; then
    cmake -S "$dir/src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes \
      -DCAF_NO_OPENSSL=yes -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes \
      -DCAF_BUILD_STATIC_ONLY=yes -DCAF_NO_COMPILER_CHECK=yes > "$dir/configure.log"
  fi
  cmake --build "$dir/build" --target libcaf_core_static libcaf_io_static -- -j"$(nproc)"
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
