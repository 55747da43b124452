// CMA-ME and CMA-MAE emitters: CMA-ES whose ranking comes from how the archive received
// each sample (Fontaine et al. 2020; Fontaine & Nikolaidis 2023), as pyribs'
// EvolutionStrategyEmitter does.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "emitter_spec_readers.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/engine/cma_es.hpp"
#include "qdgen/engine/emitters.hpp"
#include "state_codec.hpp"
#include "variation.hpp"

namespace qdgen::engine {

namespace {

// A ranking key per candidate: (stage, value); stage is 0 for one-stage rankers.
using Key = std::pair<double, double>;

// `direction`: the random-direction rankers' target (empty for the others).
Key ranking_key(Ranker ranker, const archive::Candidate& c, const archive::AddResult& r,
                const Eigen::VectorXd& direction) {
  const double status = static_cast<double>(static_cast<int>(r.status));
  switch (ranker) {
    case Ranker::kImprovement:
      return {0.0, r.value};
    case Ranker::kTwoStageImprovement:
      return {status, r.value};
    case Ranker::kObjective:
      return {0.0, c.objective};
    case Ranker::kTwoStageObjective:
      return {status, c.objective};
    case Ranker::kRandomDirection:
      return {0.0, c.measures.dot(direction)};
    case Ranker::kTwoStageRandomDirection:
      return {status, c.measures.dot(direction)};
  }
  return {0.0, 0.0};
}

// Width of each measure's range: the grid's outer edges.
Eigen::VectorXd measure_ranges(const archive::Archive& archive) {
  const auto* grid = dynamic_cast<const archive::GridArchive*>(&archive);
  if (grid == nullptr)
    throw std::runtime_error("cma_es emitter: rankers 'rd' and '2rd' need a grid archive");
  Eigen::VectorXd ranges(static_cast<Eigen::Index>(grid->dims().size()));
  for (std::size_t d = 0; d < grid->dims().size(); ++d)
    ranges[static_cast<Eigen::Index>(d)] =
        grid->dims()[d].edges.back() - grid->dims()[d].edges.front();
  return ranges;
}

class EvolutionStrategyEmitter : public Emitter {
 public:
  explicit EvolutionStrategyEmitter(const EvolutionStrategyOptions& options) : options_(options) {}
  std::string kind() const override { return "cma_es"; }
  int batch_size() const override { return options_.batch_size; }

  // The run's Rng gives one seed per batch; sampling (and the lazy eigendecomposition,
  // the costly part in high dimensions) runs in complete(), in parallel across emitters.
  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    if (ranks_by_random_direction(options_.ranker) && direction_.size() == 0)
      draw_direction(context);
    seed_ = context.rng();
    std::vector<archive::Candidate> batch(batch_size());
    for (auto& candidate : batch) candidate.op = "cma_es";
    return batch;
  }

  void complete(std::span<archive::Candidate> batch) override {
    NoiseRng noise(seed_);
    const Eigen::MatrixXd& samples = cma_->ask(noise, bounds_);
    for (std::size_t i = 0; i < batch.size(); ++i)
      solution_buffer(batch[i], samples.rows()) = samples.col(static_cast<Eigen::Index>(i));
  }

  void tell(std::span<const archive::Candidate> evaluated,
            std::span<const archive::AddResult> results, EmitterContext& context) override {
    ++iterations_;
    const int n = static_cast<int>(evaluated.size());
    std::vector<Key> keys(n);
    int added = 0;
    for (int i = 0; i < n; ++i) {
      keys[i] = ranking_key(options_.ranker, evaluated[i], results[i], direction_);
      if (results[i].status != archive::AddStatus::kNotAdded) ++added;
    }
    // Descending by key; ties keep the later sample first, as numpy's flipped lexsort.
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return keys[a] < keys[b]; });
    std::reverse(order.begin(), order.end());

    const int parents = options_.selection == SelectionRule::kFilter ? added : batch_size() / 2;
    cma_->tell(order, parents);

