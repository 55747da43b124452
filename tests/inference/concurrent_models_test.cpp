// Two models in one process (a mutator and a judge, say) each own their threads and kernel
// choice: generating and scoring on both at once, from two threads, gives what each gives alone.
#include <gtest/gtest.h>

#include <latch>
#include <random>
#include <thread>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

struct Workload {
  std::vector<TokenRequest> requests;
  std::vector<std::int32_t> prompt;
  std::vector<std::vector<std::int32_t>> continuations;
};

struct Outcome {
  std::vector<std::vector<std::int32_t>> tokens;
  std::vector<double> scores;
  bool operator==(const Outcome&) const = default;
};

Workload workload_for(const LlamaConfig& c, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  const auto id = [&] { return static_cast<std::int32_t>(random() % c.vocab_size); };
  Workload w;
  for (int i = 0; i < 7; ++i) {
    TokenRequest r;
    for (int t = 0; t < 2 + 3 * i; ++t) r.prompt.push_back(id());
    r.max_tokens = 10 + 2 * i;
    r.stop_at_eos = false;
    // Greedy and seeded sampling both: a sampled row's draws must not depend on the other model.
    r.sampling = i % 2 == 0 ? SamplingSettings{0.0, 0, 1.0, 0}
                            : SamplingSettings{0.9, 0, 0.9, static_cast<std::uint64_t>(i)};
    w.requests.push_back(r);
  }
  for (int t = 0; t < 12; ++t) w.prompt.push_back(id());
  for (int i = 0; i < 9; ++i) w.continuations.push_back({id(), id(), id()});
  return w;
}

Outcome run(LlamaModel& model, const Workload& w) {
  GenerationOptions options;
  options.max_batch = 3;  // rows leave and join while the other model runs
  Outcome outcome;
  for (const TokenResult& result : model.generate(w.requests, options))
    outcome.tokens.push_back(result.tokens);
  outcome.scores = model.score(w.prompt, w.continuations);
  return outcome;
}

TEST(ConcurrentModels, TwoModelsOfDifferentShapesAndThreadsGiveWhatEachGivesAlone) {
  const LlamaConfig small = testing::small_llama_config();  // grouped-query attention
  LlamaConfig other = testing::small_llama_config();
  other.hidden_size = 96;
  other.intermediate_size = 256;
  other.num_hidden_layers = 3;
  other.num_attention_heads = other.num_key_value_heads = 6;
  other.vocab_size = 128;
  other.max_position_embeddings = 96;
  other.tie_word_embeddings = true;

  ModelOptions two_threads{"cpu", 2};
  ModelOptions one_thread{"cpu", 1};
  one_thread.cpu_kernels = "portable";
  const auto a =
      LlamaModel::from_tensors(small, testing::random_llama_weights(small, 7), two_threads);
  const auto b =
      LlamaModel::from_tensors(other, testing::random_llama_weights(other, 8), one_thread);
  const Workload work_a = workload_for(small, 1), work_b = workload_for(other, 2);
  const Outcome alone_a = run(*a, work_a), alone_b = run(*b, work_b);

  constexpr int kRounds = 4;
  std::vector<Outcome> together_a(kRounds), together_b(kRounds);
  std::latch start(2);
  std::thread thread_a([&] {
    start.arrive_and_wait();
    for (Outcome& outcome : together_a) outcome = run(*a, work_a);
  });
  std::thread thread_b([&] {
    start.arrive_and_wait();
    for (Outcome& outcome : together_b) outcome = run(*b, work_b);
  });
  thread_a.join();
  thread_b.join();
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_EQ(together_a[round], alone_a) << "model a, round " << round;
    EXPECT_EQ(together_b[round], alone_b) << "model b, round " << round;
  }
}

}  // namespace
}  // namespace qdgen::inference
