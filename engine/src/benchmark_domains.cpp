#include "qdgen/engine/benchmark_domains.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "qdgen/engine/domain_spec.hpp"

namespace qdgen::engine {

namespace {

constexpr double kBound = 5.12;
constexpr double kShift = 0.4 * kBound;

const Eigen::VectorXd& numeric(const archive::Solution& solution, const std::string& domain) {
  const auto* vector = std::get_if<Eigen::VectorXd>(&solution);
  if (vector == nullptr)
    throw std::runtime_error("domain '" + domain + "' evaluates numeric vectors, got a text");
  return *vector;
}

// Sums of each half of x, with coordinates beyond +-5.12 folded back as 5.12 / x_i so
// that the measures stay bounded (Fontaine et al. 2020, as in pyribs). Branch-free, so
// Eigen vectorises it: late in a run many coordinates sit beyond the bound.
Eigen::VectorXd half_sum_measures(const Eigen::VectorXd& x) {
  const Eigen::Index half = x.size() / 2;
  const auto folded = (x.array().abs() > kBound).select(kBound / x.array(), x.array());
  Eigen::VectorXd measures(2);
  measures << folded.head(half).sum(), folded.tail(x.size() - half).sum();
  return measures;
}

class ShiftedBenchmark : public Domain {
 public:
  ShiftedBenchmark(std::string name, int dim, bool rastrigin)
      : name_(std::move(name)), dim_(dim), rastrigin_(rastrigin) {
    if (dim < 2) throw std::runtime_error(name_ + ": dim must be at least 2");
    worst_ = raw(Eigen::VectorXd::Constant(dim, -kBound));
  }
  std::string name() const override { return name_; }
  int solution_dim() const override { return dim_; }
  int measure_dim() const override { return 2; }

  Evaluation evaluate(const archive::Solution& solution) const override {
    const Eigen::VectorXd& x = numeric(solution, name_);
    if (x.size() != dim_)
      throw std::runtime_error(name_ + ": expected a solution of " + std::to_string(dim_) +
                               " values, got " + std::to_string(x.size()));
    Evaluation result;
    result.objective = (raw(x) - worst_) / (0.0 - worst_) * 100.0;
    result.measures = half_sum_measures(x);
    return result;
  }

 private:
  double raw(const Eigen::VectorXd& x) const {
    const auto shifted = (x.array() - kShift);
    if (!rastrigin_) return shifted.square().sum();
    return 10.0 * static_cast<double>(dim_) +
           (shifted.square() - 10.0 * (2.0 * std::numbers::pi * shifted).cos()).sum();
  }

  std::string name_;
  int dim_;
  bool rastrigin_;
  double worst_ = 0.0;
};

class PlanarArm : public Domain {
 public:
  PlanarArm(int joints, bool clip) : joints_(joints), clip_(clip) {
    if (joints < 1) throw std::runtime_error("arm: joints must be at least 1");
  }
  std::string name() const override { return "arm"; }
  int solution_dim() const override { return joints_; }
  int measure_dim() const override { return 2; }
  std::optional<SolutionBounds> bounds() const override {
    if (!clip_) return std::nullopt;
    return SolutionBounds{Eigen::VectorXd::Constant(joints_, -std::numbers::pi),
                          Eigen::VectorXd::Constant(joints_, std::numbers::pi)};
  }

  Evaluation evaluate(const archive::Solution& solution) const override {
    const Eigen::VectorXd& theta = numeric(solution, "arm");
    if (theta.size() != joints_)
      throw std::runtime_error("arm: expected " + std::to_string(joints_) + " joint angles, got " +
                               std::to_string(theta.size()));
    Evaluation result;
    // pyribs' arm objective: minus the population variance of the angles (numpy's var), in
    // [-pi^2, 0] for angles in [-pi, pi]; the shipped configs count QD score from -pi^2.
    result.objective = -(theta.array() - theta.mean()).square().mean();
    double angle = 0.0;
    Eigen::Vector2d tip = Eigen::Vector2d::Zero();
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
      angle += theta[i];  // links of length 1, each turned relative to the previous one
      tip += Eigen::Vector2d(std::cos(angle), std::sin(angle));
    }
    result.measures = tip;
    return result;
  }

 private:
  int joints_;
  bool clip_;
};

}  // namespace

std::unique_ptr<Domain> make_sphere_domain(int dim) {
  return std::make_unique<ShiftedBenchmark>("sphere", dim, false);
}
std::unique_ptr<Domain> make_rastrigin_domain(int dim) {
  return std::make_unique<ShiftedBenchmark>("rastrigin", dim, true);
}
std::unique_ptr<Domain> make_arm_domain(int joints, bool clip_angles) {
  return std::make_unique<PlanarArm>(joints, clip_angles);
}
double sphere_measure_bound(int dim) {
  return dim / 2.0 * kBound;
}

namespace {

constexpr std::int64_t kMaxSolutionDim = 1'000'000;

struct ShiftedBenchmarkSpec final : DomainSpec {
  std::string name;
  int dim = 0;
  std::string kind() const override { return name; }
  int solution_dim() const override { return dim; }
  int measure_dim() const override { return 2; }
  std::unique_ptr<Domain> build() const override {
    return std::make_unique<ShiftedBenchmark>(name, dim, name == "rastrigin");
  }
};

struct PlanarArmSpec final : DomainSpec {
  int joints = 0;
  bool clip_angles = true;
  std::string kind() const override { return "arm"; }
  int solution_dim() const override { return joints; }
  int measure_dim() const override { return 2; }
  std::unique_ptr<Domain> build() const override {
    return std::make_unique<PlanarArm>(joints, clip_angles);
  }
};

DomainKinds::Kind shifted_benchmark_kind(const std::string& name) {
  return {name, [name](common::JsonReader& section) -> std::unique_ptr<DomainSpec> {
            auto spec = std::make_unique<ShiftedBenchmarkSpec>();
            spec->name = name;
            spec->dim = static_cast<int>(section.integer("dim", 2, kMaxSolutionDim));
            return spec;
          }};
}

}  // namespace

DomainKinds::Kind sphere_domain_kind() {
  return shifted_benchmark_kind("sphere");
}
DomainKinds::Kind rastrigin_domain_kind() {
  return shifted_benchmark_kind("rastrigin");
}
DomainKinds::Kind arm_domain_kind() {
  return {"arm", [](common::JsonReader& section) -> std::unique_ptr<DomainSpec> {
            auto spec = std::make_unique<PlanarArmSpec>();
            spec->joints = static_cast<int>(section.integer("joints", 1, kMaxSolutionDim));
            spec->clip_angles = section.boolean("clip_angles", true);
            return spec;
          }};
}

}  // namespace qdgen::engine
