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

#include <sndfile.h>

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

// 6. Instruments, effects and files on a second engine: notes and triggers arrive through the
// engine's event queue with sample offsets, live parameters change between blocks, the player
// plays from memory and the recorder only fills its ring on the realtime side. The sound file
// the player reads is written here, on the control side; the recorded file is read back after
// the engine (and with it the recorder's writer thread) is gone.
void instruments_and_files(std::vector<std::vector<float>>& device, float* const* out) {
  const std::string sample = "/tmp/sg_rtsan_player.wav", take = "/tmp/sg_rtsan_recorder.wav";
  {
    SF_INFO info{};
    info.samplerate = 44100;  // not the device rate: the player resamples it when prepared
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(sample.c_str(), SFM_WRITE, &info);
    std::vector<float> x(4410);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = 0.5f * std::sin(0.06f * static_cast<float>(i));
    sf_writef_float(f, x.data(), static_cast<sf_count_t>(x.size()));
    sf_close(f);
  }
  enum : uint32_t { synth, reverb, player, recorder, mixer, output };
  std::vector<plan_node_spec> nodes = {node("synth", "audio.synth", {{"voices", 4}}),
                                       node("verb", "audio.reverb", {{"mix", 0.5}}),
                                       node("player", "audio.player", {{"mode", 2}}),
                                       node("rec", "audio.recorder", {{"bits", 2}}),
                                       node("mix", "audio.mixer", {{"inputs", 2}}),
                                       node("out", "audio.output")};
  nodes[player].values.strings[0] = sample;
  nodes[recorder].values.strings[0] = take;
  const std::vector<plan_edge_spec> edges = {{synth, "out", reverb, "in"},
                                             {reverb, "out", mixer, "in1"},
                                             {player, "out", mixer, "in2"},
                                             {mixer, "out", recorder, "in"},
                                             {mixer, "out", output, "in"}};
  uint64_t rendered = 0;
  {
    render_engine engine(device_channels, sample_rate);
    auto plan =
      render_plan::compile(std::move(nodes), edges, {sample_rate, max_block}, device_channels);
    check(plan.has_value(), "instrument plan compiles (player file loaded, recorder opened)");
    if (!plan) {
      std::fprintf(stderr, "%s\n", plan.error().c_str());
      return;
    }
    engine.submit_plan(std::move(*plan));
    float loudest = 0;
    for (uint32_t i = 0; i < 60; ++i) {
      const uint64_t now = engine.frames();
      const auto note = static_cast<uint8_t>(48 + (i * 7) % 36);
      // More notes than voices: stealing runs on the realtime thread too.
      engine.push_event({synth, 0, now + 17, {kernel_event::note_on, 0, note, 0.8f}});
      engine.push_event({synth, 0, now + 300, {kernel_event::note_off, 0, note, 0}});
      engine.push_event({player, 0, now + 5 + i, {kernel_event::trigger, 0, 0, 0}});
      if (i % 5 == 4)
        engine.push_event({player, 0, now + 200, {kernel_event::stop, 0, 0, 0}});
      engine.push_param({synth, 1, static_cast<double>(i % 4)});     // waveform
      engine.push_param({synth, 7, 200.0 + 300.0 * i});              // cutoff
      engine.push_param({synth, 2, 1.0 + i});                        // attack
      engine.push_param({reverb, 0, 0.5 + 0.1 * i});                 // decay
      engine.push_param({reverb, 1, (i % 10) / 10.0});               // damping
      engine.push_param({reverb, 2, 5.0 * (i % 40)});                // predelay
      engine.push_param({player, 2, -0.1 * i});                      // level
      render_blocks(engine, out, max_block, 5);
      loudest = std::fmax(loudest, peak(device[0], max_block));
    }
    check(engine.stats().dropped_events.load() == 0, "every note and trigger was delivered");
    check(loudest > 0.01f, "synth, reverb and player are heard");
    rendered = engine.stats().frames.load();
    telemetry_record r;
    uint32_t errors = 0;
    while (engine.pop_telemetry(r))
      errors += r.kind == telemetry_record::error ? 1 : 0;
    check(errors == 0, "the recorder's ring never overflowed");
  }  // the engine frees the plan here: the recorder joins its writer and closes the file
  SF_INFO info{};
  SNDFILE* f = sf_open(take.c_str(), SFM_READ, &info);
  check(f != nullptr && static_cast<uint64_t>(info.frames) == rendered && info.channels == 2,
        "the recorder wrote every rendered frame");
  if (f)
    sf_close(f);
  std::remove(sample.c_str());
  std::remove(take.c_str());
}

