// audio.synth: sample-accurate notes, pitch, the ADSR envelope as measured on the output,
// velocity, retriggering, and which voice is stolen when all are busy.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"
#include "tests/nodes/spectrum.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
constexpr size_t ms = 48;  // frames per millisecond

kernel_event on(uint8_t note, float velocity = 1.0f) {
  return {kernel_event::note_on, 0, note, velocity};
}
kernel_event off(uint8_t note) {
  return {kernel_event::note_off, 0, note, 0};
}

double hz_of(int note) {
  return 440.0 * std::pow(2.0, (note - 69) / 12.0);
}

/// Peak of `x` in [begin, end) frames.
double peak_in(const std::vector<float>& x, size_t begin, size_t end) {
  return peak(range(x, begin, end));
}

TEST(synth, note_on_starts_at_its_exact_sample_offset) {
  for (uint32_t block : {128u, 64u, 37u}) {
    for (uint64_t at : {0ull, 5ull, 127ull, 128ull, 300ull}) {
      kernel_harness h("audio.synth", {{"waveform", 3}, {"attack", 0}});
      h.event(at, on(69));
      h.run(1024, block);
      const auto& y = h.out()[0];
      for (uint64_t f = 0; f < at; ++f)
        ASSERT_EQ(y[f], 0.0f) << "block " << block << " note at " << at << " frame " << f;
      EXPECT_NE(y[at], 0.0f) << "block " << block << " note at " << at;
    }
  }
}

TEST(synth, a_note_through_the_engine_lands_on_its_frame) {
  graph_harness g(1);
  const uint32_t synth = g.add("synth", "audio.synth", {{"waveform", 3}, {"attack", 0}});
  g.add("out", "audio.output");
  g.connect("synth.out", "out.in");
  g.start();
  g.engine().push_event({synth, 0, 1000, on(69)});
  g.render(2048, 256);
  const auto& y = g.output()[0];
  for (size_t f = 0; f < 1000; ++f)
    ASSERT_EQ(y[f], 0.0f) << f;
  EXPECT_NE(y[1000], 0.0f);
}

TEST(synth, note_pitch_follows_equal_temperament) {
  for (auto [note, hz] : {std::pair{69, 440.0}, std::pair{81, 880.0}, std::pair{57, 220.0}}) {
    kernel_harness h("audio.synth", {{"waveform", 0}});
    h.event(0, on(static_cast<uint8_t>(note)));
    h.run(48000);
    EXPECT_NEAR(frequency(range(h.out()[0], 4800), rate), hz, hz * 2e-4) << "note " << note;
  }
}

TEST(synth, band_limited_saw_has_the_note_pitch_and_little_aliasing) {
  kernel_harness h("audio.synth", {{"waveform", 1}, {"cutoff", 20000}});
  h.event(0, on(93));  // 1760 Hz: harmonics above Nyquist fold back unless band-limited
  h.run(48000);
  const auto y = range(h.out()[0], 8192, 8192 + 32768);
  const auto psd = power_spectrum(y, 4096);
  const double fundamental = band_power(psd, 4096, rate, 1700, 1820);
  // Between the 1st and 2nd harmonic a naive saw has strong aliases; PolyBLEP keeps them low.
  const double gap = band_power(psd, 4096, rate, 2000, 3300);
  EXPECT_LT(10 * std::log10(gap / fundamental), -30);
}

TEST(synth, attack_rises_linearly_to_full_level) {
  // 1760 Hz sine: the peak of each 1 ms window follows the envelope closely.
  kernel_harness h("audio.synth",
                   {{"waveform", 0}, {"attack", 100}, {"decay", 0}, {"sustain", 1}, {"level", 0}});
  h.event(0, on(93));
  h.run(200 * ms);
  const auto& y = h.out()[0];
  EXPECT_NEAR(peak_in(y, 24 * ms, 25 * ms), 0.25, 0.02);
  EXPECT_NEAR(peak_in(y, 49 * ms, 50 * ms), 0.50, 0.02);
  EXPECT_NEAR(peak_in(y, 74 * ms, 75 * ms), 0.75, 0.02);
  EXPECT_NEAR(peak_in(y, 100 * ms, 200 * ms), 1.0, 0.01);
  EXPECT_LT(peak_in(y, 0, 95 * ms), 0.96) << "full level only at the end of the attack";
}

