#include "qdgen/viz/run_json.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "qdgen/io/utf8.hpp"

namespace qdgen::viz {

namespace {

using nlohmann::json;

json vector_json(const Eigen::VectorXd& values) {
  json out = json::array();
  for (const double v : values) out.push_back(number_or_null(v));
  return out;
}

json outcome_json(const archive::AddResult& outcome) {
  return {{"status", static_cast<int>(outcome.status)},
          {"value", number_or_null(outcome.value)},
          {"cell", outcome.cell}};
}

std::string shortest_number(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

}  // namespace

json number_or_null(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

std::string solution_preview(const archive::Solution& solution, bool* truncated) {
  bool cut = false;
  std::string preview;
  if (const auto* text = std::get_if<std::string>(&solution)) {
    const std::string valid = io::valid_utf8(*text);
    std::size_t pos = 0, characters = 0;
    while (pos < valid.size() && characters < kPreviewCharacters) {
      pos += std::max<std::size_t>(io::valid_sequence_length(valid, pos), 1);
      ++characters;
    }
    cut = pos < valid.size();
    preview = valid.substr(0, pos);
  } else {
    const auto& vector = std::get<Eigen::VectorXd>(solution);
    constexpr Eigen::Index kShown = 8;
    preview = "[";
    for (Eigen::Index i = 0; i < std::min(vector.size(), kShown); ++i)
      preview += (i ? ", " : "") + shortest_number(vector[i]);
    cut = vector.size() > kShown;
    preview += cut ? ", ...]" : "]";
  }
  if (truncated != nullptr) *truncated = cut;
  return preview;
}

json run_json(const store::RunReader& reader, const ArchiveLayout& layout, const std::string& id,
              const std::string& file) {
  const store::RunReader::Snapshot snapshot(reader);
  const store::RunInfo info = reader.info();
  const json& config = info.config;
  std::string name = config.is_object() ? config.value("name", "") : "";
  if (name.empty()) name = std::filesystem::path(file).stem().string();

  json dims = json::array();
  json measure_names = json::array();
  for (const MeasureAxis& axis : layout.axes) {
    json dim = {{"name", axis.name}, {"range", {axis.lo, axis.hi}}};
    if (layout.type == ArchiveType::kGrid) dim["edges"] = axis.edges;
    dims.push_back(std::move(dim));
    measure_names.push_back(axis.name);
  }
  json archive = {{"type", to_string(layout.type)}, {"cells", layout.cells}, {"dims", dims}};
  if (layout.type == ArchiveType::kCvt) {
    json centroids = json::array();
    for (Eigen::Index i = 0; i < layout.centroids.rows(); ++i)
      centroids.push_back(vector_json(layout.centroids.row(i).transpose()));
    archive["centroids"] = std::move(centroids);
    if (!layout.voronoi.empty()) archive["voronoi"] = layout.voronoi;
  }

  std::set<std::string> keys;
  reader.for_each_iteration([&](const store::IterationRow& row) {
    if (!row.metrics.is_object()) return;
    for (const auto& item : row.metrics.items())
      if (item.value().is_number()) keys.insert(item.key());
  });

  json domain = config.is_object() && config.contains("domain") ? config["domain"] : json();
  return {{"id", id},
          {"name", io::valid_utf8(name)},
          {"file", io::valid_utf8(file)},
          {"status", store::to_string(info.status)},
          {"failure", io::valid_utf8(info.failure)},
          {"created", info.created},
          {"seed", info.seed},
          {"qdgen_version", info.qdgen_version},
          {"keep_candidates", store::to_string(info.keep_candidates)},
          {"last_iteration", info.last_iteration ? json(*info.last_iteration) : json(nullptr)},
          {"iterations_planned",
           config.is_object() ? config.value("iterations", json(nullptr)) : json(nullptr)},
          {"domain", domain.is_object() ? domain.value("kind", "") : ""},
          {"candidate_count", reader.candidate_count()},
          {"archive", std::move(archive)},
          {"measure_names", std::move(measure_names)},
          {"metrics_keys", keys}};
}

json elites_json(const store::RunReader& reader, const ArchiveLayout& layout) {
  const store::RunReader::Snapshot snapshot(reader);
  const store::RunInfo info = reader.info();
  json elites = json::array();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::vector<std::pair<double, double>> measure_range;
  reader.for_each_elite([&](const store::StoredElite& elite) {
    const archive::Candidate& c = elite.candidate.candidate;
    if (std::isfinite(c.objective)) {
      lo = std::min(lo, c.objective);
      hi = std::max(hi, c.objective);
    }
    if (measure_range.size() < static_cast<std::size_t>(c.measures.size()))
      measure_range.resize(
          static_cast<std::size_t>(c.measures.size()),
          {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()});
    for (Eigen::Index d = 0; d < c.measures.size(); ++d) {
      if (!std::isfinite(c.measures[d])) continue;
      auto& [mlo, mhi] = measure_range[static_cast<std::size_t>(d)];
      mlo = std::min(mlo, c.measures[d]);
      mhi = std::max(mhi, c.measures[d]);
    }
    bool truncated = false;
    std::string preview = solution_preview(c.solution, &truncated);
    elites.push_back({{"cell", elite.cell},
                      {"index", layout.cell_index(elite.cell)},
                      {"id", c.id},
                      {"objective", number_or_null(c.objective)},
                      {"measures", vector_json(c.measures)},
                      {"iteration", elite.iteration},
                      {"op", c.op},
                      {"parents", c.parents},
                      {"preview", std::move(preview)},
                      {"truncated", truncated}});
  });
  json ranges = json::array();
  for (const auto& [mlo, mhi] : measure_range)
    ranges.push_back(mlo <= mhi ? json{mlo, mhi} : json(nullptr));
  const std::size_t count = elites.size();
  return {{"iteration", info.last_iteration ? json(*info.last_iteration) : json(nullptr)},
          {"count", count},
          {"objective_range", lo <= hi ? json{lo, hi} : json(nullptr)},
          {"measure_range", count > 0 ? ranges : json(nullptr)},
          {"elites", std::move(elites)}};
}

json iterations_json(const store::RunReader& reader, std::int64_t since) {
  json out = json::array();
  reader.for_each_iteration([&](const store::IterationRow& row) {
    if (row.iteration <= since) return;
    double seconds = 0;
    if (row.timings.is_object())
      for (const auto& item : row.timings.items())
        if (item.value().is_number()) seconds += item.value().get<double>();
    out.push_back({{"iteration", row.iteration},
                   {"committed", row.committed},
                   {"num_candidates", row.num_candidates},
                   {"num_added", row.num_added},
                   {"num_new", row.num_new},
                   {"metrics", row.metrics},
                   {"timings", row.timings},
                   {"evaluations_per_s",
                    seconds > 0 ? json(double(row.num_candidates) / seconds) : json(nullptr)}});
  });
  return out;
}

json stored_candidate_json(const store::StoredCandidate& stored) {
  const archive::Candidate& c = stored.candidate;
  json out = {{"id", c.id},
              {"iteration", c.iteration},
              {"batch_index", stored.batch_index},
              {"op", c.op},
              {"parents", c.parents},
              {"objective", number_or_null(c.objective)},
              {"measures", vector_json(c.measures)},
              {"emitter", c.emitter},
              {"metadata", c.metadata.is_null() ? json::object() : c.metadata},
              {"outcome", outcome_json(stored.outcome)},
              {"result_outcome",
               stored.result_outcome ? outcome_json(*stored.result_outcome) : json(nullptr)}};
  if (const auto* text = std::get_if<std::string>(&c.solution))
    out["text"] = io::valid_utf8(*text);
  else
    out["solution"] = vector_json(std::get<Eigen::VectorXd>(c.solution));
  return out;
}

std::optional<json> candidate_json(const store::RunReader& reader, std::int64_t id,
                                   bool with_lineage) {
  const store::RunReader::Snapshot snapshot(reader);
  const std::optional<store::StoredCandidate> stored = reader.candidate(id);
  if (!stored) return std::nullopt;
  json out = stored_candidate_json(*stored);
  if (with_lineage) {
    json lineage = json::array();
    for (const store::Ancestor& a : reader.lineage(id))
      lineage.push_back({{"id", a.id},
                         {"generation", a.generation},
                         {"stored", a.stored},
                         {"iteration", a.iteration},
                         {"op", a.op},
                         {"parents", a.parents}});
    out["lineage"] = std::move(lineage);
  }
  return out;
}

}  // namespace qdgen::viz
