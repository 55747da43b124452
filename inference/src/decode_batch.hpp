#pragma once
// The state of the continuous batch, driven by one thread at a time (the engine's driver):
// requests waiting in order, the active rows (row r holds its KV in slot r of the one cache),
// and the rounds that move them: admit what fits, decode one token for every row, retire what
// ended.
//
// Admission. Waiting requests join in order (the first that cannot join holds back the rest)
// while the batch has fewer rows than the request's max_batch; those joining together run
// their prompts in one padded pass (padded_block.hpp). A request joins the pass of those before
// it while the padded block fits the cache and the padding rule allows it.
//
// The cache. It is made for what waits when the batch starts, with a slot for each request up
// to the largest max_batch and room for the longest request (prompt + max_tokens - 1,
// within the context), and released when the batch empties; a single generate() call therefore
// allocates what it needs once. When a request arrives that needs a slot or more positions than
// the cache has, the cache grows before it joins: to at least twice its slots (up to what the
// waiting and active requests can use) or positions (up to the context), and the active rows'
// KV is copied over; then the request joins. It never shrinks while rows are active.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "generation_call.hpp"
#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "sampler.hpp"

namespace qdgen::inference {

class DecodeBatch {
 public:
  DecodeBatch(const LlamaRuntime& runtime, PrefixCache& kept);

  // Queues every request of `call` that has tokens to generate, in order.
  void enqueue(GenerationCall& call);
  // Ends the request with kCancelled: a waiting one leaves the queue, an active one its row
  // (the last row moves into its slot). Nothing when it has ended.
  void cancel(GenerationCall& call, std::size_t index);
  // Admits what fits, then decodes one token for every row and retires what ended. A model
  // failure ends every request of the calls whose rows the round was running, with the error.
  void round();

  bool empty() const { return waiting_.empty() && active_.empty(); }
  // Calls whose last request ended since the last take.
  std::vector<GenerationCall*> take_ended_calls();

 private:
  struct Waiting {
    GenerationCall* call;
    std::size_t index;
  };
  struct Row {
    GenerationCall* call;
    std::size_t index;
    Sampler sampler;
    std::int64_t length = 0;  // positions held in its slot
    TokenResult result;
    bool ended = false;
  };
  struct Joining {
    Waiting request;
    std::int64_t start;  // positions of its prompt already in its slot (a reused prefix)
  };

  void admit();
  void make_room(const Waiting& front);
  void gather_group();
  void run_group();
  void decode_step();
  void append(Row& row, std::int32_t token);
  bool tell(GenerationCall& call, std::size_t index, std::span<const std::int32_t> tokens,
            bool finished, FinishReason finish);
  void end_request(GenerationCall& call, std::size_t index, TokenResult result);
  void retire_ended();
  void fail_running(std::exception_ptr error, bool admitting);

  const LlamaRuntime& runtime_;
  PrefixCache& kept_;
  std::deque<Waiting> waiting_;
  std::vector<Row> active_;
  std::vector<Joining> group_;  // the requests joining in the next prompt pass
  std::size_t group_done_ = 0;  // how many of them the running pass has placed
  std::optional<KvCache> cache_;
  std::uint64_t step_ = 0;
  bool some_call_failed_ = false;
  std::vector<GenerationCall*> ended_calls_;
};

}  // namespace qdgen::inference
