#include "qdgen/archive/novelty_archive.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

#include "knn_index.hpp"
#include "qdgen/metrics/qd_metrics.hpp"

namespace qdgen::archive {

NoveltyArchive::NoveltyArchive(int measure_dim, const NoveltyOptions& options)
    : measure_dim_(measure_dim), options_(options) {
  if (measure_dim < 1) throw std::invalid_argument("novelty archive: measure_dim must be >= 1");
  if (options.k < 1) throw std::invalid_argument("novelty archive: k must be >= 1");
  if (!(std::isfinite(options.threshold) && options.threshold >= 0))
    throw std::invalid_argument("novelty archive: threshold must be finite and >= 0");
  if (options.max_size < 0) throw std::invalid_argument("novelty archive: max_size must be >= 0");
  if (!std::isfinite(options.qd_offset))
    throw std::invalid_argument("novelty archive: qd_offset must be finite");
}

NoveltyArchive::~NoveltyArchive() = default;

bool NoveltyArchive::uses_tree(int dim) const {
  return options_.search == NeighborSearch::kTree ||
         (options_.search == NeighborSearch::kAuto && dim <= kTreeMaxDim);
}

void NoveltyArchive::index_point(std::int64_t slot, const Eigen::VectorXd& point) {
  if (!uses_tree(static_cast<int>(point.size()))) return;
  if (!index_) index_ = std::make_unique<KnnIndex>(static_cast<int>(point.size()));
  index_->set(slot, point.data());
}

Eigen::VectorXd NoveltyArchive::point_of(const Candidate& candidate) const {
  if (options_.space == NoveltySpace::kEmbedding) {
    if (!candidate.embedding)
      throw std::invalid_argument("novelty archive: candidate " + std::to_string(candidate.id) +
                                  " has no embedding (space is \"embedding\")");
    if (!points_.empty() && candidate.embedding->size() != points_.front().size())
      throw std::invalid_argument("novelty archive: candidate " + std::to_string(candidate.id) +
                                  " has an embedding of size " +
                                  std::to_string(candidate.embedding->size()) + ", expected " +
                                  std::to_string(points_.front().size()));
    if (!candidate.embedding->allFinite())
      throw std::invalid_argument("novelty archive: embeddings must be finite");
    return candidate.embedding->cast<double>();
  }
  if (candidate.measures.size() != measure_dim_)
    throw std::invalid_argument("novelty archive: expected " + std::to_string(measure_dim_) +
                                " measures, got " + std::to_string(candidate.measures.size()));
  if (!candidate.measures.allFinite())
    throw std::invalid_argument("novelty archive: measures must be finite");
  return candidate.measures;
}

NoveltyArchive::Neighborhood NoveltyArchive::summarize(const std::vector<Neighbor>& nearest) const {
  double sum = 0.0;
  for (const Neighbor& n : nearest) sum += std::sqrt(n.squared_distance);
  const std::int64_t slot = nearest.front().id;
  const auto it = std::lower_bound(members_.begin(), members_.end(), slot,
                                   [](const Elite& e, std::int64_t c) { return e.cell < c; });
  return {sum / static_cast<double>(nearest.size()),
          static_cast<std::size_t>(it - members_.begin())};
}

NoveltyArchive::Neighborhood NoveltyArchive::neighborhood(const Eigen::VectorXd& point) const {
  if (points_.empty()) return {std::numeric_limits<double>::infinity(), 0};
  const int dim = static_cast<int>(point.size());
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(options_.k), points_.size());
  std::vector<Neighbor> nearest;
  if (index_) {
    index_->k_nearest(point.data(), static_cast<int>(k), nearest);
  } else {
    nearest.reserve(points_.size());
    for (std::size_t m = 0; m < points_.size(); ++m)
      nearest.push_back({squared_distance(points_[m].data(), point.data(), dim), members_[m].cell});
    std::partial_sort(nearest.begin(), nearest.begin() + static_cast<std::ptrdiff_t>(k),
                      nearest.end());
    nearest.resize(k);
  }
  return summarize(nearest);
}

