// qdgen dashboard RUN.sqlite... [--port P] [--host H]: the report's page, live, and its JSON
// API over HTTP while runs write their stores. `qdgen serve` is kept for the OpenAI-compatible
// server, which will share the http/ library.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "dashboard_routes.hpp"
#include "qdgen/http/server.hpp"
#include "qdgen/viz/report_page.hpp"

namespace qdgen::cli {

namespace {

// A small fixed pool: requests are short reads of SQLite files and event streams wait on
// timers, not threads.
constexpr int kServerThreads = 4;

}  // namespace

void add_dashboard_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "dashboard", "Serve the report of run stores live over HTTP while runs write them");
  struct Options {
    std::vector<std::string> runs;
    int port = 8080;
    std::string host = "127.0.0.1";
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("runs", options->runs, "Run files (.sqlite) written by qdgen run")->required();
  cmd->add_option("--port", options->port, "TCP port (0: a free one, printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--host", options->host,
                  "Address to listen on (loopback by default; another one serves the runs to "
                  "anyone who can reach it)")
      ->capture_default_str();
  cmd->callback([options] {
    auto runs =
        std::make_shared<const std::vector<DashboardRun>>(open_dashboard_runs(options->runs));
    http::ServerOptions server_options;
    server_options.host = options->host;
    server_options.port = static_cast<std::uint16_t>(options->port);
    server_options.threads = kServerThreads;
    // The report's page, with no data in it: window.QDGEN_API makes it read the API.
    std::string title = "qdgen dashboard: " + runs->front().name;
    if (runs->size() > 1) title += " and " + std::to_string(runs->size() - 1) + " more";
    http::Server server(server_options, dashboard_router(runs, viz::live_page(title, "/api")));
    if (!server.loopback())
      std::cerr << "qdgen dashboard: listening on " << options->host
                << ", not a loopback address: anyone who can reach it can read these runs\n";
    std::cout << "dashboard: " << server.url() << std::endl;  // tests read the port here
    const int signal_number = server.run_until_signal();
    // As every qdgen command that a signal stops: 128 + its number, printing nothing more.
    if (signal_number != 0) throw CLI::RuntimeError(128 + signal_number);
  });
}

}  // namespace qdgen::cli
