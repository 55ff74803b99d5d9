// Drives the whole media-plane engine from a [[clang::nonblocking]] function under
// -fsanitize=realtime: any allocation, free, lock or blocking syscall reached from
// render_engine::render aborts the process. Control-side work (compiling plans, pushing
// parameters, collecting retired plans, draining telemetry) runs between blocks, outside the
// nonblocking context, as a device actor would do it.

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nodes/core/render_plan.hpp"

namespace {

using namespace sg;

constexpr double sample_rate = 48000;
constexpr uint32_t max_block = 128;
constexpr uint32_t device_channels = 2;
constexpr uint32_t long_block = 1000;  // longer than max_block: the engine must chunk it

/// The realtime side: what a device callback does, nothing more.
void render_blocks(render_engine& engine, float* const* out, uint32_t frames,
                   uint32_t blocks) noexcept SG_NONBLOCKING {
  for (uint32_t b = 0; b < blocks; ++b)
    engine.render(out, frames);
}

const node_info& type(const char* name) {
  const node_info* info = node_registry::builtin().find(name);
  if (!info) {
    std::fprintf(stderr, "unknown node type %s\n", name);
    std::exit(2);
  }
  return *info;
}

plan_node_spec node(const char* id, const char* type_name,
                    std::vector<std::pair<const char*, double>> params = {}) {
  const node_info& info = type(type_name);
  plan_node_spec spec{id, &info, info.defaults(), nullptr};
  for (auto& [name, value] : params)
    spec.values.numbers[info.param_index(name)] = value;
  return spec;
}

// Slots, shared by both plans so kernels can be carried over.
enum slot : uint32_t { osc1, osc2, gain, mix, meter, output, trim };

std::vector<plan_node_spec> first_nodes() {
  return {node("osc1", "audio.sine", {{"frequency", 440}, {"level", -6}}),
          node("osc2", "audio.sine", {{"frequency", 1000}, {"level", -12}}),
          node("gain", "audio.gain", {{"level", -6}}),
          node("mix", "audio.mixer", {{"inputs", 2}}),
          node("meter", "audio.meter", {{"rate", 20}}),
          node("out", "audio.output")};
}

std::vector<plan_edge_spec> first_edges() {
  return {{osc1, "out", gain, "in"},
          {gain, "out", mix, "in1"},
          {osc2, "out", mix, "in2"},
          {mix, "out", meter, "in"},
          {mix, "out", output, "in"}};
}

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  failures += ok ? 0 : 1;
}

float peak(const std::vector<float>& v, uint32_t frames) {
  float p = 0;
  for (uint32_t i = 0; i < frames; ++i)
    p = std::fmax(p, std::fabs(v[i]));
  return p;
}

} // namespace

int main() {
  std::vector<std::vector<float>> device(device_channels, std::vector<float>(long_block));
  float* out[device_channels] = {device[0].data(), device[1].data()};
  render_engine engine(device_channels, sample_rate);
  const audio_format format{sample_rate, max_block};
  std::string error;

  // 1. A first plan with all five node types.
  auto plan = render_plan::compile(first_nodes(), first_edges(), format, device_channels, error);
  check(plan != nullptr, "first plan compiles");
  if (!plan) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::vector<std::shared_ptr<kernel>> kept;
  for (uint32_t s = 0; s < plan->size(); ++s)
    kept.push_back(plan->kernel_at(s));
  engine.submit_plan(std::move(plan));
  render_blocks(engine, out, max_block, 200);
  check(peak(device[0], max_block) > 0.1f && peak(device[1], max_block) > 0.1f,
        "first plan plays on both device channels");

  // 2. Live parameter changes between blocks on every kernel type.
  for (uint32_t i = 0; i < 50; ++i) {
    engine.push_param({osc1, 0, 440.0 + 10 * i});
    engine.push_param({osc2, 1, -12.0 - 0.2 * i});
    engine.push_param({gain, 0, -6.0 - 0.1 * i});
    engine.push_param({mix, 1, -1.0});
    engine.push_param({mix, 3, -3.0});
    engine.push_param({meter, 0, 30});
    engine.push_param({output, 0, -0.5});
    render_blocks(engine, out, max_block, 4);
  }

  // 3. A plan swap: the same kernels (state kept) plus a new gain stage before the output.
  auto nodes = first_nodes();
  for (uint32_t s = 0; s < nodes.size(); ++s)
    nodes[s].existing = kept[s];
  nodes.push_back(node("trim", "audio.gain", {{"level", -120}}));
  auto edges = first_edges();
  edges.pop_back();
  edges.push_back({mix, "out", trim, "in"});
  edges.push_back({trim, "out", output, "in"});
  plan = render_plan::compile(std::move(nodes), edges, format, device_channels, error);
  check(plan != nullptr, "second plan compiles");
  if (!plan)
    return 1;
  kept.clear();
  engine.submit_plan(std::move(plan));
  render_blocks(engine, out, max_block, 1);
  check(!engine.plan_pending(), "second plan picked up at the next block");
  check(peak(device[0], max_block) == 0.0f, "second plan (trim at -120 dB) is silent");
  engine.collect_garbage();
  engine.push_param({trim, 0, 0.0});
  render_blocks(engine, out, max_block, 100);
  check(peak(device[0], max_block) > 0.1f, "second plan plays after trim is raised");

  // 4. Blocks longer than max_block are chunked inside render.
  render_blocks(engine, out, long_block, 50);
  check(peak(device[1], long_block) > 0.1f, "long blocks render");

  // 5. Telemetry produced on the realtime side, drained here.
  uint32_t records = 0;
  telemetry_record r;
  while (engine.pop_telemetry(r))
    records += r.kind == telemetry_record::meter && r.slot == meter ? 1 : 0;
  const uint64_t frames = engine.stats().frames.load();
  const uint64_t expected_frames = (200 + 200 + 1 + 100) * max_block + 50 * long_block;
  check(frames == expected_frames, "every frame rendered is counted");
  // 0.53 s at 20 Hz, then 1.84 s at 30 Hz: about 66 records.
  check(records >= 60 && records <= 72, "meter telemetry produced at its rate");
  std::printf("%llu blocks, %llu frames, %u meter records, peak load %.4f\n",
              static_cast<unsigned long long>(engine.stats().blocks.load()),
              static_cast<unsigned long long>(frames), records,
              engine.stats().peak_load.load());
  return failures == 0 ? 0 : 1;
}