TEST(synth, decay_falls_to_the_sustain_level_and_holds_it) {
  kernel_harness h("audio.synth",
                   {{"waveform", 0}, {"attack", 0}, {"decay", 100}, {"sustain", 0.4}, {"level", 0}});
  h.event(0, on(93));
  h.run(500 * ms);
  const auto& y = h.out()[0];
  EXPECT_GT(peak_in(y, 0, 2 * ms), 0.97);
  const double mid = peak_in(y, 20 * ms, 21 * ms);
  EXPECT_LT(mid, 0.9);
  EXPECT_GT(mid, 0.45);
  EXPECT_NEAR(peak_in(y, 150 * ms, 500 * ms), 0.4, 0.005);
  EXPECT_NEAR(rms(range(y, 150 * ms, 500 * ms)), 0.4 * M_SQRT1_2, 0.005);
}

TEST(synth, sustain_level_is_level_times_sustain_times_velocity) {
  kernel_harness h("audio.synth", {{"waveform", 0}});  // level -12 dBFS, sustain 0.7
  h.event(0, on(69));
  h.run(24000);
  EXPECT_NEAR(peak_in(h.out()[0], 12000, 24000), db_to_gain(-12) * 0.7, 0.002);
}

TEST(synth, release_falls_to_silence_within_the_release_time) {
  kernel_harness h("audio.synth",
                   {{"waveform", 0}, {"attack", 0}, {"decay", 0}, {"sustain", 1}, {"release", 200},
                    {"level", 0}});
  h.event(0, on(93));
  h.event(100 * ms, off(93));
  h.run(500 * ms);
  const auto& y = h.out()[0];
  EXPECT_NEAR(peak_in(y, 50 * ms, 100 * ms), 1.0, 0.01);
  const double quarter = peak_in(y, 148 * ms, 152 * ms);
  EXPECT_LT(quarter, 0.5) << "exponential: well below half after a quarter of the release";
  EXPECT_GT(quarter, 0.001);
  EXPECT_GT(peak_in(y, 290 * ms, 295 * ms), 0.0) << "still audible near the end";
  EXPECT_EQ(peak_in(y, 301 * ms, 500 * ms), 0.0) << "silent once the release time has passed";
  EXPECT_EQ(h.last_status(), process_status::silent);
}

TEST(synth, velocity_scales_the_level) {
  auto level_for = [](float velocity) {
    kernel_harness h("audio.synth", {{"waveform", 0}});
    h.event(0, on(69, velocity));
    h.run(24000);
    return rms(range(h.out()[0], 12000, 24000));
  };
  const double full = level_for(1.0f);
  EXPECT_NEAR(db(level_for(0.5f) / full), -6.02, 0.05);
  EXPECT_NEAR(db(level_for(0.1f) / full), -20.0, 0.05);
}

TEST(synth, velocity_zero_is_a_note_off) {
  kernel_harness h("audio.synth", {{"waveform", 0}, {"release", 10}});
  h.event(0, on(69));
  h.event(4800, on(69, 0.0f));
  h.run(9600);
  EXPECT_GT(peak_in(h.out()[0], 0, 4800), 0.1);
  EXPECT_EQ(peak_in(h.out()[0], 4800 + 11 * ms, 9600), 0.0);
}

TEST(synth, chords_sum_their_voices) {
  kernel_harness h("audio.synth", {{"waveform", 0}});
  for (int n : {60, 64, 67})
    h.event(0, on(static_cast<uint8_t>(n)));
  h.run(48000);
  const auto y = range(h.out()[0], 24000, 48000);
  for (int n : {60, 64, 67})
    EXPECT_NEAR(amplitude_at(y, hz_of(n), rate), db_to_gain(-12) * 0.7, 0.01) << n;
}

/// Which of `notes` sound in frames [begin, end) of `y`: amplitude above a tenth of a voice.
std::vector<int> sounding(const std::vector<float>& y, size_t begin, size_t end,
                          std::initializer_list<int> notes) {
  std::vector<int> out;
  for (int n : notes)
    if (amplitude_at(range(y, begin, end), hz_of(n), rate) > 0.1 * db_to_gain(-12) * 0.7)
      out.push_back(n);
  return out;
}

