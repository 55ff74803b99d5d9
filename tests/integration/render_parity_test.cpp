// Offline rendering is the realtime run, sample for sample: `studiograph run` on the null
// device (which writes the WAV as it renders, clocked by the wall clock, with the actors,
// gateway and node authorities live around it) and `studiograph render` (the same plan compile,
// driven as fast as possible) must produce the same float samples for the same graph. The
// graphs are deterministic on purpose: a saw through most processors, pink noise with a fixed
// seed, and a file player looping a WAV the test writes at another rate (so libsamplerate runs
// too). No jackd needed.

#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/process.hpp"

namespace {

namespace fs = std::filesystem;

constexpr uint32_t rate = 48000;
constexpr uint32_t compared_frames = rate;  // the first second

/// Interleaved float samples of a sound file.
struct sound {
  uint32_t channels = 0;
  uint32_t sample_rate = 0;
  std::vector<float> samples;
  size_t frames() const { return channels ? samples.size() / channels : 0; }
};

sound read_sound(const fs::path& path) {
  sound s;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f)
    return s;
  s.channels = static_cast<uint32_t>(info.channels);
  s.sample_rate = static_cast<uint32_t>(info.samplerate);
  s.samples.resize(static_cast<size_t>(info.frames) * s.channels);
  sf_readf_float(f, s.samples.data(), info.frames);
  sf_close(f);
  return s;
}

/// A mono 44.1 kHz float WAV: a 0.25 s chirp with a decaying envelope, so a loop boundary and
/// the resampler's history both show in the output.
void write_loop_file(const fs::path& path) {
  SF_INFO info{};
  info.samplerate = 44100;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  std::vector<float> x(44100 / 4);
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / 44100;
    x[i] = static_cast<float>(0.5 * std::exp(-6 * t) * std::sin(2 * M_PI * (200 * t + 2000 * t * t)));
  }
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_writef_float(f, x.data(), static_cast<sf_count_t>(x.size()));
  sf_close(f);
}

/// Many node types in one deterministic chain: saw -> filter -> delay -> compressor -> pan ->
/// reverb -> mixer (with seeded pink noise) -> gain -> output.
std::string chain_graph(const fs::path& wav) {
  return R"(version: 1
name: parity-chain
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2, path: )" +
         wav.string() + R"( }
nodes:
  - { id: osc, type: audio.osc, params: { waveform: saw, frequency: 110, level: -6 } }
  - { id: lp, type: audio.filter, params: { mode: lowpass, frequency: 1800, q: 2 } }
  - { id: echo, type: audio.delay, params: { time: 123.4, feedback: 0.5, mix: 0.4 } }
  - { id: comp, type: audio.compressor, params: { threshold: -24, ratio: 4, attack: 2, release: 80, makeup: 6 } }
  - { id: pan, type: audio.pan, params: { pan: -0.3 } }
  - { id: verb, type: audio.reverb, params: { decay: 1.5, damping: 0.4, mix: 0.35 } }
  - { id: hiss, type: audio.noise, params: { color: pink, level: -36, seed: 12345 } }
  - { id: mix, type: audio.mixer, params: { inputs: 2, level2: -3 } }
  - { id: amp, type: audio.gain, params: { level: -3 } }
  - { id: meter, type: audio.meter }
  - { id: out, type: audio.output, device: main }
edges:
  - osc.out -> lp.in
  - lp.out -> echo.in
  - echo.out -> comp.in
  - comp.out -> pan.in
  - pan.out -> verb.in
  - verb.out -> mix.in1
  - hiss.out -> mix.in2
  - mix.out -> amp.in
  - amp.out -> out.in
  - amp.out -> meter.in
)";
}

/// A file player looping a resampled file, next to an idle synth (no notes: it must stay silent
/// in both) and a sine, through a filter and a gain.
std::string player_graph(const fs::path& wav, const fs::path& loop) {
  return R"(version: 1
name: parity-player
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2, path: )" +
         wav.string() + R"( }
nodes:
  - { id: loop, type: audio.player, params: { file: ")" + loop.string() + R"(", mode: loop, level: -2 } }
  - { id: keys, type: audio.synth, params: { voices: 4 } }
  - { id: tone, type: audio.sine, params: { frequency: 330, level: -30 } }
  - { id: hp, type: audio.filter, params: { mode: highpass, frequency: 150 } }
  - { id: mix, type: audio.mixer, params: { inputs: 3 } }
  - { id: amp, type: audio.gain, params: { level: -1 } }
  - { id: out, type: audio.output, device: main }
edges:
  - loop.out -> hp.in
  - hp.out -> mix.in1
  - keys.out -> mix.in2
  - tone.out -> mix.in3
  - mix.out -> amp.in
  - amp.out -> out.in
)";
}

/// A synth and a sample in trigger mode, played only by a score: silent without its events.
std::string score_graph(const fs::path& wav, const fs::path& hit) {
  return R"(version: 1
name: parity-score
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2, path: )" +
         wav.string() + R"( }
nodes:
  - { id: keys, type: audio.synth, params: { voices: 3, waveform: saw, release: 80 } }
  - { id: hit, type: audio.player, params: { file: ")" + hit.string() + R"(", mode: trigger } }
  - { id: mix, type: audio.mixer, params: { inputs: 2 } }
  - { id: out, type: audio.output, device: main }
