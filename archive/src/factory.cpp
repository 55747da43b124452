#include "qdgen/archive/factory.hpp"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/archive/novelty_archive.hpp"

namespace qdgen::archive {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& expected, const json& got) {
  throw std::runtime_error(path + ": expected " + expected + ", got " + got.dump());
}

void reject_unknown_keys(const json& object, const std::string& path,
                         const std::set<std::string>& known) {
  for (const auto& [key, value] : object.items())
    if (!known.contains(key)) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      throw std::runtime_error(path + "." + key + ": unknown key (known: " + list + ")");
    }
}

double number_at(const json& value, const std::string& path) {
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    fail(path, "a finite number", value);
  return value.get<double>();
}

std::int64_t positive_integer_at(const json& value, const std::string& path) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 1)
    fail(path, "a positive integer", value);
  return value.get<std::int64_t>();
}

const json& required(const json& object, const std::string& key, const std::string& path) {
  if (!object.contains(key)) throw std::runtime_error(path + "." + key + ": missing (required)");
  return object.at(key);
}

std::pair<double, double> range_at(const json& value, const std::string& path) {
  if (!value.is_array() || value.size() != 2) fail(path, "[lo, hi]", value);
  const double lo = number_at(value[0], path + "[0]");
  const double hi = number_at(value[1], path + "[1]");
  if (!(lo < hi)) fail(path, "lo < hi", value);
  return {lo, hi};
}

ThresholdOptions thresholds_at(const json& spec, const std::string& path) {
  ThresholdOptions options;
  if (spec.contains("qd_offset"))
    options.qd_offset = number_at(spec["qd_offset"], path + ".qd_offset");
  if (spec.contains("learning_rate")) {
    options.learning_rate = number_at(spec["learning_rate"], path + ".learning_rate");
    if (options.learning_rate < 0 || options.learning_rate > 1)
      fail(path + ".learning_rate", "a number in [0, 1]", spec["learning_rate"]);
  }
  if (spec.contains("threshold_min"))
    options.threshold_min = number_at(spec["threshold_min"], path + ".threshold_min");
  if (options.learning_rate != 1.0 && std::isinf(options.threshold_min))
    throw std::runtime_error(path + ".threshold_min: missing; learning_rate " +
                             json(options.learning_rate).dump() +
                             " (CMA-MAE) needs a finite threshold_min");
  return options;
}

std::unique_ptr<Archive> make_grid(const json& spec, const std::string& path) {
  reject_unknown_keys(spec, path, {"type", "dims", "qd_offset", "learning_rate", "threshold_min"});
  const json& dims = required(spec, "dims", path);
  if (!dims.is_array() || dims.empty()) fail(path + ".dims", "a non-empty array", dims);
  std::vector<GridDimension> grid;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const std::string at = path + ".dims[" + std::to_string(i) + "]";
    const json& dim = dims[i];
    if (!dim.is_object())
      fail(at, "{\"range\": [lo, hi], \"cells\": N} or {\"edges\": [...]}", dim);
    if (dim.contains("edges")) {
      reject_unknown_keys(dim, at, {"edges"});
      const json& edges = dim["edges"];
      if (!edges.is_array() || edges.size() < 2)
        fail(at + ".edges", "an array of at least 2 ascending numbers", edges);
      std::vector<double> values;
      for (std::size_t e = 0; e < edges.size(); ++e) {
        values.push_back(number_at(edges[e], at + ".edges[" + std::to_string(e) + "]"));
        if (e > 0 && !(values[e - 1] < values[e]))
          fail(at + ".edges[" + std::to_string(e) + "]",
               "a value above the previous edge " + json(values[e - 1]).dump(), edges[e]);
      }
      grid.push_back(GridDimension::from_edges(std::move(values)));
    } else {
      reject_unknown_keys(dim, at, {"range", "cells"});
      const auto [lo, hi] = range_at(required(dim, "range", at), at + ".range");
      const std::int64_t cells = positive_integer_at(required(dim, "cells", at), at + ".cells");
      if (cells > 1'000'000) fail(at + ".cells", "at most 1000000 cells", dim["cells"]);
      grid.push_back(GridDimension::uniform(lo, hi, static_cast<int>(cells)));
    }
  }
  return std::make_unique<GridArchive>(std::move(grid), thresholds_at(spec, path));
}

