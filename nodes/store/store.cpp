#include "nodes/store/store.hpp"

namespace sg {

node_info store_info() {
  node_info info;
  info.type = "store.sqlite";
  info.summary = "Persistence writer: stores committed values and presets in SQLite (WAL)";
  param_info path{"path", param_type::string, 0, 0, 0, "", "Database file (\"\": derived from "
                  "the graph name, \"none\": no persistence)"};
  path.live = false;
  param_info flush{"flush_ms", param_type::real, 0, 1000, 5, "ms",
                   "Longest wait of a change before its transaction"};
  flush.live = false;
  param_info sync{"synchronous", param_type::enumeration, 0, 1, 1, "",
                  "full: durable across power loss; normal: across process crashes"};
  sync.choices = {"normal", "full"};
  sync.live = false;
  info.params = {path, flush, sync};
  return info;
}

} // namespace sg
