#pragma once
// Small builders shared by the archive tests.

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "qdgen/archive/archive.hpp"
#include "qdgen/archive/random_draws.hpp"

namespace qdgen::archive::testing {

inline Candidate make_candidate(std::int64_t id, double objective,
                                std::initializer_list<double> measures,
                                std::int64_t iteration = 0) {
  Candidate c;
  c.id = id;
  c.iteration = iteration;
  c.objective = objective;
  c.measures = Eigen::VectorXd(static_cast<Eigen::Index>(measures.size()));
  Eigen::Index i = 0;
  for (double m : measures) c.measures[i++] = m;
  c.solution = Eigen::VectorXd::Constant(2, static_cast<double>(id));
  return c;
}

// A batch of random candidates: objectives in [-1, 1], measures in [-0.2, 1.2]^dim (some
// outside a [0, 1] box, to exercise clipping), objectives rounded to 1/8 to force ties.
inline std::vector<Candidate> random_batch(Rng& rng, std::int64_t first_id, int size, int dim,
                                           std::int64_t iteration = 0) {
  std::vector<Candidate> batch;
  for (int i = 0; i < size; ++i) {
    Candidate c;
    c.id = first_id + i;
    c.iteration = iteration;
    c.objective = std::round((uniform01(rng) * 2.0 - 1.0) * 8.0) / 8.0;
    c.measures = Eigen::VectorXd(dim);
    for (int d = 0; d < dim; ++d) c.measures[d] = -0.2 + 1.4 * uniform01(rng);
    c.solution = Eigen::VectorXd::Constant(3, uniform01(rng));
    batch.push_back(std::move(c));
  }
  return batch;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "qdgen-archive-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace qdgen::archive::testing
