#pragma once
// Reads shared by the archive kinds' parsers.

#include <utility>

#include "qdgen/archive/cell_archive.hpp"
#include "qdgen/common/json_reader.hpp"

namespace qdgen::archive {

// Upper bounds of the archive sections' sizes (README, "Archive configuration").
inline constexpr std::int64_t kMaxCellsPerDimension = 1'000'000;
inline constexpr std::int64_t kMaxGridCells = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxCvtCells = 1'000'000;
inline constexpr std::int64_t kMaxCvtSamples = 100'000'000;
inline constexpr std::int64_t kMaxCvtIterations = 100'000;
inline constexpr std::int64_t kMaxMeasureDim = 65'536;
inline constexpr std::int64_t kMaxNoveltyNeighbours = 10'000;
inline constexpr std::int64_t kMaxNoveltyMembers = 1'000'000'000;

// "qd_offset", "learning_rate", "threshold_min" of grid and CVT archives.
ThresholdOptions read_thresholds(common::JsonReader& section);
// [lo, hi] with finite lo < hi.
std::pair<double, double> read_range(const common::JsonValue& value);

}  // namespace qdgen::archive
