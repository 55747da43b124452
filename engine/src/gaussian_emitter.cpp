#include "qdgen/engine/emitters.hpp"
#include "variation.hpp"

namespace qdgen::engine {

namespace {

class GaussianEmitter : public Emitter {
 public:
  explicit GaussianEmitter(const GaussianOptions& options) : options_(options) {}
  std::string kind() const override { return "gaussian"; }
  int batch_size() const override { return options_.batch_size; }

  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    const Eigen::VectorXd x0 = initial_solution(options_.x0, context.domain, kind());
    const auto bounds = context.domain.bounds();
    const auto parents = context.archive.sample_uniform(batch_size(), context.rng);
    std::vector<archive::Candidate> batch(batch_size());
    Eigen::VectorXd noise(x0.size());
    for (int i = 0; i < batch_size(); ++i) {
      fill_standard_normal(context.rng, std::span<double>(noise.data(), noise.size()));
      Eigen::VectorXd x = parents.empty()
                              ? Eigen::VectorXd(x0 + options_.sigma * noise)
                              : Eigen::VectorXd(numeric_solution(parents[i]->candidate, kind()) +
                                                options_.sigma * noise);
      clip_to_bounds(x, bounds);
      batch[i].solution = std::move(x);
      if (!parents.empty()) batch[i].parents = {parents[i]->candidate.id};
      batch[i].op = "gaussian";
    }
    return batch;
  }
  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
  GaussianOptions options_;
};

class IsoLineEmitter : public Emitter {
 public:
  explicit IsoLineEmitter(const IsoLineOptions& options) : options_(options) {}
  std::string kind() const override { return "iso_line"; }
  int batch_size() const override { return options_.batch_size; }

  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    const Eigen::VectorXd x0 = initial_solution(options_.x0, context.domain, kind());
    const auto bounds = context.domain.bounds();
    const auto first = context.archive.sample_uniform(batch_size(), context.rng);
    const auto second = context.archive.sample_uniform(batch_size(), context.rng);
    std::vector<archive::Candidate> batch(batch_size());
    Eigen::VectorXd noise(x0.size());
    for (int i = 0; i < batch_size(); ++i) {
      fill_standard_normal(context.rng, std::span<double>(noise.data(), noise.size()));
      Eigen::VectorXd x;
      if (first.empty()) {
        x = x0 + options_.iso_sigma * noise;
      } else {
        const Eigen::VectorXd& a = numeric_solution(first[i]->candidate, kind());
        const Eigen::VectorXd& b = numeric_solution(second[i]->candidate, kind());
        x = a + options_.iso_sigma * noise +
            options_.line_sigma * standard_normal(context.rng) * (b - a);
        batch[i].parents = {first[i]->candidate.id, second[i]->candidate.id};
      }
      clip_to_bounds(x, bounds);
      batch[i].solution = std::move(x);
      batch[i].op = "iso_line";
    }
    return batch;
  }
  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
  IsoLineOptions options_;
};

}  // namespace

std::unique_ptr<Emitter> make_gaussian_emitter(const GaussianOptions& options) {
  return std::make_unique<GaussianEmitter>(options);
}
std::unique_ptr<Emitter> make_iso_line_emitter(const IsoLineOptions& options) {
  return std::make_unique<IsoLineEmitter>(options);
}

}  // namespace qdgen::engine
