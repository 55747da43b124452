// Small hand-written tokenizer.json files: each pipeline stage with a known answer, and every
// bad-input case with its one-line message.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/inference/tokenizer.hpp"

namespace {

using nlohmann::json;
using qdgen::inference::load_tokenizer;
using qdgen::inference::TokenId;
using qdgen::inference::Tokenizer;
using Ids = std::vector<TokenId>;

std::filesystem::path write_file(const std::string& name, const std::string& contents) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (std::string("qdgen_tokenizer_pipeline.") + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::unique_ptr<Tokenizer> load_json(const json& config) {
  return load_tokenizer(write_file("tokenizer.json", config.dump()));
}

// vocab a b - ab b- -a with merges "b -" < "- a" < "a b": the splits decide what merges.
json dash_tokenizer(const json& pre_tokenizer) {
  return {{"model",
           {{"type", "BPE"},
            {"vocab", {{"a", 0}, {"b", 1}, {"-", 2}, {"ab", 3}, {"b-", 4}, {"-a", 5}}},
            {"merges", {"b -", "- a", "a b"}}}},
          {"pre_tokenizer", pre_tokenizer}};
}

json split_on_dash(const std::string& behavior) {
  return {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}};
}

TEST(TokenizerPipeline, BpeAppliesTheLowestRankFirst) {
  EXPECT_EQ(load_json(dash_tokenizer(nullptr))->encode("ab-ab", false), Ids({0, 4, 3}));
}

TEST(TokenizerPipeline, SplitBehaviours) {
  EXPECT_EQ(load_json(dash_tokenizer(split_on_dash("Removed")))->encode("ab-ab", false),
            Ids({3, 3}));
  EXPECT_EQ(load_json(dash_tokenizer(split_on_dash("Isolated")))->encode("ab-ab", false),
            Ids({3, 2, 3}));
  EXPECT_EQ(load_json(dash_tokenizer(split_on_dash("MergedWithPrevious")))->encode("ab-ab", false),
            Ids({0, 4, 3}));
  EXPECT_EQ(load_json(dash_tokenizer(split_on_dash("MergedWithNext")))->encode("ab-ab", false),
            Ids({3, 5, 1}));
  EXPECT_EQ(load_json(dash_tokenizer(split_on_dash("Contiguous")))->encode("ab--ab", false),
            Ids({3, 2, 2, 3}));
  json inverted = split_on_dash("Removed");
  inverted["invert"] = true;  // keep only the matches
  EXPECT_EQ(load_json(dash_tokenizer(inverted))->encode("ab-ab", false), Ids({2}));
  json regex = {{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}};
  EXPECT_EQ(load_json(dash_tokenizer(regex))->encode("ab \t ab", false), Ids({3, 3}));
}

TEST(TokenizerPipeline, DigitsAndSequence) {
  json config = {{"model",
                  {{"type", "BPE"},
                   {"vocab", {{"1", 0}, {"2", 1}, {"12", 2}, {"x", 3}}},
                   {"merges", json::array({json::array({"1", "2"})})}}}};
  EXPECT_EQ(load_json(config)->encode("x12", false), Ids({3, 2}));
  config["pre_tokenizer"] = {{"type", "Digits"}, {"individual_digits", true}};
  EXPECT_EQ(load_json(config)->encode("x12", false), Ids({3, 0, 1}));
  config["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Digits"}, {"individual_digits", false}}, {{"type", "WhitespaceSplit"}}}}};
  EXPECT_EQ(load_json(config)->encode("x 12", false), Ids({3, 2}));
}

TEST(TokenizerPipeline, MetaspaceRoundTrip) {
  const json config = {
      {"model",
       {{"type", "BPE"},
        {"vocab", {{"\u2581", 0}, {"a", 1}, {"b", 2}, {"\u2581a", 3}, {"\u2581b", 4}, {"ab", 5}}},
        {"merges", {"\u2581 a", "\u2581 b", "a b"}}}},
      {"pre_tokenizer",
       {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}}},
      {"decoder",
       {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}}}};
  const auto tokenizer = load_json(config);
  // Split on the metaspace: "ab" never merges across "\u2581".
  EXPECT_EQ(tokenizer->encode("a b", false), Ids({3, 4}));
  EXPECT_EQ(tokenizer->decode(Ids({3, 4}), false), "a b");
}

TEST(TokenizerPipeline, NfcNormalizerComposesAccents) {
  const json config = {
      {"model", {{"type", "BPE"}, {"vocab", {{"\u00e9", 0}, {"e", 1}}}, {"merges", json::array()}}},
      {"normalizer", {{"type", "NFC"}}}};
  EXPECT_EQ(load_json(config)->encode("e\u0301", false), Ids({0}));
}