std::unique_ptr<Archive> make_cvt(const json& spec, const std::string& path) {
  reject_unknown_keys(spec, path,
                      {"type", "cells", "ranges", "samples", "seed", "max_iterations", "centroids",
                       "qd_offset", "learning_rate", "threshold_min"});
  const ThresholdOptions thresholds = thresholds_at(spec, path);
  if (spec.contains("centroids")) {
    for (const char* key : {"cells", "ranges", "samples", "seed", "max_iterations"})
      if (spec.contains(key))
        throw std::runtime_error(path + "." + key +
                                 ": not allowed with centroids (they fix the cells)");
    const json& rows = spec["centroids"];
    if (!rows.is_array() || rows.empty() || !rows[0].is_array() || rows[0].empty())
      fail(path + ".centroids", "a non-empty array of equal-length number arrays", rows);
    Eigen::MatrixXd centroids(static_cast<Eigen::Index>(rows.size()),
                              static_cast<Eigen::Index>(rows[0].size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string at = path + ".centroids[" + std::to_string(i) + "]";
      if (!rows[i].is_array() || rows[i].size() != rows[0].size())
        fail(at, "an array of " + std::to_string(rows[0].size()) + " numbers", rows[i]);
      for (std::size_t d = 0; d < rows[i].size(); ++d)
        centroids(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(d)) =
            number_at(rows[i][d], at + "[" + std::to_string(d) + "]");
    }
    return std::make_unique<CvtArchive>(std::move(centroids), thresholds);
  }
  CentroidOptions options;
  options.cells = positive_integer_at(required(spec, "cells", path), path + ".cells");
  const json& ranges = required(spec, "ranges", path);
  if (!ranges.is_array() || ranges.empty())
    fail(path + ".ranges", "a non-empty array of [lo, hi]", ranges);
  for (std::size_t i = 0; i < ranges.size(); ++i)
    options.ranges.push_back(range_at(ranges[i], path + ".ranges[" + std::to_string(i) + "]"));
  if (spec.contains("samples")) {
    options.samples = positive_integer_at(spec["samples"], path + ".samples");
    if (options.samples < options.cells)
      fail(path + ".samples", "at least cells (" + std::to_string(options.cells) + ")",
           spec["samples"]);
  }
  if (spec.contains("seed")) {
    if (!spec["seed"].is_number_unsigned())
      fail(path + ".seed", "a non-negative integer", spec["seed"]);
    options.seed = spec["seed"].get<std::uint64_t>();
  }
  if (spec.contains("max_iterations"))
    options.max_iterations =
        static_cast<int>(positive_integer_at(spec["max_iterations"], path + ".max_iterations"));
  return std::make_unique<CvtArchive>(cvt_centroids(options), thresholds);
}

std::unique_ptr<Archive> make_novelty(const json& spec, const std::string& path) {
  reject_unknown_keys(spec, path,
                      {"type", "measure_dim", "k", "threshold", "local_competition", "space",
                       "max_size", "qd_offset"});
  NoveltyOptions options;
  const auto measure_dim =
      positive_integer_at(required(spec, "measure_dim", path), path + ".measure_dim");
  options.threshold = number_at(required(spec, "threshold", path), path + ".threshold");
  if (options.threshold < 0) fail(path + ".threshold", "a number >= 0", spec["threshold"]);
  if (spec.contains("k")) options.k = static_cast<int>(positive_integer_at(spec["k"], path + ".k"));
  if (spec.contains("local_competition")) {
    if (!spec["local_competition"].is_boolean())
      fail(path + ".local_competition", "true or false", spec["local_competition"]);
    options.local_competition = spec["local_competition"].get<bool>();
  }
  if (spec.contains("space")) {
    const json& space = spec["space"];
    if (space == "measures")
      options.space = NoveltySpace::kMeasures;
    else if (space == "embedding")
      options.space = NoveltySpace::kEmbedding;
    else
      fail(path + ".space", "\"measures\" or \"embedding\"", space);
  }
  if (spec.contains("max_size"))
    options.max_size = positive_integer_at(spec["max_size"], path + ".max_size");
  if (spec.contains("qd_offset"))
    options.qd_offset = number_at(spec["qd_offset"], path + ".qd_offset");
  return std::make_unique<NoveltyArchive>(static_cast<int>(measure_dim), options);
}

}  // namespace

std::unique_ptr<Archive> make_archive(const json& spec, const std::string& key_path) {
  if (!spec.is_object()) fail(key_path, "an object with a \"type\"", spec);
  const json& type = required(spec, "type", key_path);
  if (type == "grid") return make_grid(spec, key_path);
  if (type == "cvt") return make_cvt(spec, key_path);
  if (type == "novelty") return make_novelty(spec, key_path);
  fail(key_path + ".type", "\"grid\", \"cvt\" or \"novelty\"", type);
}

std::unique_ptr<Archive> make_result_archive(const json& spec, const std::string& key_path) {
  std::unique_ptr<Archive> checked = make_archive(spec, key_path);  // same errors, same paths
  if (spec["type"] == "novelty") return checked;
  ThresholdOptions plain;
  plain.qd_offset = dynamic_cast<const CellArchive&>(*checked).threshold_options().qd_offset;
  if (const auto* cvt = dynamic_cast<const CvtArchive*>(checked.get()))
    return std::make_unique<CvtArchive>(cvt->centroids(), plain);  // no second k-means
  const auto& grid = dynamic_cast<const GridArchive&>(*checked);
  return std::make_unique<GridArchive>(grid.dims(), plain);
}

}  // namespace qdgen::archive
