#include "qdgen/viz/report.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "qdgen/io/atomic_file.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/figures.hpp"
#include "qdgen/viz/png_writer.hpp"
#include "qdgen/viz/report_page.hpp"
#include "qdgen/viz/run_json.hpp"
#include "qdgen/viz/svg_writer.hpp"

namespace qdgen::viz {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kGeneratorMark = "<meta name=\"generator\" content=\"qdgen report\">";

bool is_qdgen_report(const fs::path& folder) {
  std::ifstream in(folder / "index.html");
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head.find(kGeneratorMark) != std::string::npos;
}

void prepare_folder(const ReportOptions& options) {
  const fs::path& folder = options.folder;
  std::error_code error;
  const fs::file_status status = fs::status(folder, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status))
      throw std::runtime_error(folder.string() +
                               ": exists and is not a folder; the report is a folder of files");
    if (!fs::is_empty(folder, error) && !options.overwrite && !is_qdgen_report(folder))
      throw std::runtime_error(folder.string() +
                               ": not empty and not a qdgen report (no index.html written by qdgen "
                               "report); name a new or empty folder, or add --overwrite");
    return;
  }
  fs::create_directories(folder, error);
  if (error)
    throw std::runtime_error(folder.string() + ": cannot create the folder (" + error.message() +
                             ")");
}

// Shard files of an earlier report: candidates/<digits>/<5 digits>.js. Nothing else is touched.
void remove_old_shards(const fs::path& folder) {
  const fs::path root = folder / "candidates";
  std::error_code error;
  if (!fs::is_directory(root, error)) return;
  const auto digits = [](const std::string& name, std::size_t count) {
    return name.size() >= count &&
           std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(count),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto run_folder = [&](const std::string& name) {
    return !name.empty() && digits(name, name.size());
  };
  const auto shard = [&](const std::string& name) {
    return name.size() == 8 && digits(name, 5) && name.compare(5, 3, ".js") == 0;
  };
  for (const auto& run : fs::directory_iterator(root, error)) {
    if (!run.is_directory() || !run_folder(run.path().filename().string())) continue;
    for (const auto& file : fs::directory_iterator(run.path(), error))
      if (file.is_regular_file() && shard(file.path().filename().string()))
        fs::remove(file.path(), error);
    fs::remove(run.path(), error);  // only when now empty
  }
  fs::remove(root, error);  // likewise
}

struct Output {
  const ReportOptions& options;
  ReportSummary& summary;

  void check_not_input(const fs::path& path) const {
    for (const fs::path& run : options.runs)
      for (const char* suffix : {"", "-wal", "-shm"})
        io::refuse_output_over_input(path, run.string() + suffix);
  }
  std::uintmax_t write(const fs::path& path, std::string_view bytes) const {
    check_not_input(path);
    io::AtomicFileWriter out(path);
    out.write(bytes);
    out.commit();
    return bytes.size();
  }
  void file(const fs::path& name, std::string_view bytes) const {
    const fs::path path = options.folder / name;
    summary.files.push_back({path, write(path, bytes)});
  }
};

struct RunData {
  std::unique_ptr<store::RunReader> reader;
  ArchiveLayout layout;
  json run, elites, iterations;
};

// The candidates the page may show: every elite and every stored ancestor of one.
std::unordered_set<std::int64_t> lineage_closure(const store::RunReader& reader,
                                                 const json& elites) {
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> parents;
  reader.for_each_candidate([&](const store::StoredCandidate& c) {
    parents.emplace(c.candidate.id, c.candidate.parents);
  });
  std::unordered_set<std::int64_t> keep;
  std::vector<std::int64_t> stack;
  for (const json& e : elites["elites"]) stack.push_back(e["id"].get<std::int64_t>());
  while (!stack.empty()) {
    const std::int64_t id = stack.back();
    stack.pop_back();
    const auto found = parents.find(id);
    if (found == parents.end() || !keep.insert(id).second) continue;
    for (const std::int64_t p : found->second) stack.push_back(p);
  }
  return keep;
}

// Writes the run's shard files; returns the shard numbers written.
json write_shards(const Output& out, const RunData& data, const std::string& id,
                  std::int64_t& candidates, std::uintmax_t& bytes) {
  const std::unordered_set<std::int64_t> keep = lineage_closure(*data.reader, data.elites);
  const fs::path dir = out.options.folder / "candidates" / id;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    throw std::runtime_error(dir.string() + ": cannot create the folder (" + error.message() + ")");
  json present = json::array();
  std::int64_t shard = -1;
  std::string text;
  const auto flush = [&] {
    if (shard < 0) return;
    text += "]);\n";
    char name[16];
    std::snprintf(name, sizeof name, "%05lld.js", static_cast<long long>(shard));
    bytes += out.write(dir / name, text);
    present.push_back(shard);
    text.clear();
  };
  data.reader->for_each_candidate([&](const store::StoredCandidate& c) {
    if (!keep.count(c.candidate.id)) return;
    const std::int64_t s = c.candidate.id / out.options.shard_size;
    if (s != shard) {
      flush();
      shard = s;
      text = "QDGEN_SHARD(" + script_safe_json(id) + ", " + std::to_string(s) + ", [";
    } else {
      text += ",\n";
    }
    text += script_safe_json(stored_candidate_json(c));
    ++candidates;
  });
  flush();
  return present;
}

}  // namespace

