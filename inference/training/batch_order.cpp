#include "batch_order.hpp"

#include <sstream>
#include <stdexcept>

#include "random_words.hpp"

namespace qdgen::inference::training {
namespace {

std::string generator_text(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

}  // namespace

BatchOrder::BatchOrder(std::int64_t windows, std::uint64_t seed) : windows_(windows), rng_(seed) {
  start_epoch();
}

void BatchOrder::start_epoch() {
  epoch_rng_ = generator_text(rng_);
  ++epoch_;
  offset_ = 0;
  permutation_.resize(static_cast<std::size_t>(windows_));
  for (std::int64_t i = 0; i < windows_; ++i) permutation_[static_cast<std::size_t>(i)] = i;
  shuffle_in_place(rng_, permutation_);
}

std::vector<std::int64_t> BatchOrder::next_batch(std::int64_t size) {
  std::vector<std::int64_t> batch;
  batch.reserve(static_cast<std::size_t>(size));
  while (static_cast<std::int64_t>(batch.size()) < size) {
    if (offset_ == windows_) start_epoch();
    batch.push_back(permutation_[static_cast<std::size_t>(offset_++)]);
  }
  return batch;
}

std::string BatchOrder::state() const {
  std::ostringstream out;
  out << windows_ << ' ' << epoch_ << ' ' << offset_ << ' ' << epoch_rng_;
  return out.str();
}

void BatchOrder::restore(const std::string& state) {
  std::istringstream in(state);
  std::int64_t windows = 0, epoch = 0, offset = 0;
  std::mt19937_64 rng;
  in >> windows >> epoch >> offset >> rng;
  if (!in || windows != windows_ || epoch < 0 || offset < 0 || offset > windows_) {
    throw std::runtime_error("the checkpoint's data position does not fit this corpus (" +
                             std::to_string(windows_) + " training windows)");
  }
  rng_ = rng;
  epoch_ = epoch - 1;
  start_epoch();
  offset_ = offset;
}

}  // namespace qdgen::inference::training
