#include "dashboard_routes.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <limits>
#include <optional>

#include "qdgen/http/static_assets.hpp"
#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/run_json.hpp"

namespace qdgen::cli {

namespace {

using nlohmann::json;
using Runs = std::shared_ptr<const std::vector<DashboardRun>>;
constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

const DashboardRun& run_of(const Runs& runs, const http::Request& request) {
  const std::int64_t id = request.integer_param("id", 0, kMaxId);
  if (id >= static_cast<std::int64_t>(runs->size()))
    throw http::HttpError(
        404, "run " + std::to_string(id) + ": no such run (this dashboard serves " +
                 (runs->size() == 1 ? std::string("run 0")
                                    : "runs 0 to " + std::to_string(runs->size() - 1)) +
                 ")");
  return (*runs)[static_cast<std::size_t>(id)];
}

// The store as it is now: gone (410), or not (any longer) a readable run (500), both naming
// the file; RunReader's own errors already start with it.
store::RunReader open_reader(const DashboardRun& run) {
  std::error_code error;
  if (!std::filesystem::exists(run.file, error))
    throw http::HttpError(410, run.file +
                                   ": the run store is gone (deleted or moved since the "
                                   "dashboard started)");
  try {
    return store::RunReader(run.file);
  } catch (const store::RunStoreError& failure) {
    throw http::HttpError(500, failure.what());
  }
}

json run_summary(const DashboardRun& run) {
  const store::RunReader reader = open_reader(run);
  return viz::run_json(reader, run.layout, run.id, run.file);
}

// What the event stream reports: the last committed iteration and the run's status.
json run_state(const DashboardRun& run, const store::RunReader& reader) {
  const store::RunInfo info = reader.info();
  return {{"run", run.id},
          {"iteration", info.last_iteration ? json(*info.last_iteration) : json(nullptr)},
          {"status", store::to_string(info.status)}};
}

// Which file a path names now: a store deleted and made again under the same name is
// another file, which a reader opened before would not see.
std::optional<std::pair<dev_t, ino_t>> file_identity(const std::string& file) {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) return std::nullopt;
  return std::pair(status.st_dev, status.st_ino);
}

// Event "status" when the stream opens, "iteration" when a new iteration is committed or the
// status changes, "error" (and the end) when the store goes away. One reader per stream, kept
// while the path names the same file; polls run one at a time.
http::EventStream run_events(const Runs& runs, const DashboardRun& run) {
  struct State {
    std::optional<store::RunReader> reader;
    std::optional<std::pair<dev_t, ino_t>> identity;
    json last;
  };
  auto state = std::make_shared<State>();
  return {[state, runs, watched = &run](std::vector<http::Event>& out) {
            json now;
            try {
              const auto identity = file_identity(watched->file);
              if (!identity || !state->reader || identity != state->identity) {
                state->reader.reset();
                state->reader.emplace(open_reader(*watched));
                state->identity = identity;
              }
              now = run_state(*watched, *state->reader);
            } catch (const std::exception& failure) {
              out.push_back({"error",
                             json({{"run", watched->id}, {"error", failure.what()}})
                                 .dump(-1, ' ', false, json::error_handler_t::replace),
                             ""});
              return false;
            }
            if (now == state->last) return true;
            const bool first = state->last.is_null();
            state->last = now;
            const std::string id = now["iteration"].is_null() ? "" : now["iteration"].dump();
            out.push_back({first ? "status" : "iteration", now.dump(), id});
            return true;
          },
          std::chrono::milliseconds(kEventPollMilliseconds)};
}

}  // namespace

std::vector<DashboardRun> open_dashboard_runs(const std::vector<std::string>& files) {
  std::vector<DashboardRun> runs;
  for (const std::string& file : files) {
    const store::RunReader reader(file);
    const store::RunInfo info = reader.info();
    const std::string name = info.config.contains("name") && info.config["name"].is_string()
                                 ? info.config["name"].get<std::string>()
                                 : std::filesystem::path(file).stem().string();
    runs.push_back(
        {std::to_string(runs.size()), file, name, viz::archive_layout(info.config, file)});
  }
  return runs;
}

http::Router dashboard_router(Runs runs, std::string page) {
  http::Router router;
  http::add_static_asset(router, "/", std::move(page), "text/html; charset=utf-8");
  router.get("/api/runs", [runs](const http::Request&) -> http::Reply {
    json list = json::array();
    for (const DashboardRun& run : *runs) {
      try {
        list.push_back(run_summary(run));
      } catch (const std::exception& failure) {
        // One store gone does not hide the others: its item says why.
        list.push_back({{"id", run.id},
                        {"file", run.file},
                        {"status", "unavailable"},
                        {"error", failure.what()}});
      }
    }
    return http::json_response(list);
  });
  router.get("/api/runs/{id}", [runs](const http::Request& request) -> http::Reply {
    return http::json_response(run_summary(run_of(runs, request)));
  });
  router.get("/api/runs/{id}/elites", [runs](const http::Request& request) -> http::Reply {
    const DashboardRun& run = run_of(runs, request);
    const store::RunReader reader = open_reader(run);
    return http::json_response(viz::elites_json(reader, run.layout));
  });
  router.get("/api/runs/{id}/iterations", [runs](const http::Request& request) -> http::Reply {
    const DashboardRun& run = run_of(runs, request);
    const std::int64_t since = request.integer_query("since", -1, kMaxId).value_or(-1);
    const store::RunReader reader = open_reader(run);
    return http::json_response(viz::iterations_json(reader, since));
  });
  router.get("/api/runs/{id}/candidates/{cid}",
             [runs](const http::Request& request) -> http::Reply {
               const DashboardRun& run = run_of(runs, request);
               const std::int64_t id = request.integer_param("cid", 0, kMaxId);
               const store::RunReader reader = open_reader(run);
               auto candidate = viz::candidate_json(reader, id);
               if (!candidate)
                 throw http::HttpError(404, run.file + ": no candidate " + std::to_string(id));
               return http::json_response(*candidate);
             });
  router.get("/api/runs/{id}/events", [runs](const http::Request& request) -> http::Reply {
    const DashboardRun& run = run_of(runs, request);
    open_reader(run);  // a store already gone is a 410 now, not an event stream
    return run_events(runs, run);
  });
  return router;
}

}  // namespace qdgen::cli
