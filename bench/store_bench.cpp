// Persistence store: how long a graph waits for its stored values at start, and how many
// coalesced values the writer can make durable per second.
//
// The database lives in $SG_BENCH_DIR, else $TMPDIR, else /tmp. Put it on the disk the store
// will use in production: on tmpfs an fsync costs nothing and the write figures mean nothing.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "actors/store/state_store.hpp"

namespace {

namespace v1 = studiograph::v1;

/// A database file in a fresh directory, removed afterwards.
class bench_db {
public:
  explicit bench_db(bool synchronous_full) {
    const char* base = std::getenv("SG_BENCH_DIR");
    if (!base || !base[0])
      base = std::getenv("TMPDIR");
    std::string templ = std::string(base && base[0] ? base : "/tmp") + "/sg-store-bench-XXXXXX";
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp " + templ);
    dir_ = templ;
    auto opened = sg::state_store::open((dir_ / "bench.sqlite").string(), synchronous_full);
    if (!opened)
      throw std::runtime_error(opened.error());
    store = std::move(*opened);
  }
  ~bench_db() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string path() const { return (dir_ / "bench.sqlite").string(); }

  std::unique_ptr<sg::state_store> store;

private:
  std::filesystem::path dir_;
};

/// Value `i` of a graph of `count` parameters, 10 per node, mixing the value kinds a graph
/// holds (mostly numbers, some switches and choices).
v1::PersistParam param(uint64_t i, uint64_t rev) {
  v1::PersistParam p;
  std::string node = "node";
  node += std::to_string(i / 10);
  std::string name = "param";
  name += std::to_string(i % 10);
  p.set_node(std::move(node));
  p.set_param(std::move(name));
  p.set_type("audio.gain");
  p.set_node_rev(rev);
  switch (i % 10) {
    case 7: p.mutable_value()->set_bool_value(rev % 2 == 0); break;
    case 8: p.mutable_value()->set_enum_value("sawtooth"); break;
    case 9: p.mutable_value()->set_int_value(static_cast<int64_t>(rev)); break;
    default: p.mutable_value()->set_double_value(-6.0 + 0.001 * static_cast<double>(rev));
  }
  return p;
}

void fill(sg::state_store& store, int64_t count) {
  std::vector<v1::PersistParam> all;
  for (int64_t i = 0; i < count; ++i)
    all.push_back(param(static_cast<uint64_t>(i), 1));
  if (auto written = store.write(all, {}); !written)
    throw std::runtime_error(written.error());
}

/// Restore: load_params on an open database of N values (what the writer answers to
/// (get_atom) when a graph starts).
void bm_restore_params(benchmark::State& state) {
  bench_db db(true);
  fill(*db.store, state.range(0));
  for (auto _ : state) {
    auto params = db.store->load_params();
    if (!params) {
      state.SkipWithError(params.error().c_str());
      break;
    }
    if (static_cast<int64_t>(params->size()) != state.range(0))
      state.SkipWithError("wrong count");
    benchmark::DoNotOptimize(params->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(bm_restore_params)->Arg(10000)->Unit(benchmark::kMillisecond);

/// Restore from cold: open the file (WAL check, schema check, statement preparation) and load
/// N values, as a process start does.
void bm_open_and_restore(benchmark::State& state) {
  bench_db db(true);
  fill(*db.store, state.range(0));
  auto path = db.path();
  db.store.reset();
  for (auto _ : state) {
    auto store = sg::state_store::open(path, true);
    if (!store) {
      state.SkipWithError(store.error().c_str());
      break;
    }
    auto params = (*store)->load_params();
    if (!params) {
      state.SkipWithError(params.error().c_str());
      break;
    }
    benchmark::DoNotOptimize(params->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(bm_open_and_restore)->Arg(10000)->Unit(benchmark::kMillisecond);

/// Write throughput: one transaction per iteration of `batch` coalesced upserts (distinct
/// parameters, cycling over a 10,000-value graph so the table keeps its size). Arg 0:
/// synchronous FULL (1) or NORMAL (0). Wall time, since a commit mostly waits for the disk.
void bm_write_batch(benchmark::State& state) {
  bool full = state.range(0) != 0;
  auto batch = state.range(1);
  constexpr uint64_t graph = 10000;
  bench_db db(full);
  fill(*db.store, graph);
  std::vector<v1::PersistParam> upserts(static_cast<size_t>(batch));
  uint64_t next = 0, rev = 2;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& u : upserts)
      u = param(next++ % graph, rev);
    ++rev;
    state.ResumeTiming();
    if (auto written = db.store->write(upserts, {}); !written) {
      state.SkipWithError(written.error().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(full ? "synchronous=FULL" : "synchronous=NORMAL");
}
BENCHMARK(bm_write_batch)
  ->ArgNames({"full", "batch"})
  ->ArgsProduct({{1, 0}, {1, 250}})
  ->UseRealTime()
  ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
