#pragma once
// The dashboard's routes: the report page, live, and the JSON API over the run stores named
// on the command line (run_json.hpp's shapes). Every request reads its store through a
// reader of its own, so requests on different threads never share one, and a store that
// is deleted or replaced while the dashboard runs gets a JSON error naming the file.

#include <memory>
#include <string>
#include <vector>

#include "qdgen/http/router.hpp"
#include "qdgen/viz/archive_layout.hpp"

namespace qdgen::cli {

struct DashboardRun {
  std::string id;    // "0", "1", ... in the order given
  std::string file;  // as given
  std::string name;  // the config's name, else the file's stem
  viz::ArchiveLayout layout;
};

// Opens each store once to check it is a readable qdgen run and to lay out its archive;
// throws the store's one-line error (naming the file) for one that is not.
std::vector<DashboardRun> open_dashboard_runs(const std::vector<std::string>& files);

// How often an event stream looks for a newly committed iteration.
inline constexpr int kEventPollMilliseconds = 500;

// GET /api/runs, /api/runs/{id}, /api/runs/{id}/elites, /api/runs/{id}/iterations[?since=K],
// /api/runs/{id}/candidates/{cid}, /api/runs/{id}/events (server-sent events), and `page`
// at "/".
http::Router dashboard_router(std::shared_ptr<const std::vector<DashboardRun>> runs,
                              std::string page);

}  // namespace qdgen::cli
