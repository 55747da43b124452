#include "qdgen/viz/archive_layout.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/factory.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/common/json_reader.hpp"

namespace qdgen::viz {

namespace {

using nlohmann::json;

std::string joined(const json& names, const std::string& separator) {
  std::string out;
  for (const json& name : names) {
    if (!name.is_string()) continue;
    if (!out.empty()) out += separator;
    out += name.get<std::string>();
  }
  return out;
}

// A text judge's axis: experts [a, b] measure the posterior of a against b; labels likewise.
std::string judge_name(const json& judge) {
  if (!judge.is_object()) return "";
  const std::string kind = judge.value("kind", "");
  if (kind == "experts" && judge.contains("experts") && judge["experts"].is_array())
    return joined(judge["experts"], " ↔ ");
  if (kind == "label" && judge.contains("labels") && judge["labels"].is_array()) {
    std::string name = joined(judge["labels"], " ↔ ");
    // Labels often start with a space (" horror"): the axis reads better without it.
    name.erase(
        std::unique(name.begin(), name.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
        name.end());
    if (!name.empty() && name.front() == ' ') name.erase(0, 1);
    return judge.value("value", "first") == "argmax" ? name + " (label)" : name;
  }
  return "";
}

std::vector<std::string> domain_names(const json& domain) {
  if (!domain.is_object()) return {};
  const std::string kind = domain.value("kind", "");
  if (kind == "text" && domain.contains("measures") && domain["measures"].is_array()) {
    std::vector<std::string> names;
    for (const json& judge : domain["measures"]) names.push_back(judge_name(judge));
    return names;
  }
  if (kind == "sphere" || kind == "rastrigin")
    return {"sum of the first half of x", "sum of the second half of x"};
  if (kind == "arm") return {"end effector x", "end effector y"};
  return {};
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw std::runtime_error(file + ": " + what);
}

}  // namespace

std::string to_string(ArchiveType type) {
  switch (type) {
    case ArchiveType::kGrid:
      return "grid";
    case ArchiveType::kCvt:
      return "cvt";
    case ArchiveType::kNovelty:
      return "novelty";
  }
  return "grid";
}

std::vector<std::int64_t> ArchiveLayout::cell_index(std::int64_t cell) const {
  if (type != ArchiveType::kGrid) return {cell};
  std::vector<std::int64_t> index(axes.size());
  for (std::size_t d = axes.size(); d-- > 0;) {
    const auto bins = static_cast<std::int64_t>(axes[d].edges.size()) - 1;
    index[d] = cell % bins;
    cell /= bins;
  }
  return index;
}

std::vector<std::string> measure_names(const nlohmann::json& config, int measure_dim) {
  std::vector<std::string> names = config.is_object() && config.contains("domain")
                                       ? domain_names(config["domain"])
                                       : std::vector<std::string>{};
  names.resize(static_cast<std::size_t>(std::max(measure_dim, 0)));
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) names[i] = "measure " + std::to_string(i + 1);
  return names;
}

ArchiveLayout archive_layout(const nlohmann::json& config, const std::string& file) {
  if (!config.is_object()) fail(file, "config: expected the run's experiment config object");
  // The elite table follows the archive of true elites: its own result archive when given.
  const bool own_result = config.contains("result_archive") && config["result_archive"].is_object();
  const std::string key = own_result ? "result_archive" : "archive";
  if (!config.contains(key)) fail(file, "config." + key + ": expected an archive object");
  const json& section = config[key];
  const common::JsonValue value(section, file, "config." + key);
  const std::unique_ptr<archive::ArchiveSpec> spec = archive::parse_archive_spec(value);

  ArchiveLayout layout;
  const int dim = spec->measure_dim();
  const std::vector<std::string> names = measure_names(config, dim);
  layout.axes.resize(static_cast<std::size_t>(dim));
  for (int d = 0; d < dim; ++d) layout.axes[static_cast<std::size_t>(d)].name = names[d];

  const std::string type = spec->type();
  if (type == "grid") {
    layout.type = ArchiveType::kGrid;
    layout.cells = 1;
    // The spec checked every dimension; read its edges the way the grid builds them.
    const json& dims = section.at("dims");
    for (int d = 0; d < dim; ++d) {
      const json& item = dims.at(static_cast<std::size_t>(d));
      const archive::GridDimension grid =
          item.contains("edges")
              ? archive::GridDimension::from_edges(item["edges"].get<std::vector<double>>())
              : archive::GridDimension::uniform(item["range"].at(0).get<double>(),
                                                item["range"].at(1).get<double>(),
                                                item["cells"].get<int>());
      MeasureAxis& axis = layout.axes[static_cast<std::size_t>(d)];
      axis.edges = grid.edges;
      axis.lo = grid.edges.front();
      axis.hi = grid.edges.back();
      layout.cells *= grid.cells();
    }
  } else if (type == "cvt") {
    layout.type = ArchiveType::kCvt;
    if (section.contains("centroids")) {
      const json& rows = section["centroids"];
      layout.centroids.resize(static_cast<Eigen::Index>(rows.size()), dim);
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (int d = 0; d < dim; ++d)
          layout.centroids(static_cast<Eigen::Index>(i), d) =
              rows[i].at(static_cast<std::size_t>(d)).get<double>();
    } else {
      // k-means from the stored seed: the same centroids the run computed.
      const std::unique_ptr<archive::Archive> built = spec->build();
      layout.centroids = dynamic_cast<const archive::CvtArchive&>(*built).centroids();
    }
    layout.cells = layout.centroids.rows();
    for (int d = 0; d < dim; ++d) {
      MeasureAxis& axis = layout.axes[static_cast<std::size_t>(d)];
      if (section.contains("ranges")) {
        axis.lo = section["ranges"].at(static_cast<std::size_t>(d)).at(0).get<double>();
        axis.hi = section["ranges"].at(static_cast<std::size_t>(d)).at(1).get<double>();
      } else {
        axis.lo = layout.centroids.col(d).minCoeff();
        axis.hi = layout.centroids.col(d).maxCoeff();
        if (!(axis.lo < axis.hi)) {
          axis.lo -= 0.5;
          axis.hi += 0.5;
        }
      }
    }
    if (dim == 2)
      layout.voronoi = voronoi_regions(layout.centroids, layout.axes[0].lo, layout.axes[0].hi,
                                       layout.axes[1].lo, layout.axes[1].hi);
  } else {
    layout.type = ArchiveType::kNovelty;
  }
  return layout;
}

std::vector<std::vector<std::array<double, 2>>> voronoi_regions(const Eigen::MatrixXd& centroids,
                                                                double lo0, double hi0, double lo1,
                                                                double hi1) {
  using Point = std::array<double, 2>;
  const Eigen::Index n = centroids.rows();
  std::vector<std::vector<Point>> regions(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    const Point c = {centroids(i, 0), centroids(i, 1)};
    std::vector<Point> polygon = {{lo0, lo1}, {hi0, lo1}, {hi0, hi1}, {lo0, hi1}};
    auto radius2 = [&] {
      double r = 0;
      for (const Point& p : polygon)
        r = std::max(r, (p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]));
      return r;
    };
    double reach2 = radius2();
    for (Eigen::Index j = 0; j < n && !polygon.empty(); ++j) {
      if (j == i) continue;
      const double dx = centroids(j, 0) - c[0], dy = centroids(j, 1) - c[1];
      const double d2 = dx * dx + dy * dy;
      // Site j cuts the region only where it is nearer than the region's farthest point.
      if (d2 / 4 >= reach2) continue;
      // Keep the half-plane nearer to c: (p - m) . (cj - c) <= 0, m the midpoint.
      const double mx = c[0] + dx / 2, my = c[1] + dy / 2;
      auto side = [&](const Point& p) { return (p[0] - mx) * dx + (p[1] - my) * dy; };
      std::vector<Point> clipped;
      for (std::size_t k = 0; k < polygon.size(); ++k) {
        const Point& a = polygon[k];
        const Point& b = polygon[(k + 1) % polygon.size()];
        const double sa = side(a), sb = side(b);
        if (sa <= 0) clipped.push_back(a);
        if ((sa < 0 && sb > 0) || (sa > 0 && sb < 0)) {
          const double t = sa / (sa - sb);
          clipped.push_back({a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])});
        }
      }
      polygon = std::move(clipped);
      reach2 = radius2();
    }
    regions[static_cast<std::size_t>(i)] = std::move(polygon);
  }
  return regions;
}

}  // namespace qdgen::viz
