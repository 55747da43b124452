// The batch engine behind LlamaModel::generate: requests that join a running batch, stream
// their tokens, are cancelled, come from several threads, or throw from their callbacks; each
// request's tokens are those it gets alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

// What the callbacks saw, in the order the batch produced it.
struct Event {
  std::string request;
  std::vector<std::int32_t> tokens;
  bool finished;
  FinishReason finish;
};

class EventLog {
 public:
  TokenStepCallback recorder(const std::string& name, std::function<bool(std::size_t)> go_on = {}) {
    return [this, name, go_on](const TokenStep& step) {
      std::size_t count = 0;
      {
        std::lock_guard lock(mutex_);
        events_.push_back(
            {name, {step.tokens.begin(), step.tokens.end()}, step.finished, step.finish});
        for (const Event& e : events_) count += e.request == name ? e.tokens.size() : 0;
      }
      return go_on ? go_on(count) : true;
    };
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // Index of the first / last event of `name` (events_.size() when none).
  std::size_t first(const std::string& name) const {
    const auto all = events();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].request == name) return i;
    return all.size();
  }
  std::size_t last(const std::string& name) const {
    const auto all = events();
    for (std::size_t i = all.size(); i-- > 0;)
      if (all[i].request == name) return i;
    return all.size();
  }
  // The tokens streamed for `name`, and whether exactly its last event said finished.
  std::vector<std::int32_t> tokens(const std::string& name, FinishReason* finish) const {
    std::vector<std::int32_t> out;
    const auto all = events();
    int finished = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].request != name) continue;
      out.insert(out.end(), all[i].tokens.begin(), all[i].tokens.end());
      if (all[i].finished) {
        ++finished;
        *finish = all[i].finish;
        EXPECT_EQ(i, last(name)) << name << ": an event after the finished one";
      }
    }
    EXPECT_EQ(finished, 1) << name;
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

class BatchEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::small_llama_config();
    model_ =
        LlamaModel::from_tensors(config_, testing::random_llama_weights(config_, 5), {"cpu", 1});
  }
  std::vector<std::int32_t> ids(std::size_t count, std::uint64_t seed) const {
    std::mt19937_64 random(seed);
    std::vector<std::int32_t> out(count);
    for (auto& id : out) id = static_cast<std::int32_t>(random() % config_.vocab_size);
    return out;
  }
  TokenRequest request(std::size_t prompt, std::int64_t max_tokens, std::uint64_t seed) const {
    TokenRequest r;
    r.prompt = ids(prompt, seed);
    r.max_tokens = max_tokens;
    r.sampling = {2.0, 0, 1.0, seed};  // sampled, so a seed mixed up would show
    r.stop_at_eos = false;
    return r;
  }
  std::vector<std::int32_t> alone(TokenRequest r) const {
    r.on_tokens = {};
    return model_->generate(std::span(&r, 1))[0].tokens;
  }
  static GenerationOptions batch_of(std::int64_t size) {
    GenerationOptions options;
    options.max_batch = size;
    return options;
  }

  LlamaConfig config_;
  std::unique_ptr<LlamaModel> model_;
};

TEST_F(BatchEngineTest, ARequestAddedToARunningBatchStreamsBeforeTheOthersFinish) {
  BatchEngine& engine = model_->batch_engine();
  EventLog log;
  std::promise<void> batch_running, added;
  std::vector<TokenRequest> first = {request(5, 40, 1), request(7, 40, 2)};
  first[0].on_tokens = log.recorder("first 0", [&](std::size_t count) {
    if (count == 3) {
      batch_running.set_value();
      added.get_future().wait();  // the batch steps on once the new request is queued
    }
    return true;
  });
  first[1].on_tokens = log.recorder("first 1");
  TokenRequest late = request(4, 6, 3);
  late.on_tokens = log.recorder("late");

  std::vector<TokenResult> late_result;
  std::thread other([&] {
    batch_running.get_future().wait();
    const auto id = engine.submit(std::span(&late, 1), {});
    added.set_value();
    late_result = engine.wait(id);  // sleeps while the main thread drives the batch
  });
  const auto first_id = engine.submit(first, batch_of(4));
  const auto first_results = engine.wait(first_id);
  other.join();

  // The late request's tokens, all of them, arrived while the first call's were still coming.
  EXPECT_LT(log.last("late"), log.last("first 0"));
  EXPECT_LT(log.last("late"), log.last("first 1"));
  EXPECT_GT(log.first("late"), log.first("first 0"));
  FinishReason finish;
  EXPECT_EQ(log.tokens("late", &finish), late_result.at(0).tokens);
  EXPECT_EQ(finish, FinishReason::kLength);
  EXPECT_EQ(late_result[0].tokens, alone(late));
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first_results[i].tokens, alone(first[i])) << i;
    EXPECT_EQ(log.tokens("first " + std::to_string(i), &finish), first_results[i].tokens);
  }
}

