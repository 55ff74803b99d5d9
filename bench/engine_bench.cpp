// render_engine::render for the chain sine -> gain -> gain -> meter -> output at 64 and 128
// frame blocks, one iteration per block. Reports CPU time per block and two counters:
//   realtime_factor  audio seconds rendered per CPU second (higher is better);
//   dsp_load_pct     CPU time per block / block period in percent of one core (lower is better).
// bm_handwritten_chain is the same arithmetic as a single loop with no plan, kernels or
// queues: the ratio between the two is what the engine's structure costs.

#include <time.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "nodes/core/render_plan.hpp"

namespace {

using namespace sg;

constexpr double sample_rate = 48000;

plan_node_spec node(const char* id, const char* type,
                    std::vector<std::pair<const char*, double>> params = {}) {
  const node_info* info = node_registry::builtin().find(type);
  if (!info)
    throw std::runtime_error(std::string("unknown node type ") + type);
  plan_node_spec spec{id, info, info->defaults(), nullptr};
  for (auto& [name, value] : params)
    spec.values.numbers[info->param_index(name)] = value;
  return spec;
}

/// The bench/chain.yaml graph: one mono device channel.
std::unique_ptr<render_plan> chain(uint32_t block) {
  enum : uint32_t { osc, g1, g2, meter, out };
  std::vector<plan_node_spec> nodes{node("osc", "audio.sine", {{"frequency", 440}, {"level", -6}}),
                                    node("g1", "audio.gain", {{"level", -6}}),
                                    node("g2", "audio.gain", {{"level", -6}}),
                                    node("meter", "audio.meter"),
                                    node("out", "audio.output")};
  std::vector<plan_edge_spec> edges{{osc, "out", g1, "in"},
                                    {g1, "out", g2, "in"},
                                    {g2, "out", meter, "in"},
                                    {g2, "out", out, "in"}};
  auto plan = render_plan::compile(std::move(nodes), edges, {sample_rate, block}, 1);
  if (!plan)
    throw std::runtime_error(plan.error());
  return std::move(*plan);
}

/// CPU time of this thread, which is what Google Benchmark reports as "CPU".
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void set_counters(benchmark::State& state, uint32_t block, double cpu_seconds) {
  const double audio_seconds = static_cast<double>(state.iterations()) * block / sample_rate;
  state.counters["realtime_factor"] = audio_seconds / cpu_seconds;
  state.counters["dsp_load_pct"] = 100.0 * cpu_seconds / audio_seconds;
}

void bm_render_chain(benchmark::State& state) {
  const auto block = static_cast<uint32_t>(state.range(0));
  render_engine engine(1, sample_rate);
  engine.submit_plan(chain(block));
  std::vector<float> device(block);
  float* out[1] = {device.data()};
  engine.render(out, block);  // picks up the plan
  telemetry_record r;
  const double cpu_start = thread_cpu_seconds();
  for (auto _ : state) {
    engine.render(out, block);
    benchmark::DoNotOptimize(device.data());
    benchmark::ClobberMemory();
    // The device actor drains telemetry on its own thread; here an empty pop is two loads.
    while (engine.pop_telemetry(r))
      benchmark::DoNotOptimize(r);
  }
  set_counters(state, block, thread_cpu_seconds() - cpu_start);
}

void bm_handwritten_chain(benchmark::State& state) {
  const auto block = static_cast<uint32_t>(state.range(0));
  std::vector<float> device(block);
  const float level = static_cast<float>(std::pow(10.0, -6.0 / 20.0));
  const double inc = 440.0 / sample_rate;
  const uint32_t period = 2400;  // the meter's 20 Hz
  double phase = 0, sum_sq = 0;
  float peak = 0;
  uint32_t counted = 0;
  const double cpu_start = thread_cpu_seconds();
  for (auto _ : state) {
    for (uint32_t f = 0; f < block; ++f) {
      const float s = level * static_cast<float>(std::sin(2.0 * M_PI * phase));
      phase += inc;
      phase -= std::floor(phase);
      const float y = s * level * level;
      peak = std::fmax(peak, std::fabs(y));
      sum_sq += static_cast<double>(y) * y;
      device[f] = y;
      if (++counted == period) {
        benchmark::DoNotOptimize(peak);
        benchmark::DoNotOptimize(sum_sq);
        peak = 0;
        sum_sq = 0;
        counted = 0;
      }
    }
    benchmark::DoNotOptimize(device.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, block, thread_cpu_seconds() - cpu_start);
}

BENCHMARK(bm_render_chain)->Arg(64)->Arg(128)->Unit(benchmark::kNanosecond);
BENCHMARK(bm_handwritten_chain)->Arg(64)->Arg(128)->Unit(benchmark::kNanosecond);

} // namespace

BENCHMARK_MAIN();
