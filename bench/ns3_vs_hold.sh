#!/usr/bin/env bash
# bench/ns3_vs_hold.sh - our future event set (bench_hold) against ns-3's schedulers
# (bench/ns3_hold.cc on Debian's libns3-dev), the same hold workload, interleaved runs.
#
#   bench/ns3_vs_hold.sh [-r REPS] [-m OPS] [-s "SCHED ..."] [N ...]
#
# Defaults: 5 repetitions, 2000000 holds per run, all four ns-3 schedulers
# (Map Heap PriorityQueue Calendar), N = 1000 100000 1000000 pending events.
# Each repetition runs, for every N, bench_hold and every ns-3 scheduler one after the
# other, in an order that rotates between repetitions, so that background load on a shared
# machine falls on all of them alike. At the end it prints, per N, the median ns per hold of
# each program, ns-3's fastest median, and the ratio fastest-ns-3 / ours (higher is better
# for us). Raw lines go to build-bench/ns3_vs_hold.log.
#
# Builds: bench_hold with CMake (Release) in build-bench/, ns3_hold with g++ -O3 against
# libns3-dev. ns-3 is needed only here: the project's build and tests never use it. If it is
# missing, the script installs libns3-dev with apt-get when run as root (or says how).
set -euo pipefail
cd "$(dirname "$0")/.."

reps=5
ops=2000000
scheds="Map Heap PriorityQueue Calendar"
usage() {
    echo "usage: bench/ns3_vs_hold.sh [-r REPS] [-m OPS] [-s \"SCHED ...\"] [N ...]" >&2
    echo "  SCHED: Map Heap PriorityQueue Calendar (ns3::<SCHED>Scheduler)" >&2
    exit 2
}
while getopts "r:m:s:h" opt; do
    case $opt in
    r) reps=$OPTARG ;;
    m) ops=$OPTARG ;;
    s) scheds=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 100000 1000000)
[[ $reps =~ ^[1-9][0-9]*$ && $ops =~ ^[1-9][0-9]*$ ]] || usage
for s in $scheds; do
    case $s in Map | Heap | PriorityQueue | Calendar) ;; *) usage ;; esac
done
for n in "${sizes[@]}"; do [[ $n =~ ^[1-9][0-9]*$ ]] || usage; done

if ! pkg-config --exists ns3-core 2>/dev/null || [ ! -f /usr/include/ns3/scheduler.h ]; then
    echo "ns3_vs_hold: ns-3 is not installed; this benchmark needs Debian's libns3-dev" >&2
    if [ "$(id -u)" -eq 0 ]; then
        echo "ns3_vs_hold: installing libns3-dev (for this benchmark only)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            libns3-dev >/dev/null
    else
        echo "ns3_vs_hold: run 'sudo apt-get install libns3-dev' and try again" >&2
        exit 2
    fi
fi

mkdir -p build-bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench --target bench_hold -j "$(nproc)" >/dev/null
# Only the libraries: Debian 12's ns3-core.pc has a malformed -I entry in its cflags, and
# the headers are in /usr/include/ns3, on the default include path.
g++ -std=c++17 -O3 -DNDEBUG -Wall -Wextra -Werror bench/ns3_hold.cc \
    -o build-bench/ns3_hold $(pkg-config --libs ns3-core)
echo "ns-3 $(pkg-config --modversion ns3-core), $(g++ --version | head -1)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"

log=build-bench/ns3_vs_hold.log
: >"$log"
progs=(ours $scheds)
np=${#progs[@]}
for ((r = 0; r < reps; r++)); do
    for n in "${sizes[@]}"; do
        for ((i = 0; i < np; i++)); do
            p=${progs[$(((i + r) % np))]}
            if [ "$p" = ours ]; then
                line=$(./build-bench/bench_hold -m "$ops" "$n")
            else
                line=$(./build-bench/ns3_hold -s "$p" -m "$ops" "$n")
            fi
            ns=$(sed -E 's/.* ([0-9.]+) ns\/op.*/\1/' <<<"$line")
            echo "$r $n $p $ns" >>"$log"
            echo "rep $((r + 1))/$reps N=$n $p: $ns ns/op" >&2
        done
    done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf "\nmedian ns per hold over %d interleaved runs of %d holds\n" "$reps" "$ops"
printf "%-9s %10s" "N" "ours"
for s in $scheds; do printf " %14s" "$s"; done
printf " %16s\n" "fastest/ours"
for n in "${sizes[@]}"; do
    ours=$(awk -v n="$n" '$2 == n && $3 == "ours" {print $4}' "$log" | median)
    printf "%-9s %10.1f" "$n" "$ours"
    best=""
    for s in $scheds; do
        m=$(awk -v n="$n" -v s="$s" '$2 == n && $3 == s {print $4}' "$log" | median)
        printf " %14.1f" "$m"
        if [ -z "$best" ] || awk -v a="$m" -v b="$best" 'BEGIN {exit !(a < b)}'; then
            best=$m
            bname=$s
        fi
    done
    printf " %9.2fx (%s)\n" "$(awk -v a="$best" -v b="$ours" 'BEGIN {print a / b}')" "$bname"
done
