// CMA-ME and CMA-MAE emitters: CMA-ES whose ranking comes from how the archive received
// each sample (Fontaine et al. 2020; Fontaine & Nikolaidis 2023), as pyribs'
// EvolutionStrategyEmitter does.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "qdgen/engine/cma_es.hpp"
#include "qdgen/engine/emitters.hpp"
#include "variation.hpp"

namespace qdgen::engine {

namespace {

// A ranking key per candidate: (stage, value); stage is 0 for one-stage rankers.
using Key = std::pair<double, double>;

Key ranking_key(Ranker ranker, const archive::Candidate& c, const archive::AddResult& r) {
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
  }
  return {0.0, 0.0};
}

class EvolutionStrategyEmitter : public Emitter {
 public:
  explicit EvolutionStrategyEmitter(const EvolutionStrategyOptions& options) : options_(options) {}
  std::string kind() const override { return "cma_es"; }
  int batch_size() const override { return options_.batch_size; }

  // The run's Rng gives one seed per batch; sampling (and the lazy eigendecomposition,
  // the costly part in high dimensions) runs in complete(), in parallel across emitters.
  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    seed_ = context.rng();
    std::vector<archive::Candidate> batch(batch_size());
    for (auto& candidate : batch) candidate.op = "cma_es";
    return batch;
  }

  void complete(std::span<archive::Candidate> batch) override {
    NoiseRng noise(seed_);
    const Eigen::MatrixXd& samples = cma_->ask(noise, bounds_);
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].solution = Eigen::VectorXd(samples.col(static_cast<Eigen::Index>(i)));
  }

  void tell(std::span<const archive::Candidate> evaluated,
            std::span<const archive::AddResult> results, EmitterContext& context) override {
    ++iterations_;
    const int n = static_cast<int>(evaluated.size());
    std::vector<Key> keys(n);
    int added = 0;
    for (int i = 0; i < n; ++i) {
      keys[i] = ranking_key(options_.ranker, evaluated[i], results[i]);
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
      ++restarts_;
    }
  }

  nlohmann::json state() const override {
    nlohmann::json s = {{"iterations", iterations_}, {"restarts", restarts_}};
    if (cma_) s["cma_es"] = cma_->state();
    return s;
  }
  void restore(const nlohmann::json& s) override {
    iterations_ = s.at("iterations").get<std::int64_t>();
    restarts_ = s.at("restarts").get<std::int64_t>();
    if (s.contains("cma_es")) {
      if (!cma_) throw std::runtime_error("cma_es emitter: restore before the domain is known");
      cma_->restore(s.at("cma_es"));
    }
  }
  void bind(const Domain& domain) override {
    ensure_started(domain);
    bounds_ = domain.bounds();
  }

 private:
  void ensure_started(const Domain& domain) {
    if (cma_) return;
    x0_ = initial_solution(options_.x0, domain, kind());
    cma_ = std::make_unique<CmaEs>(static_cast<int>(x0_.size()), options_.sigma0, batch_size());
    cma_->reset(x0_);
  }

  EvolutionStrategyOptions options_;
  Eigen::VectorXd x0_;
  std::optional<SolutionBounds> bounds_;
  std::unique_ptr<CmaEs> cma_;
  std::uint64_t seed_ = 0;  // the last ask's noise seed
  std::int64_t iterations_ = 0;
  std::int64_t restarts_ = 0;
};

}  // namespace

std::unique_ptr<Emitter> make_evolution_strategy_emitter(const EvolutionStrategyOptions& options) {
  return std::make_unique<EvolutionStrategyEmitter>(options);
}

}  // namespace qdgen::engine
