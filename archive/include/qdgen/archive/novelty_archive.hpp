#pragma once
// Unstructured novelty archive (Lehman & Stanley 2011). Novelty = mean distance to the k
// nearest members (all members when fewer; +inf when empty). Batch semantics as the other
// archives: every candidate is judged against the archive before the batch.
//  - novelty > threshold: admitted in a new slot (status kNew, value novelty - threshold);
//  - otherwise, with local competition (NSLC): replaces its nearest member when its
//    objective is higher (status kImproveExisting, cell = that member's slot; the best
//    such candidate per member wins, first on ties).
// Slots are numbered in admission order; with max_size the oldest slots are evicted and
// reported by removed_candidate_ids() (for the run store's elite table).
// Neighbours are the k smallest squared distances (ties: the older slot), found by a k-d tree
// with a batched rebuild (KnnIndex) in low dimensions and by a matrix-product filter in high
// ones; both give the brute-force answers bit for bit.

#include <limits>
#include <memory>
#include <vector>

#include "qdgen/archive/archive.hpp"

namespace qdgen::archive {

enum class NoveltySpace { kMeasures, kEmbedding };
// kAuto: the tree up to kTreeMaxDim dimensions; beyond (where a k-d tree prunes little), a
// blocked search that filters members by distances from one matrix product per batch and
// measures the survivors exactly. kBruteForce: every distance measured (the reference).
enum class NeighborSearch { kAuto, kTree, kBruteForce };

struct NoveltyOptions {
  int k = 15;
  double threshold = 0.0;
  bool local_competition = false;
  NoveltySpace space = NoveltySpace::kMeasures;
  std::int64_t max_size = 0;  // 0: unbounded
  double qd_offset = 0.0;
  NeighborSearch search = NeighborSearch::kAuto;
};

class KnnIndex;
struct Neighbor;

class NoveltyArchive : public Archive {
 public:
  static constexpr int kTreeMaxDim = 16;
  static constexpr std::size_t kBlockedMinMembers = 32;
  NoveltyArchive(int measure_dim, const NoveltyOptions& options);
  ~NoveltyArchive() override;

  std::vector<AddResult> add(std::span<const Candidate> batch) override;
  std::int64_t size() const override { return static_cast<std::int64_t>(members_.size()); }
  std::vector<const Elite*> elites() const override;
  const Elite* elite_in_cell(std::int64_t cell) const override;
  ArchiveStats stats() const override;
  void clear() override;
  int measure_dim() const override { return measure_dim_; }
  nlohmann::json describe() const override;
  // Distance in the novelty space over the threshold (1 when the threshold is 0).
  double elite_distance(const Elite& a, const Elite& b) const override;

  // Novelty of a point against the current members.
  double novelty(const Eigen::VectorXd& point) const;
  // Candidates evicted by the last add (max_size), in eviction order.
  const std::vector<std::int64_t>& removed_candidate_ids() const { return removed_; }
  const NoveltyOptions& options() const { return options_; }

 private:
  Eigen::VectorXd point_of(const Candidate& candidate) const;
  struct Neighborhood {
    double novelty;
    std::size_t nearest;  // member position of the nearest member (when any)
  };
  Neighborhood neighborhood(const Eigen::VectorXd& point) const;
  // neighborhood() of each point, against the archive as it stands.
  std::vector<Neighborhood> neighborhoods(const std::vector<Eigen::VectorXd>& points) const;
  Neighborhood summarize(const std::vector<Neighbor>& nearest) const;
  bool uses_tree(int dim) const;
  void index_point(std::int64_t slot, const Eigen::VectorXd& point);

  int measure_dim_;
  NoveltyOptions options_;
  std::vector<Elite> members_;  // ascending slot
  std::vector<Eigen::VectorXd> points_;
  std::int64_t next_slot_ = 0;
  std::vector<std::int64_t> removed_;
  std::unique_ptr<KnnIndex> index_;  // null while empty or when searching by brute force
};

}  // namespace qdgen::archive
