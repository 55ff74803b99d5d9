// Graph changes on a running device: compiling the render plan of a 50-node domain (fresh
// kernels, as on the first apply; and again keeping every unchanged kernel, as a graph diff
// does) and swapping it in (submit, the realtime side takes it at the next block, the old plan
// is freed on the control side). Target: compile + swap <= 10 ms for 50 nodes.
//
//   build/bench/bench_plan --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "hardware/audio_domain.hpp"

namespace {

using namespace sg;

/// 50 nodes: 8 oscillators, each through filter -> delay -> pan -> gain, into a 16-input
/// mixer, then a compressor, a reverb, a meter and the output. `extra` adds a 51st node (a
/// meter on the mixer) so a diff has something to add.
audio_domain domain(bool extra) {
  audio_domain d;
  d.device.name = "main";
  d.device.kind = "audio";
  d.device.sample_rate = 48000;
  d.device.block = 64;
  d.device.channels = 2;
  auto add = [&](const std::string& id, const char* type) {
    node_spec n;
    n.id = id;
    n.type = type;
    n.info = node_registry::builtin().find(type);
    n.values = n.info->defaults();
    d.nodes.push_back(n);
    return static_cast<uint32_t>(d.nodes.size() - 1);
  };
  auto mixer = add("mix", "audio.mixer");
  auto& mix = d.nodes[mixer];
  mix.values.numbers[mix.info->param_index("inputs")] = 8;
  for (int i = 0; i < 8; ++i) {
    const std::string k = std::to_string(i);
    auto o = add("osc" + k, "audio.osc");
    auto f = add("filter" + k, "audio.filter");
    auto dl = add("delay" + k, "audio.delay");
    auto p = add("pan" + k, "audio.pan");
    auto g = add("gain" + k, "audio.gain");
    d.edges.push_back({o, "out", f, "in"});
    d.edges.push_back({f, "out", dl, "in"});
    d.edges.push_back({dl, "out", p, "in"});
    d.edges.push_back({p, "out", g, "in"});
    d.edges.push_back({g, "out", mixer, "in" + std::to_string(i + 1)});
  }
  auto c = add("comp", "audio.compressor");
  auto r = add("reverb", "audio.reverb");
  auto m = add("meter", "audio.meter");
  auto out = add("out", "audio.output");
  for (int i = static_cast<int>(d.nodes.size()); i < 50; ++i)
    add("spare" + std::to_string(i), "audio.gain");
  d.edges.push_back({mixer, "out", c, "in"});
  d.edges.push_back({c, "out", r, "in"});
  d.edges.push_back({r, "out", m, "in"});
  d.edges.push_back({r, "out", out, "in"});
  if (extra) {
    auto m2 = add("meter2", "audio.meter");
    d.edges.push_back({mixer, "out", m2, "in"});
  }
  return d;
}

const audio_format format{48000, 64};

void bm_compile_fresh(benchmark::State& state) {
  const auto d = domain(false);
  for (auto _ : state) {
    auto plan = compile_domain_plan(d, format);
    if (!plan)
      state.SkipWithError(plan.error().c_str());
    benchmark::DoNotOptimize(plan);
  }
  state.counters["nodes"] = static_cast<double>(d.nodes.size());
}
BENCHMARK(bm_compile_fresh)->Unit(benchmark::kMillisecond);

/// A diff that adds one node: every other kernel is kept (delay lines and reverb tails too),
/// then the plan is swapped in on a running engine and the old one freed.
void bm_recompile_and_swap(benchmark::State& state) {
  const auto before = domain(false), after = domain(true);
  render_engine engine(2, 48000);
  auto first = compile_domain_plan(before, format);
  if (!first) {
    state.SkipWithError(first.error().c_str());
    return;
  }
  engine.submit_plan(std::move(*first));
  std::vector<float> l(64), r(64);
  float* out[2] = {l.data(), r.data()};
  engine.render(out, 64);
  bool flip = false;
  for (auto _ : state) {
    const auto& from = flip ? after : before;
    const auto& to = flip ? before : after;
    auto plan = recompile_domain_plan(to, from, *engine.current(), format);
    if (!plan) {
      state.SkipWithError(plan.error().c_str());
      break;
    }
    engine.submit_plan(std::move(*plan));
    engine.render(out, 64);  // the realtime side takes the new plan at this block boundary
    engine.collect_garbage();
    flip = !flip;
  }
  state.counters["nodes"] = static_cast<double>(after.nodes.size());
}
BENCHMARK(bm_recompile_and_swap)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