TEST_F(BatchEngineTest, ALaterRequestNeedingMoreRoomGrowsTheCache) {
  // The first call's cache holds 2 rows of 3 + 20 - 1 positions; the request added from a
  // callback needs a third row and 40 + 20 - 1 positions. It can outlast the first call: the
  // main thread then waits for it, and drives the batch again.
  BatchEngine& engine = model_->batch_engine();
  std::vector<TokenRequest> first = {request(3, 20, 11), request(3, 20, 12)};
  TokenRequest longer = request(40, 20, 13);
  BatchEngine::CallId longer_id = 0;
  first[0].on_tokens = [&](const TokenStep&) {
    if (longer_id == 0) longer_id = engine.submit(std::span(&longer, 1), {});
    return true;
  };
  const auto first_results = engine.wait(engine.submit(first, batch_of(8)));
  ASSERT_NE(longer_id, 0u);
  GenerationStats stats;
  const auto longer_result = engine.wait(longer_id, &stats);
  EXPECT_EQ(stats.generated_tokens, 20);
  EXPECT_EQ(longer_result[0].tokens, alone(longer));
  for (std::size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(first_results[i].tokens, alone(first[i])) << i;
}

TEST_F(BatchEngineTest, ACancelledRequestFreesItsRowForTheNextAtOnce) {
  // One row: the second request can only start once the first has left.
  EventLog log;
  std::vector<TokenRequest> requests = {request(6, 30, 21), request(5, 8, 22)};
  requests[0].on_tokens = log.recorder("cancelled", [](std::size_t count) { return count < 4; });
  requests[1].on_tokens = log.recorder("next");
  const auto results = model_->generate(requests, batch_of(1));
  EXPECT_EQ(results[0].finish, FinishReason::kCancelled);
  EXPECT_EQ(results[0].tokens.size(), 4u);
  const auto uncancelled = alone(requests[0]);
  EXPECT_EQ(results[0].tokens,
            std::vector<std::int32_t>(uncancelled.begin(), uncancelled.begin() + 4));
  // Its last event (the cancellation, no tokens) is followed at once by the next one's first.
  const auto events = log.events();
  const std::size_t last = log.last("cancelled");
  ASSERT_LT(last + 1, events.size());
  EXPECT_TRUE(events[last].finished);
  EXPECT_TRUE(events[last].tokens.empty());
  EXPECT_EQ(events[last].finish, FinishReason::kCancelled);
  EXPECT_EQ(events[last + 1].request, "next");
  EXPECT_EQ(results[1].tokens, alone(requests[1]));
  EXPECT_EQ(results[1].finish, FinishReason::kLength);
}

TEST_F(BatchEngineTest, CancelFromAnotherRequestFreesTheRowAndSkipsAWaitingOne) {
  BatchEngine& engine = model_->batch_engine();
  EventLog log;
  std::vector<TokenRequest> requests = {request(4, 30, 31), request(6, 12, 32), request(5, 6, 33),
                                        request(3, 6, 34)};
  BatchEngine::CallId id = 0;
  requests[0].on_tokens = log.recorder("a");
  requests[1].on_tokens = log.recorder("b", [&](std::size_t count) {
    if (count == 2) engine.cancel(id, 0);  // a, active beside b
    return true;
  });
  requests[2].on_tokens = log.recorder("c");
  requests[3].on_tokens = log.recorder("d");
  id = engine.submit(requests, batch_of(2));
  engine.cancel(id, 3);  // d, still waiting
  const auto results = engine.wait(id);
  EXPECT_EQ(results[0].finish, FinishReason::kCancelled);
  EXPECT_EQ(results[0].tokens.size(), 2u);  // a took the same steps as b
  EXPECT_EQ(results[3].finish, FinishReason::kCancelled);
  EXPECT_TRUE(results[3].tokens.empty());
  FinishReason finish;
  EXPECT_TRUE(log.tokens("d", &finish).empty());
  EXPECT_EQ(finish, FinishReason::kCancelled);
  // c takes a's row before the next step: its first token comes before b's third.
  const auto events = log.events();
  std::size_t b_tokens = 0;
  for (std::size_t i = 0; i < log.first("c"); ++i) b_tokens += events[i].request == "b";
  EXPECT_EQ(b_tokens, 2u);
  EXPECT_EQ(results[1].tokens, alone(requests[1]));
  EXPECT_EQ(results[2].tokens, alone(requests[2]));
  const std::vector<TokenRequest> one = {request(3, 2, 35)};
  const auto other = engine.submit(one, {});
  try {
    engine.cancel(other, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "cancel: call " + std::to_string(other) + " has 1 requests, not 2");
  }
  engine.wait(other);
}

TEST_F(BatchEngineTest, ConcurrentGenerateCallsEqualSeparateOnes) {
  std::vector<TokenRequest> a, b;
  for (std::uint64_t i = 0; i < 3; ++i) {
    a.push_back(request(3 + i, 10 + 3 * static_cast<std::int64_t>(i), 40 + i));
    b.push_back(request(8 - i, 14 - 2 * static_cast<std::int64_t>(i), 50 + i));
  }
  b.back().sampling.temperature = 0;
  const auto expected_a = model_->generate(a), expected_b = model_->generate(b);
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<TokenResult> got_a, got_b;
    GenerationStats stats_a, stats_b;
    std::atomic<int> ready = 0;
    const auto run = [&](const std::vector<TokenRequest>& requests, std::vector<TokenResult>& out,
                         GenerationStats& stats) {
      ++ready;
      while (ready < 2) std::this_thread::yield();
      out = model_->generate(requests, batch_of(4), &stats);
    };
    std::thread first(run, std::cref(a), std::ref(got_a), std::ref(stats_a));
    std::thread second(run, std::cref(b), std::ref(got_b), std::ref(stats_b));
    first.join();
    second.join();
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(got_a[i].tokens, expected_a[i].tokens) << attempt << " a " << i;
      EXPECT_EQ(got_b[i].tokens, expected_b[i].tokens) << attempt << " b " << i;
    }
    EXPECT_EQ(stats_a.generated_tokens, 10 + 13 + 16);
    EXPECT_EQ(stats_b.generated_tokens, 14 + 12 + 10);
  }
}

