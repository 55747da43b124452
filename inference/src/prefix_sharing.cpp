#include "prefix_sharing.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "token_rows.hpp"

namespace qdgen::inference {
namespace {

// In lexicographic order, a prompt's longest common prefix with any other prompt of the set is
// the longer of its common prefixes with its two neighbours.
void longest_shared_prefixes(std::span<const std::vector<std::int32_t>> prompts,
                             std::vector<std::size_t> members, std::vector<std::size_t>& lengths) {
  std::sort(members.begin(), members.end(),
            [&](std::size_t a, std::size_t b) { return prompts[a] < prompts[b]; });
  const auto common = [&](std::size_t a, std::size_t b) {
    const auto& x = prompts[a];
    const auto& y = prompts[b];
    return static_cast<std::size_t>(
        std::mismatch(x.begin(), x.begin() + std::min(x.size(), y.size()), y.begin()).first -
        x.begin());
  };
  for (std::size_t i = 0; i + 1 < members.size(); ++i) {
    const std::size_t shared = common(members[i], members[i + 1]);
    lengths[members[i]] = std::max(lengths[members[i]], shared);
    lengths[members[i + 1]] = std::max(lengths[members[i + 1]], shared);
  }
}

// Across mixtures: prompts whose mixtures leave their first positions to the base model
// ("activated" ones, and the base model's own) share those positions, up to the first where
// either mixture applies. In lexicographic order the common prefix with prompts further away
// only shrinks, so each prompt looks outwards until it cannot do better.
void shared_base_prefixes(std::span<const std::vector<std::int32_t>> prompts,
                          std::span<const LoraMixture> mixtures,
                          std::vector<std::size_t>& lengths) {
  std::vector<std::size_t> members;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (first_differing_position(mixtures[i], {}) > 0) members.push_back(i);
  }
  if (members.size() < 2) return;
  std::sort(members.begin(), members.end(),
            [&](std::size_t a, std::size_t b) { return prompts[a] < prompts[b]; });
  std::vector<std::size_t> neighbours(members.size(), 0);  // common prefix of k and k + 1
  for (std::size_t k = 0; k + 1 < members.size(); ++k) {
    const auto& x = prompts[members[k]];
    const auto& y = prompts[members[k + 1]];
    neighbours[k] = static_cast<std::size_t>(
        std::mismatch(x.begin(), x.begin() + std::min(x.size(), y.size()), y.begin()).first -
        x.begin());
  }
  const auto base_positions = [&](std::size_t i) {
    return static_cast<std::size_t>(first_differing_position(mixtures[i], {}));
  };
  for (std::size_t k = 0; k < members.size(); ++k) {
    const std::size_t own = base_positions(members[k]);
    std::size_t best = 0;
    const auto look = [&](std::size_t other, std::size_t common) {
      best = std::max(best, std::min({common, own, base_positions(other)}));
    };
    std::size_t common = std::numeric_limits<std::size_t>::max();
    for (std::size_t j = k; j > 0 && common > best && best < own; --j) {
      common = std::min(common, neighbours[j - 1]);
      look(members[j - 1], common);
    }
    common = std::numeric_limits<std::size_t>::max();
    for (std::size_t j = k + 1; j < members.size() && common > best && best < own; ++j) {
      common = std::min(common, neighbours[j - 1]);
      look(members[j], common);
    }
    lengths[members[k]] = std::max(lengths[members[k]], best);
  }
}

}  // namespace

std::vector<std::size_t> shared_prefix_lengths(std::span<const std::vector<std::int32_t>> prompts,
                                               std::span<const LoraMixture> mixtures,
                                               std::size_t min_length) {
  // One set per distinct mixture (calls carry few).
  std::vector<std::size_t> lengths(prompts.size(), 0);
  std::vector<bool> placed(prompts.size(), false);
  for (std::size_t first = 0; first < prompts.size(); ++first) {
    if (placed[first]) continue;
    std::vector<std::size_t> members;
    for (std::size_t i = first; i < prompts.size(); ++i) {
      if (!placed[i] && mixtures[i] == mixtures[first]) {
        members.push_back(i);
        placed[i] = true;
      }
    }
    longest_shared_prefixes(prompts, std::move(members), lengths);
  }
  shared_base_prefixes(prompts, mixtures, lengths);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const std::size_t cap = prompts[i].empty() ? 0 : prompts[i].size() - 1;
    lengths[i] = std::min(lengths[i], cap);
    if (lengths[i] < min_length) lengths[i] = 0;
  }
  return lengths;
}

PrefixSources::PrefixSources(const LlamaRuntime& runtime, PrefixCache& kept, PrefixCache& call)
    : runtime_(runtime), kept_(kept), call_(call) {}

std::pair<PrefixCache*, PrefixCache::Hit> PrefixSources::best_hit(
    std::span<const std::int32_t> tokens, const LoraMixture& mixture, std::int64_t max_length) {
  const PrefixCache::Hit a = kept_.find(tokens, mixture, max_length);
  const PrefixCache::Hit b = call_.find(tokens, mixture, max_length);
  return b.length > a.length ? std::pair{&call_, b} : std::pair{&kept_, a};
}

PrefixSources::Work PrefixSources::ensure(std::span<const std::int32_t> prefix,
                                          const LoraMixture& request_mixture) {
  const auto length = static_cast<std::int64_t>(prefix.size());
  // A prefix that an activated mixture leaves to the base model is the base model's.
  const LoraMixture mixture = prefix_mixture(request_mixture, length);
  const auto [owner, hit] = best_hit(prefix, mixture, length);
  if (hit.length == length) return {};
  KvCache kv = runtime_.make_cache(1, length);
  owner->copy(hit, kv, 0);
  AdapterRows adapters(runtime_);
  adapters.add(mixture);
  runtime_.forward(kv, token_row(prefix.subspan(static_cast<std::size_t>(hit.length))), 0,
                   std::vector<std::int64_t>{hit.length}, adapters.rows());
  if (!kept_.insert(prefix, mixture, kv, 0)) call_.insert(prefix, mixture, kv, 0);
  return {length - hit.length, hit.length};
}

}  // namespace qdgen::inference