TEST(TokenizerPipeline, ByteFallbackUnknownAndFuseUnk) {
  json config = {{"model",
                  {{"type", "BPE"},
                   {"vocab", {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}}},
                   {"merges", json::array()},
                   {"unk_token", "<unk>"},
                   {"byte_fallback", true}}},
                 {"decoder", {{"type", "ByteFallback"}}}};
  EXPECT_EQ(load_json(config)->encode("a\u00e9", false), Ids({1, 2, 3}));
  EXPECT_EQ(load_json(config)->decode(Ids({1, 2, 3}), false), "a\u00e9");
  config["model"]["byte_fallback"] = false;
  EXPECT_EQ(load_json(config)->encode("a\u00e9\u00e9", false), Ids({1, 0, 0}));
  config["model"]["fuse_unk"] = true;
  EXPECT_EQ(load_json(config)->encode("a\u00e9\u00e9", false), Ids({1, 0}));
}

TEST(TokenizerPipeline, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  json config = {{"model",
                  {{"type", "BPE"},
                   {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"abc", 3}}},
                   {"merges", json::array()}}}};
  EXPECT_EQ(load_json(config)->encode("abc", false), Ids({0, 1, 2}));
  config["model"]["ignore_merges"] = true;
  EXPECT_EQ(load_json(config)->encode("abc", false), Ids({3}));
}

TEST(TokenizerPipeline, AddedTokensWithLstripAndRstrip) {
  const json config = {
      {"model",
       {{"type", "BPE"}, {"vocab", {{"a", 0}, {" ", 1}, {"<x>", 2}}}, {"merges", json::array()}}},
      {"added_tokens",
       {{{"id", 2}, {"content", "<x>"}, {"lstrip", true}, {"rstrip", true}, {"special", true}}}}};
  const auto tokenizer = load_json(config);
  EXPECT_EQ(tokenizer->encode("a <x> a", false), Ids({0, 2, 0}));
  EXPECT_EQ(tokenizer->decode(Ids({0, 2, 0}), true), "a a");
}

