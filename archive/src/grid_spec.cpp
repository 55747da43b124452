// "type": "grid": uniform ranges or explicit edges per measure.
#include "archive_spec_readers.hpp"
#include "qdgen/archive/factory.hpp"
#include "qdgen/archive/grid_archive.hpp"

namespace qdgen::archive {

namespace {

struct GridSpec final : ArchiveSpec {
  std::vector<GridDimension> dims;
  ThresholdOptions thresholds;

  std::string type() const override { return "grid"; }
  int measure_dim() const override { return static_cast<int>(dims.size()); }
  std::unique_ptr<Archive> build() const override {
    return std::make_unique<GridArchive>(dims, thresholds);
  }
};

GridDimension read_dimension(const common::JsonValue& value) {
  if (!value.json().is_object())
    value.expected("{\"range\": [lo, hi], \"cells\": N} or {\"edges\": [...]}");
  common::JsonReader dim = value.object();
  if (const auto edges = dim.optional("edges")) {
    const auto list =
        edges->array("an array of at least 2 ascending numbers", 2, kMaxCellsPerDimension + 1);
    std::vector<double> values;
    for (std::size_t e = 0; e < list.size(); ++e) {
      values.push_back(list[e].number());
      if (e > 0 && !(values[e - 1] < values[e]))
        list[e].expected("a value above the previous edge " +
                         common::describe_number(values[e - 1]));
    }
    dim.finish();
    return GridDimension::from_edges(std::move(values));
  }
  const auto [lo, hi] = read_range(dim.required("range"));
  const auto cells = dim.integer("cells", 1, kMaxCellsPerDimension);
  dim.finish();
  return GridDimension::uniform(lo, hi, static_cast<int>(cells));
}

std::unique_ptr<ArchiveSpec> parse_grid(common::JsonReader& section) {
  auto spec = std::make_unique<GridSpec>();
  const common::JsonValue dims = section.required("dims");
  std::int64_t total = 1;
  for (const auto& dim : dims.array("a non-empty array", 1)) {
    spec->dims.push_back(read_dimension(dim));
    const std::int64_t cells = spec->dims.back().cells();
    if (total > kMaxGridCells / cells)
      dims.fail("more than 2^40 cells in all (the product of every dimension's cells)");
    total *= cells;
  }
  spec->thresholds = read_thresholds(section);
  return spec;
}

}  // namespace

ArchiveKinds::Kind grid_archive_kind() {
  return {"grid", parse_grid};
}

}  // namespace qdgen::archive
