/* bench/ns3_hold.cc - the hold model of bench/bench_hold.c on ns-3's own event schedulers.
 *
 * ns-3 (Debian's libns3-dev) keeps its future event set behind the public ns3::Scheduler
 * interface: Insert(Event) and RemoveNext(), with events ordered by EventKey {m_ts, m_uid}
 * (time, then a unique id that grows with every schedule), the same (time, sequence) order
 * as sim/evq.h. This program creates one scheduler through ns-3's ObjectFactory and runs
 * exactly bench_hold's workload on it, so the two programs' ns per hold compare directly:
 *
 *   - increments: Exp(1 ms) rounded to whole ns, drawn with GSL MT19937, seed 20261122,
 *     into a 2^20-entry table before the clock starts and reused cyclically;
 *   - fill: event i at time inc[i], for i = 0..N-1;
 *   - warm-up: min(N, 2*10^6) holds, then OPS timed holds;
 *   - one hold = RemoveNext() + Insert() at the removed event's time + the next increment.
 *
 * The events carry no EventImpl (impl = nullptr): the schedulers never look at it, and
 * bench_hold does not run handlers either. m_uid counts inserts as ns-3's simulator does.
 *
 * Usage: ns3_hold [-s SCHEDULER] [-m OPS] [N ...]
 *   SCHEDULER: Map, Heap, PriorityQueue or Calendar (ns3::<name>Scheduler); default
 *   PriorityQueue. Defaults: -m 10000000, N = 1000 100000 1000000. One output line per N,
 *   in the format of bench_hold.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "ns3/object-factory.h"
#include "ns3/ptr.h"
#include "ns3/scheduler.h"

namespace
{

constexpr double HOLD_MEAN_NS = 1.0e6; /* as bench_hold.c */
constexpr size_t HOLD_TABLE_LEN = size_t{1} << 20;
constexpr unsigned long HOLD_SEED = 20261122UL;
constexpr unsigned long HOLD_OPS = 10000000UL;

double seconds_now()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The same table as bench_hold.c's fill_increments(). */
std::vector<int64_t> make_increments()
{
    std::vector<int64_t> inc(HOLD_TABLE_LEN);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r == nullptr) {
        fprintf(stderr, "ns3_hold: out of memory\n");
        exit(3);
    }
    gsl_rng_set(r, HOLD_SEED);
    for (auto &x : inc)
        x = (int64_t)(gsl_ran_exponential(r, HOLD_MEAN_NS) + 0.5);
    gsl_rng_free(r);
    return inc;
}

struct holder {
    ns3::Ptr<ns3::Scheduler> s;
    uint32_t uid = 0;

    void insert(uint64_t ts)
    {
        ns3::Scheduler::Event ev;
        ev.impl = nullptr;
        ev.key.m_ts = ts;
        ev.key.m_uid = uid++;
        ev.key.m_context = 0;
        s->Insert(ev);
    }

    uint64_t hold(int64_t inc)
    {
        ns3::Scheduler::Event ev = s->RemoveNext();
        uint64_t ts = ev.key.m_ts + (uint64_t)inc;
        insert(ts);
        return ts;
    }
};

void bench_size(const std::string &name, size_t n, unsigned long ops,
                const std::vector<int64_t> &inc)
{
    const size_t mask = HOLD_TABLE_LEN - 1;
    ns3::ObjectFactory factory;
    factory.SetTypeId("ns3::" + name + "Scheduler");
    holder h;
    h.s = factory.Create<ns3::Scheduler>();
    for (size_t i = 0; i < n; i++)
        h.insert((uint64_t)inc[i & mask]);
    size_t k = n;
    uint64_t sum = 0;
    for (size_t i = 0; i < n && i < 2000000; i++)
        sum += h.hold(inc[k++ & mask]);

    double t0 = seconds_now();
    for (unsigned long i = 0; i < ops; i++)
        sum += h.hold(inc[k++ & mask]);
    double dt = seconds_now() - t0;

    printf("hold N=%-8zu ops=%lu  %.3f s  %6.2f Mops/s  %6.1f ns/op  (ns3::%sScheduler, "
           "check %llu)\n",
           n, ops, dt, (double)ops / dt / 1e6, dt * 1e9 / (double)ops, name.c_str(),
           (unsigned long long)(sum & 0xffff));
    while (!h.s->IsEmpty())
        h.s->RemoveNext();
}

int usage()
{
    fprintf(stderr, "usage: ns3_hold [-s Map|Heap|PriorityQueue|Calendar] [-m OPS] [N ...] "
                    "(OPS, N > 0)\n");
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    std::string name = "PriorityQueue";
    unsigned long ops = HOLD_OPS;
    std::vector<size_t> sizes;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            name = argv[++i];
            if (name != "Map" && name != "Heap" && name != "PriorityQueue" && name != "Calendar")
                return usage();
            continue;
        }
        bool is_ops = strcmp(argv[i], "-m") == 0 && i + 1 < argc;
        char *end;
        unsigned long v = strtoul(argv[is_ops ? ++i : i], &end, 10);
        if (*end != '\0' || v == 0)
            return usage();
        if (is_ops)
            ops = v;
        else
            sizes.push_back(v);
    }
    if (sizes.empty())
        sizes = {1000, 100000, 1000000};
    std::vector<int64_t> inc = make_increments();
    for (size_t n : sizes)
        bench_size(name, n, ops, inc);
    return 0;
}