fs::path default_report_folder(const fs::path& first_run) {
  fs::path folder = first_run;
  folder.replace_filename(first_run.stem().string() + "-report");
  return folder;
}

ReportSummary write_report(const ReportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.runs.empty()) throw std::runtime_error("no run files given");
  if (options.shard_size < 1) throw std::invalid_argument("shard size must be positive");
  // Every store is opened and read before anything is written: bad input leaves no folder.
  std::vector<RunData> runs;
  for (std::size_t i = 0; i < options.runs.size(); ++i) {
    RunData data;
    const std::string file = options.runs[i].string();
    data.reader = std::make_unique<store::RunReader>(options.runs[i]);
    data.layout = archive_layout(data.reader->info().config, file);
    runs.push_back(std::move(data));
  }
  ReportSummary summary;
  prepare_folder(options);
  remove_old_shards(options.folder);
  const Output out{options, summary};

  json page_runs = json::array();
  std::vector<CurveRun> curves;
  std::uintmax_t shard_bytes = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    RunData& data = runs[i];
    const std::string id = std::to_string(i);
    // One snapshot per run: its elites, iterations and candidates agree while a run writes.
    const store::RunReader::Snapshot snapshot(*data.reader);
    data.run = run_json(*data.reader, data.layout, id, options.runs[i].string());
    data.elites = elites_json(*data.reader, data.layout);
    data.iterations = iterations_json(*data.reader);
    summary.elites += data.elites["count"].get<std::int64_t>();
    json present = write_shards(out, data, id, summary.candidates, shard_bytes);
    summary.shard_files += static_cast<std::int64_t>(present.size());

    const Canvas map = archive_canvas(data.layout, data.run, data.elites);
    const std::string stem = i == 0 ? "archive" : "archive-" + id;
    out.file(stem + ".png", encode_png(rasterize(map)));
    out.file(stem + ".svg", to_svg(map));
    page_runs.push_back({{"run", data.run},
                         {"elites", data.elites},
                         {"iterations", data.iterations},
                         {"shards",
                          {{"dir", "candidates/" + id},
                           {"size", options.shard_size},
                           {"present", std::move(present)}}}});
    curves.push_back({data.run, data.iterations});
  }
  summary.files.push_back({options.folder / "candidates", shard_bytes});
  out.file("curves.svg", to_svg(curves_canvas(curves)));
  std::string title = "qdgen report: " + page_runs[0]["run"]["name"].get<std::string>();
  if (runs.size() > 1) title += " and " + std::to_string(runs.size() - 1) + " more";
  out.file("index.html",
           static_page(title, {{"generator", "qdgen report"}, {"runs", std::move(page_runs)}}));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace qdgen::viz
