#pragma once
// The archive interface every search archive implements (grid, CVT, novelty).

#include <memory>
#include <span>
#include <vector>

#include "qdgen/archive/elite.hpp"

namespace qdgen::archive {

struct ArchiveStats {
  std::int64_t num_elites = 0;
  std::int64_t num_cells = 0;  // 0 for an unbounded novelty archive
  double coverage = 0.0;       // num_elites / num_cells (0 when unbounded)
  double qd_score = 0.0;       // sum over elites of (objective - qd_offset)
  double norm_qd_score = 0.0;  // qd_score / num_cells
  double obj_max = 0.0;
  double obj_mean = 0.0;
};

class Archive {
 public:
  virtual ~Archive() = default;

  // Adds a batch with pyribs' batch semantics: every candidate is judged against the
  // archive as it stood before the batch; where several land in one cell, the best one
  // (first on ties) is the one inserted. Returns one result per candidate, in order.
  virtual std::vector<AddResult> add(std::span<const Candidate> batch) = 0;

  virtual std::int64_t size() const = 0;  // number of elites
  // Elites in a stable order (ascending cell); pointers valid until the next add/clear.
  virtual std::vector<const Elite*> elites() const = 0;
  virtual const Elite* elite_in_cell(std::int64_t cell) const = 0;
  virtual ArchiveStats stats() const = 0;
  virtual void clear() = 0;
  // Dimension of the measure space.
  virtual int measure_dim() const = 0;
  // The archive's configuration, as JSON the run store saves (kind, dims, ranges, ...).
  virtual nlohmann::json describe() const = 0;

  // Distance between two elites in cells: grid coordinates for a grid, centroid distance
  // over the mean nearest-centroid spacing for CVT, distance over the novelty threshold
  // for the novelty archive. The default is the Euclidean distance between measures.
  virtual double elite_distance(const Elite& a, const Elite& b) const;

  // Parent selection. Uniform over elites (with replacement); empty archive -> empty result.
  std::vector<const Elite*> sample_uniform(std::size_t n, Rng& rng) const;
  // QDAIF's LMX few-shot pick: up to n distinct elites other than `anchor`, each drawn
  // with probability proportional to 1 / (1 + d^3), d = elite_distance(anchor, elite).
  std::vector<const Elite*> sample_near(const Elite& anchor, std::size_t n, Rng& rng) const;
};

}  // namespace qdgen::archive
