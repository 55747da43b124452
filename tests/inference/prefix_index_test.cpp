// The key of kept prompt prefixes: tokens and LoRA mixture together. The model refuses
// mixtures until LoRA adapters exist, so the index is tested directly.
#include "qdgen/inference/prefix_index.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qdgen::inference {
namespace {

const llm::LoraMixture kBase;
const llm::LoraMixture kStyle{{{"style", 1.0}}};
const llm::LoraMixture kHalfStyle{{{"style", 0.5}}};
const llm::LoraMixture kStyleAndTone{{{"style", 1.0}, {"tone", 0.3}}};

llm::LoraMixture from(llm::LoraMixture mixture, std::int64_t position) {
  mixture.from_position = position;
  return mixture;
}

llm::LoraMixture layered(std::vector<double> weights) {
  llm::LoraMixture mixture;
  mixture.layer_weights = {{"style", std::move(weights)}};
  return mixture;
}

TEST(PrefixKey, SharesPositionsOnlyUnderTheSameMixture) {
  const PrefixKey base{{1, 2, 3, 4, 5}, kBase};
  const std::vector<std::int32_t> prompt = {1, 2, 3, 9};
  EXPECT_EQ(base.shared_length(prompt, kBase), 3);
  EXPECT_EQ(base.shared_length(prompt, kStyle), 0);
  const PrefixKey styled{{1, 2, 3, 4, 5}, kStyle};
  EXPECT_EQ(styled.shared_length(prompt, kStyle), 3);
  EXPECT_EQ(styled.shared_length(prompt, kBase), 0);
  EXPECT_EQ(styled.shared_length(prompt, kHalfStyle), 0);  // another weight
  EXPECT_EQ(styled.shared_length(prompt, kStyleAndTone), 0);
  EXPECT_EQ(PrefixKey({{1, 2}, kStyleAndTone}).shared_length(prompt, kStyleAndTone), 2);
}

// An activated mixture reads the positions before its from_position as the base model does:
// those are shared with the base and with any other mixture activated no earlier.
TEST(PrefixKey, ActivatedMixturesShareThePositionsBeforeTheyApply) {
  const std::vector<std::int32_t> prompt = {1, 2, 3, 4, 5, 6, 7};
  const PrefixKey base{{1, 2, 3, 4, 5, 6, 7, 8}, kBase};
  EXPECT_EQ(base.shared_length(prompt, from(kStyle, 4)), 4);
  EXPECT_EQ(base.shared_length(prompt, from(kStyle, 0)), 0);  // PEFT's: every position
  const PrefixKey styled{{1, 2, 3, 4, 5, 6, 7, 8}, from(kStyle, 5)};
  EXPECT_EQ(styled.shared_length(prompt, from(kStyle, 5)), 7);  // the same mixture
  EXPECT_EQ(styled.shared_length(prompt, from(kStyle, 3)), 3);  // differs from position 3 on
  EXPECT_EQ(styled.shared_length(prompt, from(kHalfStyle, 6)), 5);
  EXPECT_EQ(styled.shared_length(prompt, kBase), 5);
  EXPECT_EQ(styled.shared_length(prompt, kStyle), 0);
  // Layer weights are part of the mixture: another layer weight is another mixture.
  const PrefixKey per_layer{{1, 2, 3, 4, 5, 6, 7, 8}, layered({1.0, 0.5})};
  EXPECT_EQ(per_layer.shared_length(prompt, layered({1.0, 0.5})), 7);
  EXPECT_EQ(per_layer.shared_length(prompt, layered({1.0, 0.25})), 0);
  EXPECT_EQ(per_layer.shared_length(prompt, kStyle), 0);
}

TEST(PrefixIndex, AnActivatedMixturesPrefixIsKeptAsTheBaseModelsAndServesEveryMixture) {
  PrefixIndex<std::string> index(-1);
  const std::vector<std::int32_t> shared = {7, 8, 9, 10};
  ASSERT_TRUE(index.insert(shared, from(kStyle, 6), [] { return std::string("template"); }));
  EXPECT_EQ(index.find(shared, kBase, 10).length, 4);
  EXPECT_EQ(index.find(shared, from(kHalfStyle, 4), 10).length, 4);
  EXPECT_EQ(index.find(shared, from(kHalfStyle, 2), 10).length, 2);
  EXPECT_EQ(index.find(shared, kHalfStyle, 10).length, 0);
  // Covered already for the base model: nothing new is made.
  bool made = false;
  ASSERT_TRUE(index.insert(shared, kBase, [&] {
    made = true;
    return std::string("unused");
  }));
  EXPECT_FALSE(made);
  // A longer entry that reads the template as the base does replaces it.
  const std::vector<std::int32_t> longer = {7, 8, 9, 10, 11, 12};
  ASSERT_TRUE(index.insert(longer, from(kStyle, 5), [] { return std::string("longer"); }));
  EXPECT_EQ(index.entries(), 1);
  const auto hit = index.find(shared, from(kStyleAndTone, 4), 10);
  EXPECT_EQ(hit.length, 4);
  EXPECT_EQ(*hit.value, "longer");
}

TEST(PrefixIndex, EntriesOfDifferentMixturesNeverServeEachOther) {
  PrefixIndex<std::string> index(-1);
  const std::vector<std::int32_t> tokens = {7, 8, 9, 10};
  ASSERT_TRUE(index.insert(tokens, kBase, [] { return std::string("base"); }));
  EXPECT_EQ(index.find(tokens, kStyle, 10).length, 0);
  ASSERT_TRUE(index.insert(tokens, kStyle, [] { return std::string("style"); }));
  // Same tokens, another mixture: a second entry, not "already covered".
  EXPECT_EQ(index.entries(), 2);
  EXPECT_EQ(index.positions(), 8);
  const auto base = index.find(tokens, kBase, 10);
  ASSERT_EQ(base.length, 4);
  EXPECT_EQ(*base.value, "base");
  const auto styled = index.find(tokens, kStyle, 3);
  ASSERT_EQ(styled.length, 3);
  EXPECT_EQ(*styled.value, "style");
  EXPECT_EQ(index.find(tokens, kHalfStyle, 10).length, 0);

  // A longer entry covers (and replaces) the shorter one of its own mixture only.
  const std::vector<std::int32_t> longer = {7, 8, 9, 10, 11, 12};
  ASSERT_TRUE(index.insert(longer, kStyle, [] { return std::string("style, longer"); }));
  EXPECT_EQ(index.entries(), 2);
  EXPECT_EQ(*index.find(tokens, kBase, 10).value, "base");
  EXPECT_EQ(*index.find(longer, kStyle, 10).value, "style, longer");
  // Covered already: nothing new is made.
  bool made = false;
  ASSERT_TRUE(index.insert(tokens, kStyle, [&] {
    made = true;
    return std::string("unused");
  }));
  EXPECT_FALSE(made);
}

TEST(PrefixIndex, TheBudgetEvictsTheLeastRecentlyUsedOfAnyMixture) {
  PrefixIndex<int> index(10);
  ASSERT_TRUE(index.insert(std::vector<std::int32_t>{1, 2, 3, 4}, kBase, [] { return 1; }));
  ASSERT_TRUE(index.insert(std::vector<std::int32_t>{1, 2, 3, 4}, kStyle, [] { return 2; }));
  index.find(std::vector<std::int32_t>{1, 2}, kBase, 2);  // the base entry is used again
  ASSERT_TRUE(index.insert(std::vector<std::int32_t>{5, 6, 7, 8}, kBase, [] { return 3; }));
  EXPECT_EQ(index.entries(), 2);
  EXPECT_EQ(index.positions(), 8);
  EXPECT_EQ(index.find(std::vector<std::int32_t>{1, 2, 3, 4}, kStyle, 4).length, 0);
  EXPECT_EQ(index.find(std::vector<std::int32_t>{1, 2, 3, 4}, kBase, 4).length, 4);
  EXPECT_FALSE(index.insert(std::vector<std::int32_t>(11, 1), kBase, [] { return 4; }));
  index.clear();
  EXPECT_EQ(index.entries(), 0);
  EXPECT_EQ(index.positions(), 0);
}

}  // namespace
}  // namespace qdgen::inference
