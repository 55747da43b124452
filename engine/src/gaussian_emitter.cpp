#include "emitter_spec_readers.hpp"
#include "qdgen/engine/emitters.hpp"
#include "variation.hpp"

namespace qdgen::engine {

namespace {

// ask() picks the parents and one noise seed per candidate from the run's Rng; complete()
// draws the noise on a pool thread, so the run's Rng never waits on normal sampling.
class GaussianEmitter : public Emitter {
 public:
  explicit GaussianEmitter(const GaussianOptions& options) : options_(options) {}
  std::string kind() const override { return "gaussian"; }
  int batch_size() const override { return options_.batch_size; }
  void bind(const Domain& domain) override {
    x0_ = initial_solution(options_.x0, domain, kind());
    bounds_ = domain.bounds();
  }

  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    const auto parents = context.sample_uniform(batch_size());
    std::vector<archive::Candidate> batch(batch_size());
    parent_solutions_.resize(batch_size());
    seeds_.resize(batch_size());
    parent_ids_.assign(batch_size(), -1);
    for (int i = 0; i < batch_size(); ++i) {
      if (parents.empty()) {
        parent_solutions_[i] = &x0_;
      } else {
        parent_solutions_[i] = &numeric_solution(parents[i]->candidate, kind());
        parent_ids_[i] = parents[i]->candidate.id;
      }
      seeds_[i] = context.rng();
      batch[i].op = "gaussian";
    }
    return batch;
  }

  void complete(std::span<archive::Candidate> batch) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      prefetch(*parent_solutions_[i]);
      NoiseRng noise(seeds_[i]);
      Eigen::VectorXd& x = solution_buffer(batch[i], x0_.size());
      fill_standard_normal(noise, std::span<double>(x.data(), x.size()));
      x = *parent_solutions_[i] + options_.sigma * x;
      clip_to_bounds(x, bounds_);
      if (parent_ids_[i] >= 0) batch[i].parents.assign(1, parent_ids_[i]);
    }
  }

  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
  GaussianOptions options_;
  Eigen::VectorXd x0_;
  std::optional<SolutionBounds> bounds_;
  // What the last ask drew; the parents stay valid until the archive next changes.
  std::vector<const Eigen::VectorXd*> parent_solutions_;
  std::vector<std::int64_t> parent_ids_;  // -1: none (x0 while the archive is empty)
  std::vector<std::uint64_t> seeds_;
};

class IsoLineEmitter : public Emitter {
 public:
  explicit IsoLineEmitter(const IsoLineOptions& options) : options_(options) {}
  std::string kind() const override { return "iso_line"; }
  int batch_size() const override { return options_.batch_size; }
  void bind(const Domain& domain) override {
    x0_ = initial_solution(options_.x0, domain, kind());
    bounds_ = domain.bounds();
  }

  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    const auto first = context.sample_uniform(batch_size());
    const auto second = context.sample_uniform(batch_size());
    std::vector<archive::Candidate> batch(batch_size());
    pairs_.assign(batch_size(), {&x0_, nullptr});
    seeds_.resize(batch_size());
    for (int i = 0; i < batch_size(); ++i) {
      if (!first.empty()) {
        pairs_[i] = {&numeric_solution(first[i]->candidate, kind()),
                     &numeric_solution(second[i]->candidate, kind())};
        batch[i].parents = {first[i]->candidate.id, second[i]->candidate.id};
      }
      seeds_[i] = context.rng();
      batch[i].op = "iso_line";
    }
    return batch;
  }

  void complete(std::span<archive::Candidate> batch) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto [a, b] = pairs_[i];
      prefetch(*a);
      if (b != nullptr) prefetch(*b);
      NoiseRng noise(seeds_[i]);
      Eigen::VectorXd& x = solution_buffer(batch[i], x0_.size());
      fill_standard_normal(noise, std::span<double>(x.data(), x.size()));
      if (b == nullptr)
        x = *a + options_.iso_sigma * x;
      else
        x = *a + options_.iso_sigma * x + options_.line_sigma * standard_normal(noise) * (*b - *a);
      clip_to_bounds(x, bounds_);
    }
  }

  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
  IsoLineOptions options_;
  Eigen::VectorXd x0_;
  std::optional<SolutionBounds> bounds_;
  // The two parents of each candidate of the last ask (second null: x0 while empty).
  std::vector<std::pair<const Eigen::VectorXd*, const Eigen::VectorXd*>> pairs_;
  std::vector<std::uint64_t> seeds_;
};

}  // namespace

std::unique_ptr<Emitter> make_gaussian_emitter(const GaussianOptions& options) {
  return std::make_unique<GaussianEmitter>(options);
}
std::unique_ptr<Emitter> make_iso_line_emitter(const IsoLineOptions& options) {
  return std::make_unique<IsoLineEmitter>(options);
}

EmitterKinds::Kind gaussian_emitter_kind() {
  return {"gaussian",
          [](common::JsonReader& group,
             const EmitterParseContext& context) -> std::unique_ptr<EmitterSpec> {
            GaussianOptions options;
            options.batch_size = read_batch(group, 1, 36);
            options.x0 = read_x0(group, context.domain);
            options.sigma = group.positive_number("sigma");
            return std::make_unique<EmitterSpecOf<GaussianOptions>>("gaussian", options,
                                                                    make_gaussian_emitter);
          }};
}

EmitterKinds::Kind iso_line_emitter_kind() {
  return {"iso_line",
          [](common::JsonReader& group,
             const EmitterParseContext& context) -> std::unique_ptr<EmitterSpec> {
            IsoLineOptions options;
            options.batch_size = read_batch(group, 1, 36);
            options.x0 = read_x0(group, context.domain);
            options.iso_sigma = group.positive_number("iso_sigma", 0.01);
            options.line_sigma = group.positive_number("line_sigma", 0.2);
            return std::make_unique<EmitterSpecOf<IsoLineOptions>>("iso_line", options,
                                                                   make_iso_line_emitter);
          }};
}

}  // namespace qdgen::engine