// 7. Sources and effects on a third engine: every parameter of osc, noise, filter, pan, delay
// and compressor changes between blocks, enumerations included (waveform and filter-mode
// crossfades, limiter mode), and the delay time glides over most of its line.
void sources_and_effects(std::vector<std::vector<float>>& device, float* const* out) {
  enum : uint32_t { osc, noise, filter, pan, delay, comp, mixer, output };
  std::vector<plan_node_spec> nodes = {node("osc", "audio.osc", {{"waveform", 1}}),
                                       node("noise", "audio.noise", {{"color", 1}, {"seed", 9}}),
                                       node("filter", "audio.filter", {{"frequency", 2000}}),
                                       node("pan", "audio.pan"),
                                       node("delay", "audio.delay", {{"time", 20}}),
                                       node("comp", "audio.compressor"),
                                       node("mix", "audio.mixer", {{"inputs", 2}}),
                                       node("out", "audio.output")};
  const std::vector<plan_edge_spec> edges = {{osc, "out", filter, "in"},
                                             {filter, "out", pan, "in"},
                                             {pan, "out", delay, "in"},
                                             {delay, "out", comp, "in"},
                                             {comp, "out", mixer, "in1"},
                                             {noise, "out", mixer, "in2"},
                                             {mixer, "out", output, "in"}};
  render_engine engine(device_channels, sample_rate);
  auto plan =
    render_plan::compile(std::move(nodes), edges, {sample_rate, max_block}, device_channels);
  check(plan.has_value(), "source and effect plan compiles");
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().c_str());
    return;
  }
  engine.submit_plan(std::move(*plan));
  float loudest = 0;
  for (uint32_t i = 0; i < 80; ++i) {
    const double t = i / 80.0;
    engine.push_param({osc, 0, static_cast<double>(i % 4)});      // waveform
    engine.push_param({osc, 1, 50.0 + 8000.0 * t});               // frequency
    engine.push_param({osc, 2, -6.0 - 10.0 * t});                 // level
    engine.push_param({osc, 3, 0.05 + 0.9 * t});                  // pulse width
    engine.push_param({noise, 0, static_cast<double>(i % 2)});    // color
    engine.push_param({noise, 1, -30.0 + 10.0 * t});              // level
    engine.push_param({filter, 0, static_cast<double>(i % 7)});   // mode
    engine.push_param({filter, 1, 20.0 + 15000.0 * t});           // frequency
    engine.push_param({filter, 2, 0.1 + 10.0 * t});               // q
    engine.push_param({filter, 3, -24.0 + 48.0 * t});             // gain
    engine.push_param({pan, 0, -1.0 + 2.0 * t});                  // pan
    engine.push_param({delay, 0, i % 2 ? 1900.0 * t : 0.0});      // time
    engine.push_param({delay, 1, 0.95 * t});                      // feedback
    engine.push_param({delay, 2, t});                             // mix
    engine.push_param({comp, 0, -40.0 + 30.0 * t});               // threshold
    engine.push_param({comp, 1, 1.0 + 99.0 * t});                 // ratio
    engine.push_param({comp, 2, 0.1 + 100.0 * t});                // attack
    engine.push_param({comp, 3, 1.0 + 1000.0 * t});               // release
    engine.push_param({comp, 4, 12.0 * t});                       // makeup
    engine.push_param({comp, 5, static_cast<double>(i % 2)});     // mode
    render_blocks(engine, out, max_block, 6);
    for (const auto& channel : device)
      loudest = std::fmax(loudest, peak(channel, max_block));
  }
  check(engine.stats().dropped_params.load() == 0, "every source and effect parameter arrived");
  check(loudest > 0.01f && std::isfinite(loudest), "sources and effects are heard");
}

} // namespace

int main() {
  std::vector<std::vector<float>> device(device_channels, std::vector<float>(long_block));
  float* out[device_channels] = {device[0].data(), device[1].data()};
  render_engine engine(device_channels, sample_rate);
  const audio_format format{sample_rate, max_block};

  // 1. A first plan with all five node types.
  auto plan = render_plan::compile(first_nodes(), first_edges(), format, device_channels);
  check(plan.has_value(), "first plan compiles");
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().c_str());
    return 1;
  }
  std::vector<std::shared_ptr<kernel>> kept;
  for (uint32_t s = 0; s < (*plan)->size(); ++s)
    kept.push_back((*plan)->kernel_at(s));
  engine.submit_plan(std::move(*plan));
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
  plan = render_plan::compile(std::move(nodes), edges, format, device_channels);
  check(plan.has_value(), "second plan compiles");
  if (!plan)
    return 1;
  kept.clear();
  engine.submit_plan(std::move(*plan));
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
  instruments_and_files(device, out);
  sources_and_effects(device, out);
  return failures == 0 ? 0 : 1;
}