void expect_error(const std::function<void()>& action, const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "expected an error mentioning " << parts.front();
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST(TokenizerErrors, MissingFileFolderEmptyAndBadJson) {
  expect_error([] { load_tokenizer("/nonexistent/tokenizer.json"); },
               {"/nonexistent/tokenizer.json", "cannot open"});
  expect_error([] { load_tokenizer(std::filesystem::temp_directory_path()); }, {"is a folder"});
  expect_error([] { load_tokenizer(write_file("empty.json", "")); }, {"empty.json", "empty"});
  expect_error([] { load_tokenizer(write_file("bad.json", "{\"model\": [1,")); },
               {"bad.json", ": model[1]: not valid JSON (parse error at line 1, column 14"});
  expect_error([] { load_tokenizer(write_file("nomodel.json", "{}")); },
               {"nomodel.json", ": tokenizer.model: missing (required key)"});
}

TEST(TokenizerErrors, UnknownTypesNameTheKey) {
  json config = dash_tokenizer(nullptr);
  config["model"]["type"] = "WordPiece";
  expect_error([&] { load_json(config); },
               {"tokenizer.model.type", "unknown model type 'WordPiece'"});
  config = dash_tokenizer(nullptr);
  config["normalizer"] = {{"type", "Sequence"},
                          {"normalizers", {{{"type", "NFC"}}, {{"type", "Fancy"}}}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.normalizer.normalizers[1].type", "unknown normalizer type 'Fancy'"});
  config = dash_tokenizer({{"type", "Sequence"}, {"pretokenizers", {{{"type", "Punct"}}}}});
  expect_error([&] { load_json(config); }, {"tokenizer.pre_tokenizer.pretokenizers[0].type",
                                            "unknown pre_tokenizer type 'Punct'"});
  config = dash_tokenizer(nullptr);
  config["decoder"] = {{"type", "CTC"}};
  expect_error([&] { load_json(config); },
               {"tokenizer.decoder.type", "unknown decoder type 'CTC'"});
  config = dash_tokenizer(nullptr);
  config["post_processor"] = {{"type", "Magic"}};
  expect_error([&] { load_json(config); },
               {"tokenizer.post_processor.type", "unknown post_processor type 'Magic'"});
}

TEST(TokenizerErrors, BadValuesNameTheKey) {
  expect_error([] { load_json(dash_tokenizer(split_on_dash("Sideways"))); },
               {"tokenizer.pre_tokenizer.behavior", "unknown behavior 'Sideways'"});
  expect_error(
      [] {
        load_json(dash_tokenizer(
            {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Removed"}}));
      },
      {"tokenizer.pre_tokenizer.pattern", "does not compile"});
  json config = dash_tokenizer(nullptr);
  config["model"]["vocab"]["zz"] = "seven";
  expect_error([&] { load_json(config); }, {"tokenizer.model.vocab", "'zz'", "\"seven\""});
  config = dash_tokenizer(nullptr);
  config["model"]["merges"] = {"ab"};
  expect_error([&] { load_json(config); }, {"tokenizer.model.merges[0]", "'ab'"});
  config = dash_tokenizer(nullptr);
  config["model"]["byte_fallback"] = "yes";
  expect_error([&] { load_json(config); }, {"tokenizer.model.byte_fallback", "true or false"});
}

TEST(TokenizerErrors, ABacktrackingPatternFailsWithItsNameInsteadOfHanging) {
  // (a+)+$ on 40 a's and a b backtracks through 2^40 splits: minutes without a bound.
  const auto tokenizer = load_json(dash_tokenizer(
      {{"type", "Split"}, {"pattern", {{"Regex", "(a+)+$"}}}, {"behavior", "Isolated"}}));
  expect_error([&] { tokenizer->encode(std::string(40, 'a') + "b", false); },
               {"regex '(a+)+$' exceeded its work limit", "41 bytes"});
}

TEST(TokenizerErrors, IdsAndCountsAreRangeChecked) {
  // 2^31 - 1 once sized a 2^31-entry id table ("cannot create std::vector larger than ...").
  json config = dash_tokenizer(nullptr);
  config["model"]["vocab"]["zz"] = 2147483647;
  expect_error([&] { load_json(config); },
               {"tokenizer.json: tokenizer.model.vocab: token 'zz' has id 2147483647, expected an "
                "integer in [0, 16777215]"});
  config = dash_tokenizer(nullptr);
  config["added_tokens"] = {{{"id", json::parse("4294967296")}, {"content", "<x>"}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.added_tokens[0].id: expected an integer in [0, 16777215], got "
                "4294967296"});
  config = dash_tokenizer(nullptr);
  config["added_tokens"] = {{{"id", 7}, {"content", ""}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.added_tokens[0].content: expected a non-empty string, got \"\""});
  config = dash_tokenizer(nullptr);
  config["decoder"] = {{"type", "Strip"}, {"start", -1}};
  expect_error([&] { load_json(config); },
               {"tokenizer.decoder.start: expected an integer in [0, 1000000], got -1"});
  config = dash_tokenizer(nullptr);
  config["post_processor"] = {{"type", "RobertaProcessing"}, {"cls", {"a", -1}}, {"sep", {"b", 1}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.post_processor.cls[1]: expected an integer in [0, 16777215], got -1"});
}

TEST(TokenizerErrors, NoLibraryMessageReachesTheUser) {
  // Values of the wrong type where the reference expects one: each once threw nlohmann's own
  // type_error text, or would have.
  json config = dash_tokenizer(nullptr);
  config["post_processor"] = {{"type", "TemplateProcessing"},
                              {"single", {{{"SpecialToken", {{"id", 5}}}}}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.post_processor.single[0].SpecialToken.id: expected a string, got 5"});
  config["post_processor"] = {{"type", "TemplateProcessing"},
                              {"single", {{{"SpecialToken", {{"id", "a"}}}}}},
                              {"special_tokens", {{"a", {{"ids", {"zero"}}}}}}};
  expect_error([&] { load_json(config); },
               {"tokenizer.post_processor.special_tokens.a.ids[0]: expected an integer"});
  config = dash_tokenizer(nullptr);
  config["normalizer"] = {{"type", 3}};
  expect_error([&] { load_json(config); }, {"tokenizer.normalizer.type: expected a string, got 3"});
  config = dash_tokenizer(nullptr);
  config["model"]["unk_token"] = 3;
  expect_error([&] { load_json(config); }, {"tokenizer.model.unk_token: expected a string, got 3"});
  std::string text = dash_tokenizer(nullptr).dump();
  text.replace(text.find("\"a\":0"), 5, "\"a\":1e999");
  expect_error([&] { load_tokenizer(write_file("tokenizer.json", text)); },
               {"tokenizer.json: model.vocab.a: the number 1e999 does not fit a double"});
  for (const std::string& bad : {std::string("[1, 2]"), std::string("{\"model\": 5}"),
                                 std::string("{\"model\": {\"vocab\": []}}")}) {
    try {
      load_tokenizer(write_file("tokenizer.json", bad));
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
    }
  }
}

TEST(TokenizerErrors, TextTheVocabularyCannotRepresent) {
  // No unk_token and no byte fallback: say which text, do not invent ids.
  expect_error([] { load_json(dash_tokenizer(nullptr))->encode("abz", false); },
               {"'z'", "no unk_token"});
}

TEST(TokenizerErrors, BadTokenizerConfigBesideTheFile) {
  write_file("tokenizer_config.json", "{\"bos_token\": \"<nope>\"}");
  expect_error([] { load_json(dash_tokenizer(nullptr)); },
               {"tokenizer_config.json", "bos_token", "'<nope>'"});
  std::filesystem::remove(std::filesystem::temp_directory_path() /
                          (std::string("qdgen_tokenizer_pipeline.") + std::to_string(::getpid())) /
                          "tokenizer_config.json");
}

TEST(TokenizerErrors, Llama2cBadTokenLength) {
  std::string bytes(4, '\0');
  bytes[0] = 8;  // max_token_length 8
  const float score = 0;
  const std::int32_t length = 100;
  bytes.append(reinterpret_cast<const char*>(&score), 4);
  bytes.append(reinterpret_cast<const char*>(&length), 4);
  expect_error([&] { load_tokenizer(write_file("tokenizer.bin", bytes)); },
               {"tokenizer.bin", "token 0 has length 100"});
}

}  // namespace
