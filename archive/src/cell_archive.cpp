#include "qdgen/archive/cell_archive.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "qdgen/common/memory_budget.hpp"
#include "qdgen/metrics/qd_metrics.hpp"

namespace qdgen::archive {

CellArchive::CellArchive(std::int64_t num_cells, int measure_dim, const ThresholdOptions& options)
    : measure_dim_(measure_dim), options_(options) {
  if (num_cells <= 0) throw std::invalid_argument("archive: needs at least one cell");
  if (!(options.learning_rate >= 0.0 && options.learning_rate <= 1.0))
    throw std::invalid_argument("archive: learning_rate must lie in [0, 1], got " +
                                std::to_string(options.learning_rate));
  if (std::isinf(options.threshold_min) && options.threshold_min < 0 &&
      options.learning_rate != 1.0)
    throw std::invalid_argument(
        "archive: learning_rate below 1 (CMA-MAE) needs a finite threshold_min");
  if (std::isnan(options.threshold_min) || options.threshold_min == HUGE_VAL)
    throw std::invalid_argument("archive: threshold_min must be finite or -inf");
  if (!std::isfinite(options.qd_offset))
    throw std::invalid_argument("archive: qd_offset must be finite");
  common::require_memory(
      static_cast<double>(num_cells) * double(sizeof(std::optional<Elite>) + sizeof(double)),
      "archive: " + std::to_string(num_cells) + " cells");
  elites_.resize(static_cast<std::size_t>(num_cells));
  thresholds_.assign(static_cast<std::size_t>(num_cells), options.threshold_min);
}

double CellArchive::threshold(std::int64_t cell) const {
  return thresholds_.at(static_cast<std::size_t>(cell));
}

std::int64_t CellArchive::index_of(const Eigen::VectorXd& measures) const {
  if (measures.size() != measure_dim_)
    throw std::invalid_argument("archive: expected " + std::to_string(measure_dim_) +
                                " measures, got " + std::to_string(measures.size()));
  if (!measures.allFinite()) throw std::invalid_argument("archive: measures must be finite");
  return cell_of_checked(measures);
}

namespace {
// Per-cell summary of the candidates of one batch that beat the cell's threshold.
struct CellContest {
  std::int64_t cell;
  double threshold_before;
  std::int64_t count = 0;
  double objective_sum = 0.0;
  std::size_t best = 0;  // batch position of the best candidate (first on ties)
};
}  // namespace

std::vector<AddResult> CellArchive::add(std::span<const Candidate> batch) {
  const bool plain = std::isinf(options_.threshold_min);
  const double new_cell_base = plain ? 0.0 : options_.threshold_min;
  std::vector<AddResult> results(batch.size());
  std::vector<std::int64_t> order;  // batch positions that beat their cell's threshold
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Candidate& candidate = batch[i];
    if (!std::isfinite(candidate.objective))
      throw std::invalid_argument("archive: candidate " + std::to_string(candidate.id) +
                                  " has a non-finite objective");
    const std::int64_t cell = index_of(candidate.measures);
    const auto slot = static_cast<std::size_t>(cell);
    const bool occupied = elites_[slot].has_value();
    const double current = thresholds_[slot];
    AddResult& result = results[i];
    result.cell = cell;
    if (candidate.objective > current) {
      result.status = occupied ? AddStatus::kImproveExisting : AddStatus::kNew;
      result.value = candidate.objective - (occupied ? current : new_cell_base);
      order.push_back(static_cast<std::int64_t>(i));
    } else {
      result.status = AddStatus::kNotAdded;
      result.value = candidate.objective - current;  // never -inf: an empty cell takes all
    }
  }
  if (order.empty()) return results;

  // Group by cell; stable, so batch order decides ties inside a cell.
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return results[static_cast<std::size_t>(a)].cell < results[static_cast<std::size_t>(b)].cell;
  });
  std::vector<CellContest> contests;
  for (const std::int64_t position : order) {
    const auto i = static_cast<std::size_t>(position);
    const std::int64_t cell = results[i].cell;
    if (contests.empty() || contests.back().cell != cell)
      contests.push_back({cell, thresholds_[static_cast<std::size_t>(cell)], 0, 0.0, i});
    CellContest& contest = contests.back();
    contest.count += 1;
    contest.objective_sum += batch[i].objective;
    if (batch[i].objective > batch[contest.best].objective) contest.best = i;
  }

  std::vector<std::int64_t> new_cells;
  for (const CellContest& contest : contests) {
    const auto slot = static_cast<std::size_t>(contest.cell);
    if (plain) {
      thresholds_[slot] = batch[contest.best].objective;
    } else {
      // Batch threshold update (Fontaine & Nikolaidis 2023, appendix), as pyribs.
      const double ratio =
          std::pow(1.0 - options_.learning_rate, static_cast<double>(contest.count));
      thresholds_[slot] =
          ratio * contest.threshold_before +
          (contest.objective_sum / static_cast<double>(contest.count)) * (1.0 - ratio);
    }
    if (elites_[slot].has_value()) {
      elites_[slot]->candidate = batch[contest.best];  // copies into the old elite's buffers
    } else {
      new_cells.push_back(contest.cell);
      elites_[slot] = Elite{contest.cell, batch[contest.best]};
    }
  }
  // contests are in ascending cell order, so new_cells is sorted already.
  const auto middle = static_cast<std::ptrdiff_t>(occupied_.size());
  occupied_.insert(occupied_.end(), new_cells.begin(), new_cells.end());
  std::inplace_merge(occupied_.begin(), occupied_.begin() + middle, occupied_.end());
  return results;
}

std::vector<const Elite*> CellArchive::elites() const {
  std::vector<const Elite*> out;
  out.reserve(occupied_.size());
  for (const std::int64_t cell : occupied_)
    out.push_back(&*elites_[static_cast<std::size_t>(cell)]);
  return out;
}

const Elite* CellArchive::elite_in_cell(std::int64_t cell) const {
  if (cell < 0 || cell >= num_cells()) return nullptr;
  const auto& slot = elites_[static_cast<std::size_t>(cell)];
  return slot ? &*slot : nullptr;
}

ArchiveStats CellArchive::stats() const {
  std::vector<double> objectives;
  objectives.reserve(occupied_.size());
  for (const std::int64_t cell : occupied_)
    objectives.push_back(elites_[static_cast<std::size_t>(cell)]->candidate.objective);
  const metrics::QdMetrics m = metrics::qd_metrics(objectives, num_cells(), options_.qd_offset);
  return {m.num_elites,    m.num_cells, m.coverage, m.qd_score,
          m.norm_qd_score, m.obj_max,   m.obj_mean};
}

void CellArchive::clear() {
  for (auto& slot : elites_) slot.reset();
  std::fill(thresholds_.begin(), thresholds_.end(), options_.threshold_min);
  occupied_.clear();
}

nlohmann::json CellArchive::describe_thresholds() const {
  nlohmann::json out = {{"qd_offset", options_.qd_offset},
                        {"learning_rate", options_.learning_rate}};
  // JSON has no infinities: -inf is written as the absence of the key.
  if (std::isfinite(options_.threshold_min)) out["threshold_min"] = options_.threshold_min;
  return out;
}

}  // namespace qdgen::archive