TEST(synth, all_voices_busy_steals_the_oldest_note) {
  kernel_harness h("audio.synth", {{"voices", 2}, {"waveform", 0}, {"release", 50}});
  h.event(0, on(60));
  h.event(4800, on(67));
  h.event(9600, on(72));
  h.run(48000);
  const auto& y = h.out()[0];
  EXPECT_EQ(sounding(y, 4800 + 2400, 9600, {60, 67, 72}), (std::vector<int>{60, 67}));
  EXPECT_EQ(sounding(y, 24000, 48000, {60, 67, 72}), (std::vector<int>{67, 72}));
}

TEST(synth, a_voice_in_release_is_stolen_before_the_oldest_held_note) {
  kernel_harness h("audio.synth", {{"voices", 2}, {"waveform", 0}, {"release", 5000}});
  h.event(0, on(60));       // oldest, held
  h.event(4800, on(67));
  h.event(9600, off(67));   // releasing (slowly: still loud when stolen)
  h.event(14400, on(72));
  h.run(48000);
  const auto& y = h.out()[0];
  EXPECT_EQ(sounding(y, 9600 + 1200, 14400, {60, 67, 72}), (std::vector<int>{60, 67}));
  EXPECT_EQ(sounding(y, 24000, 48000, {60, 67, 72}), (std::vector<int>{60, 72}));
}

TEST(synth, the_quietest_releasing_voice_is_stolen_first) {
  kernel_harness h("audio.synth", {{"voices", 3}, {"waveform", 0}, {"release", 5000}});
  h.event(0, on(60));
  h.event(100, on(64));
  h.event(200, on(67));
  h.event(4800, off(67));   // released first: quieter by the time 72 arrives
  h.event(19200, off(64));  // released later, and on a lower voice index
  h.event(24000, on(72));
  h.run(48000);
  EXPECT_EQ(sounding(h.out()[0], 36000, 48000, {60, 64, 67, 72}),
            (std::vector<int>{60, 64, 72}));
}

TEST(synth, the_same_note_retriggers_its_own_voice) {
  kernel_harness h("audio.synth", {{"voices", 2}, {"waveform", 0}, {"release", 5000}});
  h.event(0, on(60));
  h.event(2400, on(67));
  h.event(4800, off(60));
  h.event(9600, on(60));  // back into its releasing voice, not stealing 67's
  h.run(48000);
  EXPECT_EQ(sounding(h.out()[0], 24000, 48000, {60, 67}), (std::vector<int>{60, 67}));
  EXPECT_NEAR(amplitude_at(range(h.out()[0], 24000, 48000), hz_of(60), rate),
              db_to_gain(-12) * 0.7, 0.01)
    << "one voice at sustain, not two";
}

TEST(synth, stealing_and_retriggering_do_not_click) {
  kernel_harness h("audio.synth", {{"voices", 1}, {"waveform", 0}, {"level", 0}});
  h.event(0, on(60));
  h.event(4801, on(72));
  h.event(9603, on(72));
  h.run(14400);
  // A sine at 523 Hz and full level moves by at most 2 pi 523 / 48000 = 0.07 per sample.
  EXPECT_LT(max_step(h.out()[0]), 0.08);
}

TEST(synth, cutoff_filters_the_harmonics) {
  auto harmonic_ratio = [](double cutoff) {
    kernel_harness h("audio.synth", {{"waveform", 1}, {"cutoff", cutoff}});
    h.event(0, on(57));  // 220 Hz
    h.run(48000);
    const auto y = range(h.out()[0], 24000, 48000);
    return amplitude_at(y, 220 * 8, rate) / amplitude_at(y, 220, rate);
  };
  // A saw's 8th harmonic is 1/8 of the fundamental; a 12 dB/octave lowpass at 500 Hz takes
  // about 22 dB off it (1760 Hz is 1.8 octaves above the cutoff).
  EXPECT_NEAR(harmonic_ratio(20000), 1.0 / 8, 0.01);
  EXPECT_NEAR(db(harmonic_ratio(500) * 8), -21.8, 1.0);
}

TEST(synth, stop_releases_every_note) {
  kernel_harness h("audio.synth", {{"waveform", 0}, {"release", 20}});
  h.event(0, on(60));
  h.event(0, on(64));
  h.event(4800, {kernel_event::stop, 0, 0, 0});
  h.run(9600);
  EXPECT_GT(peak_in(h.out()[0], 0, 4800), 0.1);
  EXPECT_EQ(peak_in(h.out()[0], 4800 + 21 * ms, 9600), 0.0);
}

} // namespace
} // namespace sg::test
