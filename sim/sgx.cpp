/* sgx.cpp — SimGrid platform and primitives for the engine (see sgx.h).
 *
 * The platform: one host per GPU (two power states: nominal, and slowed by
 * the NCCL kernels' share of the SMs), one SimGrid link per topo link, and
 * one routing zone whose routes come from topo_route. SimGrid's TCP
 * corrections (latency and bandwidth factors, weight-S, cross-traffic) are
 * switched off so a link's bandwidth means what the cluster file says;
 * efficiency and per-step latency are the collective model's (coll.c).
 */
#include "sim/sgx.h"

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "sim/topo.h"

namespace sg4 = simgrid::s4u;
namespace kr = simgrid::kernel::routing;
namespace kres = simgrid::kernel::resource;

namespace
{

constexpr double kSpeed = 1e12; /* flop/s of a host: 1 "flop" = 1 ps of GPU time */

class RailZone : public kr::NetZoneImpl
{
  public:
    explicit RailZone(const std::string &name, const clu_desc &c) : kr::NetZoneImpl(name), c_(c) {}
    clu_desc c_;
    std::vector<kres::StandardLinkImpl *> links;
    std::vector<double> lat;
    void get_local_route(const kr::NetPoint *src, const kr::NetPoint *dst, kr::Route *route,
                         double *latency) override
    {
        int ids[TOPO_MAX_ROUTE];
        int k = topo_route(&c_, (int)src->id(), (int)dst->id(), ids);
        for (int i = 0; i < k; i++) {
            route->link_list_.push_back(links[(size_t)ids[i]]);
            if (latency) *latency += lat[(size_t)ids[i]];
        }
    }
};

struct State {
    sg4::Engine *engine = nullptr;
    RailZone *zone = nullptr;
    std::vector<sg4::Host *> hosts;
    std::vector<int> slow_depth;
    uint64_t activities = 0;
};
State S;

void boot()
{
    if (S.engine) return;
    static int argc = 2;
    static char a0[] = "sftsim", a1[] = "--log=root.thres:critical";
    static char *argv[] = {a0, a1, nullptr};
    S.engine = new sg4::Engine(&argc, argv);
    /* the engine installs its own SIGINT handler (a status dump, then exit):
     * ours goes back on top, so an interrupt still removes open temporaries
     * and ends the process by the signal itself */
    sft_cleanup_on_signals();
    sg4::Engine::set_config("network/latency-factor:1");
    sg4::Engine::set_config("network/bandwidth-factor:1");
    sg4::Engine::set_config("network/weight-S:0");
    sg4::Engine::set_config("network/crosstraffic:0");
    sg4::Engine::set_config("contexts/stack-size:256");
#ifdef SFT_SANITIZE
    /* ASan cannot follow SimGrid's hand-made stack switches (false reports):
     * sanitizer builds run every actor in a thread instead. */
    sg4::Engine::set_config("contexts/factory:thread");
#endif
}

bool same(const clu_desc &a, const clu_desc &b)
{
    return a.nodes == b.nodes && a.gpus_per_node == b.gpus_per_node && a.nvl_bw == b.nvl_bw &&
           a.nvl_lat == b.nvl_lat && a.nic_bw == b.nic_bw && a.nic_lat == b.nic_lat &&
           a.nodes_per_leaf == b.nodes_per_leaf && a.oversub == b.oversub &&
           a.fabric_lat == b.fabric_lat && a.gpu.hbm_bw == b.gpu.hbm_bw &&
           a.comm_slowdown == b.comm_slowdown;
}

} // namespace

extern "C" sft_status sgx_platform(const clu_desc *c, sft_err *e)
{
    if (S.zone)
        return same(S.zone->c_, *c)
                   ? SFT_OK
                   : sft_errf(e, SFT_EINTERNAL,
                              "a different platform already exists in this process (SimGrid "
                              "allows one per process)");
    boot();
    /* the first zone created becomes the root of the platform */
    S.zone = new RailZone("cluster", *c);
    sg4::NetZone *z = S.zone->get_iface();
    int n = clu_ngpus(c);
    S.hosts.reserve((size_t)n);
    S.slow_depth.assign((size_t)n, 0);
    std::vector<double> pstates{kSpeed, kSpeed * (1.0 - c->comm_slowdown)};
    for (int g = 0; g < n; g++)
        S.hosts.push_back(z->create_host("gpu" + std::to_string(g), pstates));
    int nl = topo_nlinks(c);
    S.zone->links.resize((size_t)nl);
    S.zone->lat.resize((size_t)nl);
    for (int i = 0; i < nl; i++) {
        double bw, lat;
        topo_kind kind;
        char name[64];
        topo_link(c, i, &bw, &lat, &kind, name, sizeof name);
        sg4::Link *l = z->create_link(name, bw);
        l->set_latency(lat);
        l->seal();
        S.zone->links[(size_t)i] = l->get_impl();
        S.zone->lat[(size_t)i] = lat;
    }
    z->seal();
    return SFT_OK;
}

extern "C" void sgx_spawn(const char *name, int host, void (*fn)(void *), void *arg)
{
    sg4::Actor::create(name, S.hosts[(size_t)host], [fn, arg]() { fn(arg); });
}

extern "C" void sgx_run(void)
{
    S.engine->run();
}

extern "C" double sgx_now(void)
{
    return sg4::Engine::get_clock();
}

extern "C" void sgx_exec(double seconds)
{
    S.activities++;
    sg4::this_actor::execute(seconds * kSpeed);
}

extern "C" void sgx_sleep(double seconds)
{
    S.activities++;
    sg4::this_actor::sleep_for(seconds);
}

extern "C" void sgx_flows(int n, const coll_flow *flows)
{
    std::vector<sg4::CommPtr> comms;
    comms.reserve((size_t)n);
    for (int i = 0; i < n; i++) {
        auto bytes = (uint64_t)(flows[i].bytes + 0.5);
        if (bytes == 0) continue;
        comms.push_back(sg4::Comm::sendto_async(S.hosts[(size_t)flows[i].src],
                                                S.hosts[(size_t)flows[i].dst], bytes));
    }
    S.activities += comms.size();
    sg4::Comm::wait_all(comms);
}

extern "C" void *sgx_self(void)
{
    return sg4::Actor::self();
}

extern "C" void sgx_suspend(void)
{
    sg4::this_actor::suspend();
}

extern "C" void sgx_resume(void *actor)
{
    static_cast<sg4::Actor *>(actor)->resume();
}

extern "C" void sgx_set_slow(int host, int slow)
{
    int &d = S.slow_depth[(size_t)host];
    int before = d > 0;
    d += slow ? 1 : -1;
    int after = d > 0;
    if (before != after) S.hosts[(size_t)host]->set_pstate(after ? 1 : 0);
}

extern "C" uint64_t sgx_activities(void)
{
    return S.activities;
}