TEST_F(BatchEngineTest, ACallbackThatThrowsFailsItsOwnCallOnly) {
  std::vector<TokenRequest> failing = {request(4, 20, 61), request(5, 20, 62)};
  failing[1].on_tokens = [](const TokenStep& step) {
    if (!step.finished) throw std::runtime_error("callback gave up");
    return true;
  };
  BatchEngine& engine = model_->batch_engine();
  const std::vector<TokenRequest> healthy = {request(6, 12, 63)};
  const auto healthy_id = engine.submit(healthy, {});
  const auto failing_id = engine.submit(failing, {});
  try {
    engine.wait(failing_id);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "callback gave up");
  }
  EXPECT_EQ(engine.wait(healthy_id)[0].tokens, alone(healthy[0]));
  // The model goes on: the same request without the failing neighbour.
  EXPECT_EQ(model_->generate(std::span(failing.data(), 1))[0].tokens, alone(failing[0]));
}

TEST_F(BatchEngineTest, ACallbackMayNotCallTheModel) {
  TokenRequest r = request(4, 5, 71);
  r.on_tokens = [&](const TokenStep&) {
    model_->score(std::vector<std::int32_t>{1, 2}, std::vector<std::vector<std::int32_t>>{{3}});
    return true;
  };
  try {
    model_->generate(std::span(&r, 1));
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("token callbacks"), std::string::npos) << e.what();
  }
  BatchEngine& engine = model_->batch_engine();
  std::string from_callback;
  r.on_tokens = [&](const TokenStep&) {
    try {
      engine.step();
    } catch (const std::logic_error& e) {
      from_callback = e.what();
    }
    return true;
  };
  model_->generate(std::span(&r, 1));
  EXPECT_EQ(from_callback, "step: called from a token callback, inside the batch's step");
  try {
    engine.wait(12345);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "wait: no call 12345 (unknown, or waited for already)");
  }
}

TEST_F(BatchEngineTest, StepDrivesTheBatchOnTheCallersThread) {
  BatchEngine& engine = model_->batch_engine();
  const std::vector<TokenRequest> requests = {request(4, 5, 81), request(6, 3, 82)};
  const auto id = engine.submit(requests, {});
  int rounds = 0;
  while (engine.step()) ++rounds;
  // 1 round admits both and decodes their second tokens; the longer needs 5 tokens in all.
  EXPECT_EQ(rounds, 3);
  GenerationStats stats;
  const auto results = engine.wait(id, &stats);
  EXPECT_EQ(stats.decode_steps, 4);
  EXPECT_EQ(results[0].tokens, alone(requests[0]));
  EXPECT_EQ(results[1].tokens, alone(requests[1]));
}

}  // namespace
}  // namespace qdgen::inference