edges:
  - keys.out -> mix.in1
  - hit.out -> mix.in2
  - mix.out -> out.in
)";
}

/// Notes (a chord that steals a voice, velocities, offsets inside blocks) and triggers, all
/// after the first 0.3 s (the run's score player sends each 0.25 s ahead).
constexpr const char* parity_score = R"(version: 1
events:
  - { at: 0.3100, node: keys, kind: note_on, note: 60, velocity: 0.9 }
  - { at: 0.3513, node: keys, kind: note_on, note: 64, velocity: 0.5 }
  - { at: 0.4002, node: hit, kind: trigger }
  - { at: 0.4321, node: keys, kind: note_on, note: 67 }
  - { at: 0.5007, node: keys, kind: note_on, note: 71, velocity: 0.7 }
  - { at: 0.6200, node: keys, kind: note_off, note: 64 }
  - { at: 0.6999, node: hit, kind: trigger, velocity: 0.5 }
  - { at: 0.7500, node: keys, kind: note_off, note: 60 }
  - { at: 0.8001, node: hit, kind: stop }
  - { at: 0.9000, node: keys, kind: note_off, note: 71 }
)";

/// How two renders of the same graph differ over the compared frames.
struct comparison {
  size_t differing = 0;      // samples not bit-identical
  size_t first = SIZE_MAX;   // first differing sample (interleaved index)
  double max_abs = 0;        // largest difference
  double peak = 0;           // largest |sample| of the offline render (the signal is not silent)
};

comparison compare(const sound& a, const sound& b, size_t frames) {
  comparison c;
  const size_t n = frames * a.channels;
  for (size_t i = 0; i < n; ++i) {
    c.peak = std::max(c.peak, static_cast<double>(std::fabs(b.samples[i])));
    if (a.samples[i] == b.samples[i])
      continue;
    ++c.differing;
    c.first = std::min(c.first, i);
    c.max_abs = std::max(c.max_abs, static_cast<double>(std::fabs(a.samples[i] - b.samples[i])));
  }
  return c;
}

class render_parity : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sg-parity-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else {
      std::cout << "kept " << dir_ << " (graph, both WAVs, logs)" << std::endl;
    }
  }

  /// Runs `yaml` in real time for two seconds and renders it offline for one; both WAVs must
  /// hold the same first second, bit for bit.
  void expect_parity(const std::string& yaml, const std::string& score = {}) {
    const fs::path graph = dir_ / "graph.yaml";
    std::ofstream(graph) << yaml;
    std::string score_arg;
    if (!score.empty()) {
      std::ofstream(dir_ / "score.yaml") << score;
      score_arg = " --score " + (dir_ / "score.yaml").string();
    }
    const std::string bin = STUDIOGRAPH_PATH;
    // Port 0: the gateway takes any free port; nothing talks to it here.
    auto live = sg::test::run(bin + " run " + graph.string() + score_arg +
                              " --listen 127.0.0.1:0 --duration 2 --state none > " +
                              (dir_ / "run.log").string() + " 2>&1");
    ASSERT_EQ(live.exit_code, 0) << "studiograph run failed; see " << dir_ / "run.log";
    auto offline = sg::test::run(bin + " render " + graph.string() + score_arg +
                                 " --seconds 1 --out " + (dir_ / "render.wav").string() +
                                 " --block 128 2>&1");
    ASSERT_EQ(offline.exit_code, 0) << offline.output;

    const sound run_wav = read_sound(dir_ / "run.wav");
    const sound render_wav = read_sound(dir_ / "render.wav");
    ASSERT_EQ(run_wav.channels, 2u);
    ASSERT_EQ(render_wav.channels, 2u);
    EXPECT_EQ(run_wav.sample_rate, rate);
    EXPECT_EQ(render_wav.sample_rate, rate);
    ASSERT_EQ(render_wav.frames(), compared_frames);
    ASSERT_GE(run_wav.frames(), compared_frames) << "a 2 s run wrote less than a second";

    const auto c = compare(run_wav, render_wav, compared_frames);
    EXPECT_GT(c.peak, 0.01) << "the graph renders (near) silence: the comparison proves nothing";
    EXPECT_EQ(c.differing, 0u)
      << "first difference at frame " << c.first / 2 << " (block " << c.first / 2 / 128
      << "), largest " << c.max_abs << " of a peak of " << c.peak;
    std::cout << "compared " << compared_frames << " frames x 2 channels: " << c.differing
              << " differ, peak " << c.peak << "; the run wrote " << run_wav.frames()
              << " frames" << std::endl;
  }

  fs::path dir_;
};

TEST_F(render_parity, processor_chain_with_seeded_noise) {
  expect_parity(chain_graph(dir_ / "run.wav"));
}

TEST_F(render_parity, looping_resampled_player_and_idle_synth) {
  ASSERT_NO_FATAL_FAILURE(write_loop_file(dir_ / "loop.wav"));
  expect_parity(player_graph(dir_ / "run.wav", dir_ / "loop.wav"));
}

TEST_F(render_parity, synth_notes_and_sample_triggers_from_a_score) {
  // Notes and triggers reach the kernels at the same frames live (through the node actors and
  // the device's event queue, scheduled on its clock) as offline: the same samples.
  ASSERT_NO_FATAL_FAILURE(write_loop_file(dir_ / "hit.wav"));
  expect_parity(score_graph(dir_ / "run.wav", dir_ / "hit.wav"), parity_score);
}

} // namespace
