#pragma once
// The report page (viz/assets/report.html, .css, .js, compiled into the binary): one HTML file
// with its style and script inlined, no network. Two ways to fill it:
//   static_page: the data embedded (<script id="qdgen-data" type="application/json">):
//     {"generator": "qdgen report", "runs": [{"run": run_json, "elites": elites_json,
//      "iterations": iterations_json, "shards": {"dir": "candidates/<id>", "size": N,
//      "present": [shard numbers]}}]}; candidate c lives in shard c.id / N, the file
//      <dir>/<5-digit shard>.js, which calls QDGEN_SHARD(run id, shard, [candidate JSON...]).
//   live_page: no data; window.QDGEN_API = api_base, and the page reads the API (report.js's
//     header lists the routes it calls and the DOM hooks it keeps).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qdgen::viz {

std::string static_page(const std::string& title, const nlohmann::json& data);
std::string live_page(const std::string& title, const std::string& api_base);

// JSON for inside a <script> element: every '<' written as \u003c, so that no text of a run
// ("</script>", "<!--") can end the element.
std::string script_safe_json(const nlohmann::json& value);

}  // namespace qdgen::viz
