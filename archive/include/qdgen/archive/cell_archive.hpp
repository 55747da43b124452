#pragma once
// What grid and CVT archives share: a fixed set of cells, one elite and one threshold per
// cell, and pyribs' batch add including CMA-MAE soft thresholds (Fontaine & Nikolaidis
// 2023). A subclass only says which cell a measure vector falls in and how far cells are.

#include <limits>
#include <vector>

#include "qdgen/archive/archive.hpp"

namespace qdgen::archive {

struct ThresholdOptions {
  double qd_offset = 0.0;  // objective counted as zero in the QD score
  // CMA-MAE: 1.0 with threshold_min = -inf is plain MAP-Elites (threshold = elite's
  // objective); below 1.0 needs a finite threshold_min.
  double learning_rate = 1.0;
  double threshold_min = -std::numeric_limits<double>::infinity();
};

class CellArchive : public Archive {
 public:
  std::vector<AddResult> add(std::span<const Candidate> batch) override;
  std::int64_t size() const override { return static_cast<std::int64_t>(occupied_.size()); }
  std::vector<const Elite*> elites() const override;
  const Elite* elite_in_cell(std::int64_t cell) const override;
  ArchiveStats stats() const override;
  void clear() override;

  std::int64_t num_cells() const { return static_cast<std::int64_t>(elites_.size()); }
  const ThresholdOptions& threshold_options() const { return options_; }
  // The cell's acceptance threshold (threshold_min while the cell is empty).
  double threshold(std::int64_t cell) const;
  // Cell a measure vector maps to; throws on a wrong length or non-finite values.
  std::int64_t index_of(const Eigen::VectorXd& measures) const;

 protected:
  CellArchive(std::int64_t num_cells, int measure_dim, const ThresholdOptions& options);
  // Cell of finite measures of the right length.
  virtual std::int64_t cell_of_checked(const Eigen::VectorXd& measures) const = 0;
  nlohmann::json describe_thresholds() const;

 private:
  int measure_dim_;
  ThresholdOptions options_;
  std::vector<std::optional<Elite>> elites_;  // one slot per cell
  std::vector<double> thresholds_;
  std::vector<std::int64_t> occupied_;  // cells holding an elite, ascending
};

}  // namespace qdgen::archive
