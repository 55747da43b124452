// "type": "cvt": centroids from k-means over uniform samples of the measure ranges (at
// build, never at parse), or given.
#include "archive_spec_readers.hpp"
#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/factory.hpp"

namespace qdgen::archive {

namespace {

struct CvtSpec final : ArchiveSpec {
  Eigen::MatrixXd centroids;  // given ones; empty: computed from `options`
  CentroidOptions options;
  ThresholdOptions thresholds;

  std::string type() const override { return "cvt"; }
  int measure_dim() const override {
    return centroids.size() > 0 ? static_cast<int>(centroids.cols())
                                : static_cast<int>(options.ranges.size());
  }
  std::unique_ptr<Archive> build() const override {
    return std::make_unique<CvtArchive>(centroids.size() > 0 ? centroids : cvt_centroids(options),
                                        thresholds);
  }
};

Eigen::MatrixXd read_centroids(const common::JsonValue& value) {
  const std::string what = "a non-empty array of equal-length number arrays";
  const auto rows = value.array(what, 1, kMaxCvtCells);
  if (!rows[0].json().is_array() || rows[0].json().empty()) value.expected(what);
  const std::size_t dim = rows[0].json().size();
  if (dim > static_cast<std::size_t>(kMaxMeasureDim))
    rows[0].expected("at most " + std::to_string(kMaxMeasureDim) + " numbers");
  Eigen::MatrixXd centroids(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(dim));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto row = rows[i].array("an array of " + std::to_string(dim) + " numbers", dim, dim);
    for (std::size_t d = 0; d < dim; ++d)
      centroids(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(d)) = row[d].number();
  }
  return centroids;
}

std::unique_ptr<ArchiveSpec> parse_cvt(common::JsonReader& section) {
  auto spec = std::make_unique<CvtSpec>();
  spec->thresholds = read_thresholds(section);
  if (const auto centroids = section.optional("centroids")) {
    for (const char* key : {"cells", "ranges", "samples", "seed", "max_iterations"})
      if (section.has(key)) section.fail(key, "not allowed with centroids (they fix the cells)");
    spec->centroids = read_centroids(*centroids);
    return spec;
  }
  CentroidOptions& options = spec->options;
  options.cells = section.integer("cells", 1, kMaxCvtCells);
  for (const auto& range :
       section.required("ranges").array("a non-empty array of [lo, hi]", 1, kMaxMeasureDim))
    options.ranges.push_back(read_range(range));
  if (const auto samples = section.optional("samples")) {
    options.samples = samples->integer(1, kMaxCvtSamples);
    if (options.samples < options.cells)
      samples->expected("at least cells (" + std::to_string(options.cells) + ")");
  }
  options.seed = section.unsigned_integer("seed", 0);
  options.max_iterations =
      static_cast<int>(section.integer("max_iterations", 1, kMaxCvtIterations, 50));
  return spec;
}

}  // namespace

ArchiveKinds::Kind cvt_archive_kind() {
  return {"cvt", parse_cvt};
}

}  // namespace qdgen::archive