// High dimensions: squared distances |q|^2 + |m|^2 - 2 q.m from one matrix product per block
// of queries, each within a bound e of the exact value (rounding of the product, the norms and
// the reference's own sum, all below 8 (dim + 8) u (|q|^2 + |m|^2)). The k-th smallest upper
// bound U caps the true k-th distance, so members whose lower bound exceeds U cannot be among
// the k nearest; the rest (usually a few more than k) get the exact distance the brute-force
// reference computes and the same selection, hence the same answer bit for bit.
std::vector<NoveltyArchive::Neighborhood> NoveltyArchive::neighborhoods(
    const std::vector<Eigen::VectorXd>& queries) const {
  std::vector<Neighborhood> out(queries.size());
  const std::size_t n = points_.size();
  const bool blocked = !index_ && options_.search == NeighborSearch::kAuto &&
                       n >= kBlockedMinMembers && !queries.empty() &&
                       queries.front().size() > kTreeMaxDim;
  if (!blocked) {
    for (std::size_t i = 0; i < queries.size(); ++i) out[i] = neighborhood(queries[i]);
    return out;
  }
  const auto dim = static_cast<Eigen::Index>(queries.front().size());
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(options_.k), n);
  Eigen::MatrixXd members(dim, static_cast<Eigen::Index>(n));
  for (std::size_t m = 0; m < n; ++m) members.col(static_cast<Eigen::Index>(m)) = points_[m];
  const Eigen::VectorXd member_norms = members.colwise().squaredNorm().transpose();
  const bool norms_finite = member_norms.allFinite();
  const double c = 8.0 * static_cast<double>(dim + 8) * std::numeric_limits<double>::epsilon() / 2;
  constexpr std::size_t kBlock = 128;
  std::vector<double> lower(n), upper(n), scratch(n);
  std::vector<Neighbor> nearest;
  for (std::size_t first = 0; first < queries.size(); first += kBlock) {
    const std::size_t count = std::min(kBlock, queries.size() - first);
    Eigen::MatrixXd block(dim, static_cast<Eigen::Index>(count));
    for (std::size_t i = 0; i < count; ++i)
      block.col(static_cast<Eigen::Index>(i)) = queries[first + i];
    const Eigen::MatrixXd dots = members.transpose() * block;  // n x count, a column per query
    for (std::size_t i = 0; i < count; ++i) {
      const Eigen::VectorXd& query = queries[first + i];
      const double query_norm = query.squaredNorm();
      bool finite = norms_finite && std::isfinite(query_norm);
      for (std::size_t m = 0; m < n && finite; ++m) {
        const double approx =
            query_norm + member_norms[static_cast<Eigen::Index>(m)] -
            2.0 * dots(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(i));
        const double bound = c * (query_norm + member_norms[static_cast<Eigen::Index>(m)]);
        lower[m] = approx - bound;
        upper[m] = approx + bound;
        finite = std::isfinite(upper[m]) && std::isfinite(lower[m]);
      }
      if (!finite) {  // overflow: the bound means nothing, measure exactly
        out[first + i] = neighborhood(query);
        continue;
      }
      scratch = upper;
      std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k - 1),
                       scratch.end());
      const double cap = scratch[k - 1];
      nearest.clear();
      for (std::size_t m = 0; m < n; ++m)
        if (lower[m] <= cap)
          nearest.push_back(
              {squared_distance(points_[m].data(), query.data(), static_cast<int>(dim)),
               members_[m].cell});
      std::partial_sort(nearest.begin(), nearest.begin() + static_cast<std::ptrdiff_t>(k),
                        nearest.end());
      nearest.resize(k);
      out[first + i] = summarize(nearest);
    }
  }
  return out;
}

double NoveltyArchive::novelty(const Eigen::VectorXd& point) const {
  if (!points_.empty() && point.size() != points_.front().size())
    throw std::invalid_argument("novelty archive: a point of size " + std::to_string(point.size()) +
                                ", expected " + std::to_string(points_.front().size()));
  return neighborhood(point).novelty;
}

