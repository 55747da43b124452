#pragma once
// Which training windows each step sees: every epoch a fresh seeded permutation of all
// windows, consumed batch by batch (a batch may span two epochs). Its state (the position
// and the generator) goes into checkpoints, so a resumed run sees the same batches.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace qdgen::inference::training {

class BatchOrder {
 public:
  BatchOrder(std::int64_t windows, std::uint64_t seed);

  std::vector<std::int64_t> next_batch(std::int64_t size);

  // The position as text (epoch, offset in the epoch, the generator's state before the
  // epoch's permutation) and back; restore() throws on text that is not a state of this
  // corpus.
  std::string state() const;
  void restore(const std::string& state);

 private:
  void start_epoch();

  std::int64_t windows_;
  std::mt19937_64 rng_;
  std::string epoch_rng_;  // rng_ before this epoch's permutation was drawn
  std::int64_t epoch_ = -1;
  std::int64_t offset_ = 0;
  std::vector<std::int64_t> permutation_;
};

}  // namespace qdgen::inference::training