    const Key& best = keys[order.front()];
    const Key& worst = keys[order.back()];
    const double spread = std::hypot(best.first - worst.first, best.second - worst.second);
    const bool restart_rule =
        (options_.restart_on_no_improvement && added == 0) ||
        (options_.restart_every_n > 0 && iterations_ % options_.restart_every_n == 0);
    if (cma_->should_stop(spread) || restart_rule) {
      const auto elite = context.sample_uniform(1);
      cma_->reset(elite.empty() ? x0_ : numeric_solution(elite.front()->candidate, kind()));
      if (ranks_by_random_direction(options_.ranker)) draw_direction(context);
      ++restarts_;
    }
  }

  nlohmann::json state() const override {
    nlohmann::json s = {{"iterations", iterations_}, {"restarts", restarts_}};
    if (cma_) s["cma_es"] = cma_->state();
    if (direction_.size() > 0) s["direction"] = encode_matrix(direction_);
    return s;
  }
  void restore(const nlohmann::json& s) override {
    iterations_ = s.at("iterations").get<std::int64_t>();
    restarts_ = s.at("restarts").get<std::int64_t>();
    if (s.contains("cma_es")) {
      if (!cma_) throw std::runtime_error("cma_es emitter: restore before the domain is known");
      cma_->restore(s.at("cma_es"));
    }
    direction_.resize(0);
    if (s.contains("direction")) decode_matrix(s.at("direction"), direction_, measure_dim_, 1);
  }
  void bind(const Domain& domain) override {
    ensure_started(domain);
    measure_dim_ = domain.measure_dim();
    bounds_ = domain.bounds();
  }

 private:
  void ensure_started(const Domain& domain) {
    if (cma_) return;
    x0_ = initial_solution(options_.x0, domain, kind());
    cma_ = std::make_unique<CmaEs>(static_cast<int>(x0_.size()), options_.sigma0, batch_size(),
                                   options_.rank_one);
    cma_->reset(x0_);
  }

  EvolutionStrategyOptions options_;
  Eigen::VectorXd x0_;
  std::optional<SolutionBounds> bounds_;
  std::unique_ptr<CmaEs> cma_;
  std::uint64_t seed_ = 0;  // the last ask's noise seed
  std::int64_t iterations_ = 0;
  std::int64_t restarts_ = 0;
  Eigen::VectorXd direction_;  // rd / 2rd: the target direction in measure space
  int measure_dim_ = 0;

  // pyribs' RandomDirectionRanker.reset: N(0, I) scaled by the measure ranges.
  void draw_direction(EmitterContext& context) {
    const Eigen::VectorXd ranges = measure_ranges(context.archive);
    NoiseRng noise(context.rng());
    direction_.resize(ranges.size());
    for (Eigen::Index d = 0; d < ranges.size(); ++d)
      direction_[d] = standard_normal(noise) * ranges[d];
  }
};

}  // namespace

std::unique_ptr<Emitter> make_evolution_strategy_emitter(const EvolutionStrategyOptions& options) {
  return std::make_unique<EvolutionStrategyEmitter>(options);
}

namespace {

constexpr std::int64_t kMaxRestartEvery = 1'000'000'000;

Ranker read_ranker(common::JsonReader& group, const archive::ArchiveSpec& archive) {
  const std::string name =
      group.choice("ranker", {"imp", "2imp", "obj", "2obj", "rd", "2rd"}, "2imp");
  const Ranker ranker = name == "imp"    ? Ranker::kImprovement
                        : name == "2imp" ? Ranker::kTwoStageImprovement
                        : name == "obj"  ? Ranker::kObjective
                        : name == "2obj" ? Ranker::kTwoStageObjective
                        : name == "rd"   ? Ranker::kRandomDirection
                                         : Ranker::kTwoStageRandomDirection;
  if (ranks_by_random_direction(ranker) && archive.type() != "grid")
    group.fail("ranker",
               "'rd' and '2rd' project measures on a direction scaled by the measure ranges, "
               "which only a grid archive has; archive.type is \"" +
                   archive.type() + "\"");
  return ranker;
}

// "restart": "basic", "no_improvement" or every n iterations.
void read_restart(common::JsonReader& group, EvolutionStrategyOptions& options) {
  options.restart_on_no_improvement = false;
  const auto restart = group.optional("restart");
  if (restart && restart->json().is_number_integer()) {
    options.restart_every_n = static_cast<int>(restart->integer(1, kMaxRestartEvery));
    return;
  }
  if (restart && !restart->json().is_string())
    restart->expected("\"basic\", \"no_improvement\" or an integer in [1, " +
                      std::to_string(kMaxRestartEvery) + "]");
  options.restart_on_no_improvement =
      group.choice("restart", {"basic", "no_improvement"}, "no_improvement") == "no_improvement";
}

}  // namespace

EmitterKinds::Kind cma_es_emitter_kind() {
  return {"cma_es",
          [](common::JsonReader& group,
             const EmitterParseContext& context) -> std::unique_ptr<EmitterSpec> {
            EvolutionStrategyOptions options;
            options.batch_size = read_batch(group, 2, 36);
            options.x0 = read_x0(group, context.domain);
            options.sigma0 = group.positive_number("sigma0");
            options.ranker = read_ranker(group, context.archive);
            options.selection = group.choice("selection", {"mu", "filter"}, "filter") == "mu"
                                    ? SelectionRule::kMu
                                    : SelectionRule::kFilter;
            read_restart(group, options);
            options.rank_one = group.choice("rank_one", {"hansen", "pyribs"}, "hansen") == "pyribs"
                                   ? RankOneUpdate::kPyribs
                                   : RankOneUpdate::kHansen;
            return std::make_unique<EmitterSpecOf<EvolutionStrategyOptions>>(
                "cma_es", options, make_evolution_strategy_emitter);
          }};
}

}  // namespace qdgen::engine