std::vector<AddResult> NoveltyArchive::add(std::span<const Candidate> batch) {
  removed_.clear();
  std::vector<AddResult> results(batch.size());
  std::vector<Eigen::VectorXd> points;
  points.reserve(batch.size());
  for (const Candidate& candidate : batch) {
    if (!std::isfinite(candidate.objective))
      throw std::invalid_argument("novelty archive: candidate " + std::to_string(candidate.id) +
                                  " has a non-finite objective");
    points.push_back(point_of(candidate));
  }
  if (options_.space == NoveltySpace::kEmbedding && points_.empty())
    for (const Eigen::VectorXd& p : points)
      if (p.size() != points.front().size())
        throw std::invalid_argument("novelty archive: embeddings of different sizes in a batch");

  if (index_) index_->prepare(batch.size());
  const std::vector<Neighborhood> around_all = neighborhoods(points);
  std::vector<std::size_t> admitted;
  std::map<std::size_t, std::size_t> replacement_of_member;  // member position -> batch position
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Neighborhood& around = around_all[i];
    const double novelty_score = around.novelty;
    AddResult& result = results[i];
    if (novelty_score > options_.threshold) {
      result.status = AddStatus::kNew;
      result.value = novelty_score - options_.threshold;
      admitted.push_back(i);
      continue;
    }
    result.value = novelty_score - options_.threshold;
    if (!options_.local_competition || points_.empty()) continue;
    const std::size_t nearest = around.nearest;
    const Elite& rival = members_[nearest];
    result.cell = rival.cell;
    result.value = batch[i].objective - rival.candidate.objective;
    if (batch[i].objective > rival.candidate.objective) {
      result.status = AddStatus::kImproveExisting;
      auto [it, inserted] = replacement_of_member.emplace(nearest, i);
      if (!inserted && batch[i].objective > batch[it->second].objective) it->second = i;
    }
  }

  for (const auto& [member, position] : replacement_of_member) {
    members_[member].candidate = batch[position];
    points_[member] = points[position];
    index_point(members_[member].cell, points[position]);
  }
  for (const std::size_t position : admitted) {
    results[position].cell = next_slot_;
    index_point(next_slot_, points[position]);
    members_.push_back(Elite{next_slot_++, batch[position]});
    points_.push_back(points[position]);
  }
  if (options_.max_size > 0 && size() > options_.max_size) {
    const auto excess = static_cast<std::size_t>(size() - options_.max_size);
    for (std::size_t m = 0; m < excess; ++m) removed_.push_back(members_[m].candidate.id);
    members_.erase(members_.begin(), members_.begin() + static_cast<std::ptrdiff_t>(excess));
    points_.erase(points_.begin(), points_.begin() + static_cast<std::ptrdiff_t>(excess));
    if (index_) index_->remove_below(members_.front().cell);
  }
  return results;
}

std::vector<const Elite*> NoveltyArchive::elites() const {
  std::vector<const Elite*> out;
  out.reserve(members_.size());
  for (const Elite& member : members_) out.push_back(&member);
  return out;
}

const Elite* NoveltyArchive::elite_in_cell(std::int64_t cell) const {
  const auto it = std::lower_bound(members_.begin(), members_.end(), cell,
                                   [](const Elite& e, std::int64_t c) { return e.cell < c; });
  return it != members_.end() && it->cell == cell ? &*it : nullptr;
}

ArchiveStats NoveltyArchive::stats() const {
  std::vector<double> objectives;
  objectives.reserve(members_.size());
  for (const Elite& member : members_) objectives.push_back(member.candidate.objective);
  const metrics::QdMetrics m = metrics::qd_metrics(objectives, 0, options_.qd_offset);
  return {m.num_elites,    m.num_cells, m.coverage, m.qd_score,
          m.norm_qd_score, m.obj_max,   m.obj_mean};
}

void NoveltyArchive::clear() {
  members_.clear();
  points_.clear();
  removed_.clear();
  next_slot_ = 0;
  index_.reset();
}

double NoveltyArchive::elite_distance(const Elite& a, const Elite& b) const {
  const double scale = options_.threshold > 0 ? options_.threshold : 1.0;
  return (point_of(a.candidate) - point_of(b.candidate)).norm() / scale;
}

nlohmann::json NoveltyArchive::describe() const {
  return {{"type", "novelty"},
          {"measure_dim", measure_dim_},
          {"k", options_.k},
          {"threshold", options_.threshold},
          {"local_competition", options_.local_competition},
          {"space", options_.space == NoveltySpace::kEmbedding ? "embedding" : "measures"},
          {"max_size", options_.max_size},
          {"qd_offset", options_.qd_offset}};
}

}  // namespace qdgen::archive
