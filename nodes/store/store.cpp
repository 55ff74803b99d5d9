#include "nodes/store/store.hpp"

#include "nodes/core/describe.hpp"

namespace sg {

node_info store_info() {
  using namespace describe;
  node_info info;
  info.type = "store.sqlite";
  info.summary = "Persistence writer: stores committed values and presets in SQLite (WAL)";
  info.params = {
    text("path", "", "Database file (\"\": derived from the graph name, \"none\": no persistence)"),
    real("flush_ms", 0, 1000, 5, "ms", "Longest wait of a change before its transaction")
      .on_rebuild(),
    choice("synchronous", {"normal", "full"}, 1,
           "full: durable across power loss; normal: across process crashes")
      .on_rebuild(),
  };
  return info;
}

} // namespace sg
