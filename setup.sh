#!/usr/bin/env bash
# dfusim set-up: install what is missing (Debian 12, as root or with sudo), build, then
#   ./setup.sh quickstart   run scenarios/quickstart.yaml
#   ./setup.sh test         build with -Werror and run the whole test suite through ctest
#   ./setup.sh asan         the test suite again, built with ASan + UBSan
#   ./setup.sh fuzz [SECS]  build tests/fuzz with clang + libFuzzer, fuzz each target (600 s)
#   ./setup.sh examples     regenerate report/examples/ (scenarios/swap-vs-xip.yaml and
#                           sweep-window.yaml)
# Builds go to build/ for test, build-release/ (the program alone) for quickstart and
# examples, build-asan/ for asan, build-fuzz/ for fuzz. Safe to run again: nothing is reinstalled.
set -euo pipefail
cd "$(dirname "$0")"

# Why each package: README.md, "Dependencies".
# tshark (tests only) is installed non-interactively: its debconf question (may non-root
# users capture) keeps its default, no; the tests only read files, also as root in CI.
PACKAGES=(gcc make cmake pkg-config libsqlite3-dev sqlite3 libyaml-dev libgsl-dev
          libcmocka-dev libcbor-dev libcsv-dev libssl-dev libpcap-dev gnuplot-nox jq
          libxml2-utils tshark libopenmpi-dev openmpi-bin)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}" >&2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "setup: missing packages ${missing[*]}; run as root or install sudo" >&2
            exit 2
        }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() { # build DIR TARGET [cmake options...]; TARGET all builds everything (tests too)
    local dir=$1 target=$2
    shift 2
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)" --target "$target"
}

case "${1:-}" in
quickstart)
    install_missing
    # the program alone, in its own tree: `test` (build/) and `quickstart` never rebuild
    # each other's objects
    build build-release dfusim -DCMAKE_BUILD_TYPE=Release
    ./build-release/dfusim run scenarios/quickstart.yaml
    ;;
test)
    install_missing
    build build all -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUSIM_WERROR=ON
    ctest --test-dir build --output-on-failure -j "$(nproc)"
    ;;
asan)
    install_missing
    build build-asan all -DCMAKE_BUILD_TYPE=Debug -DDFUSIM_WERROR=ON -DDFUSIM_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
    ;;
examples)
    # report/examples/: the swap-versus-direct-xip report, its CSV and plots (README
    # "Swap versus direct-xip"), and the plots of the client.window sweep.
    install_missing
    build build-release dfusim -DCMAKE_BUILD_TYPE=Release
    mkdir -p results report/examples
    ./build-release/dfusim run scenarios/swap-vs-xip.yaml -q -j "$(nproc)" -o results/swap-vs-xip.db
    ./build-release/dfusim report results/swap-vs-xip.db --csv report/examples/swap-vs-xip.csv \
        >report/examples/swap-vs-xip.txt
    ./build-release/dfusim report results/swap-vs-xip.db --point 1 \
        --plot report/examples/swap-vs-xip-128KiB.svg >/dev/null
    for ext in svg png pdf; do
        ./build-release/dfusim report results/swap-vs-xip.db --point 2 \
            --plot "report/examples/swap-vs-xip-384KiB.$ext" >/dev/null
    done
    # A sweep: goodput against the window with 95 % CI error bars (README "dfusim report").
    ./build-release/dfusim run scenarios/sweep-window.yaml -q -j "$(nproc)" -o results/sweep-window.db
    ./build-release/dfusim report results/sweep-window.db --plot report/examples/sweep-window.svg \
        >/dev/null
    ls -l report/examples
    ;;
fuzz)
    PACKAGES+=(clang libclang-rt-14-dev)
    install_missing
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFUSIM_FUZZ=ON >/dev/null
    # Each target for SECS (default 600): CI's `./setup.sh fuzz 30` is 30 s per target.
    for target in tests/fuzz/*.c; do
        name=$(basename "$target" .c)
        cmake --build build-fuzz -j "$(nproc)" --target "$name"
        corpus="build-fuzz/corpus-$name"
        mkdir -p "$corpus"
        # Seeds (tests/fuzz/README.md): committed ones, and the shipped scenarios.
        if [ -d "tests/fuzz/seeds/$name" ]; then cp -n "tests/fuzz/seeds/$name"/* "$corpus"/ || true; fi
        if [ "$name" = fuzz_scenario ]; then
            find scenarios tests/scenarios -name '*.yaml' | while read -r f; do
                cp -n "$f" "$corpus/seed-$(echo "$f" | tr / _)" || true
            done
        fi
        case "$name" in
        fuzz_scenario) max_len=4096 ;;
        fuzz_image) max_len=2048 ;;
        *) max_len=1024 ;;
        esac
        "./build-fuzz/$name" -max_total_time="${2:-600}" -max_len="$max_len" \
            -print_final_stats=1 "$corpus"
    done
    ;;
*)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
