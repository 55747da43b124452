// qdgen model build-default | info and --model default through the real binary, on a tiny
// recipe and a small fortune-format corpus made here (QDGEN_DEFAULT_MODEL_RECIPE,
// QDGEN_FORTUNES_DIR, XDG_CACHE_HOME): built, reused, rebuilt when damaged, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_process.hpp"
#include "training_fixtures.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using qdgen_test::run_shell;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> records(const std::string& theme, const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (int i = 0; i < 60; ++i) {
    out.push_back(theme + " " + words[static_cast<std::size_t>(i) % words.size()] + " number " +
                  std::to_string(i) + " and " +
                  words[static_cast<std::size_t>(i * 7 + 3) % words.size()] + ".");
  }
  return out;
}

class DefaultModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path corpus = scratch_ / "fortunes";
    testing::write_text(corpus / "cats",
                        testing::fortune_file(records(
                            "The cat", {"purrs", "naps", "hunts mice", "climbs", "meows"})));
    testing::write_text(
        corpus / "sums",
        testing::fortune_file(records(
            "Seven plus", {"two is nine", "one is eight", "three is ten", "zero is seven"})));
    testing::write_text(corpus / "misc",
                        testing::fortune_file(records("A day", {"of rain", "in May", "at sea"})));
    testing::write_text(corpus / "misc.dat", std::string("\x02\x00\x01 index", 10));
    recipe_ =
        testing::write_text(scratch_ / "recipe.json", json{{"tokenizer", {{"vocab", 300}}},
                                                           {"model",
                                                            {{"hidden_size", 32},
                                                             {"intermediate_size", 64},
                                                             {"num_hidden_layers", 1},
                                                             {"num_attention_heads", 2},
                                                             {"num_key_value_heads", 1},
                                                             {"context", 32}}},
                                                           {"base", {{"steps", 3}, {"batch", 2}}},
                                                           {"experts",
                                                            {{"categories", {"cats", "sums"}},
                                                             {"r", 2},
                                                             {"targets", {"q_proj", "v_proj"}},
                                                             {"max_steps", 2},
                                                             {"batch", 2}}}}
                                                          .dump());
  }

  std::string environment(const fs::path& corpus) const {
    return "XDG_CACHE_HOME='" + (scratch_ / "cache").string() + "' QDGEN_FORTUNES_DIR='" +
           corpus.string() + "' QDGEN_DEFAULT_MODEL_RECIPE='" + recipe_.string() + "' ";
  }
  qdgen_test::ProcessResult qdgen(const std::string& arguments) const {
    return run_shell(environment(scratch_ / "fortunes") + QDGEN_BINARY + " " + arguments);
  }
  // The default model's folder, from info.
  json info() const {
    const auto result =
        qdgen("model info --format json > '" + (scratch_ / "info.json").string() + "'");
    EXPECT_EQ(result.status, 0) << result.output;
    return json::parse(read_all(scratch_ / "info.json"));
  }

  testing::ScratchFolder scratch_{"default_model"};
  fs::path recipe_;
};

TEST_F(DefaultModel, BuildsOnceThenReusesAndLoadsAsDefault) {
  const json before = info();
  EXPECT_FALSE(before["ready"].get<bool>());
  EXPECT_EQ(before["problem"], "not built yet");
  const fs::path folder = before["folder"].get<std::string>();
  EXPECT_EQ(folder.parent_path(), scratch_ / "cache" / "qdgen" / "default-model");
  const auto not_built = qdgen("generate --model default --prompt 'The cat' --max-tokens 2");
  EXPECT_EQ(not_built.status, 1);
  EXPECT_NE(
      not_built.output.find("qdgen generate: --model default: the default model in " +
                            folder.string() + " is not built yet (run qdgen model build-default)"),
      std::string::npos)
      << not_built.output;

  const auto built = qdgen("model build-default --threads 1");
  ASSERT_EQ(built.status, 0) << built.output;
  EXPECT_NE(built.output.find("default model built in"), std::string::npos) << built.output;
  EXPECT_NE(built.output.find("[expert cats 1/2]"), std::string::npos) << built.output;
  for (const char* file :
       {"manifest.json", "base/config.json", "base/model.safetensors", "base/tokenizer.json",
        "base/tokenizer_config.json", "base/generation_config.json",
        "experts/cats/adapter_config.json", "experts/cats/adapter_model.safetensors",
        "experts/sums/adapter_model.safetensors"}) {
    EXPECT_TRUE(fs::is_regular_file(folder / file)) << file;
  }
  EXPECT_FALSE(fs::exists(folder / "experts" / "misc"));  // not a category of the recipe
  EXPECT_FALSE(fs::exists(folder / "checkpoints"));
  std::size_t entries = 0;  // the model and the lock; no staging folder left behind
  for (const auto& entry : fs::directory_iterator(folder.parent_path())) {
    ++entries;
    EXPECT_TRUE(entry.path() == folder || entry.path().filename() == ".lock") << entry.path();
  }
  EXPECT_EQ(entries, 2u);
  // Each expert names the base where it lives in the cache, not the folder it was staged in.
  for (const char* expert : {"cats", "sums"}) {
    const json adapter_config =
        json::parse(read_all(folder / "experts" / expert / "adapter_config.json"));
    EXPECT_EQ(adapter_config["base_model_name_or_path"], (folder / "base").string()) << expert;
  }

  const std::string manifest_text = read_all(folder / "manifest.json");
  const json manifest = json::parse(manifest_text);
  EXPECT_EQ(manifest["recipe"]["base"]["steps"], 3);
  EXPECT_EQ(manifest["corpus"]["files"], 3);  // the index file left out
  EXPECT_EQ(manifest["experts"]["cats"]["folder"], "experts/cats");
  const json& evaluation = manifest["evaluation"];
  EXPECT_EQ(evaluation["categories"], json({"cats", "sums"}));
  for (const std::string category : {"cats", "sums"}) {
    EXPECT_TRUE(std::isfinite(evaluation["base"][category].get<double>()));
    EXPECT_LT(evaluation["base"][category].get<double>(), 0);
    for (const std::string expert : {"cats", "sums"}) {
      EXPECT_TRUE(std::isfinite(evaluation["experts"][expert][category].get<double>()));
    }
    EXPECT_GT(evaluation["heldout_tokens"][category].get<int>(), 0);
  }
  EXPECT_TRUE(manifest["timings"]["total"].get<double>() > 0);

  // The next call checks the cache and reuses it, leaving the manifest as it was.
  const auto reused = qdgen("model build-default");
  ASSERT_EQ(reused.status, 0) << reused.output;
  EXPECT_NE(reused.output.find("default model reused in"), std::string::npos) << reused.output;
  EXPECT_EQ(reused.output.find("[base]"), std::string::npos) << reused.output;
  EXPECT_EQ(read_all(folder / "manifest.json"), manifest_text);
  const json after = info();
  EXPECT_TRUE(after["ready"].get<bool>());
  EXPECT_EQ(after["base"], (folder / "base").string());
  EXPECT_EQ(after["experts"]["sums"], (folder / "experts" / "sums").string());
  const auto text_info = qdgen("model info");
  EXPECT_NE(text_info.output.find("state         ready"), std::string::npos) << text_info.output;
  EXPECT_NE(text_info.output.find("expert cats"), std::string::npos) << text_info.output;

  const auto generated = qdgen(
      "generate --model default --prompt 'The cat' --max-tokens 4 --temperature 0 "
      "--format json");
  ASSERT_EQ(generated.status, 0) << generated.output;
  EXPECT_GT(json::parse(generated.output)["generated_tokens"].get<int>(), 0);

  const auto forced = qdgen("model build-default --force --threads 1");
  ASSERT_EQ(forced.status, 0) << forced.output;
  EXPECT_NE(forced.output.find("default model built in"), std::string::npos) << forced.output;
}

TEST_F(DefaultModel, ADamagedCacheIsRebuilt) {
  ASSERT_EQ(qdgen("model build-default --threads 1").status, 0);
  const fs::path folder = info()["folder"].get<std::string>();
  const fs::path weights = folder / "base" / "model.safetensors";
  const auto size = fs::file_size(weights);
  fs::resize_file(weights, size / 2);
  const json damaged = info();
  EXPECT_FALSE(damaged["ready"].get<bool>());
  EXPECT_EQ(damaged["problem"], weights.string() + " has " + std::to_string(size / 2) +
                                    " bytes, the manifest " + std::to_string(size));
  const auto rebuilt = qdgen("model build-default --threads 1");
  ASSERT_EQ(rebuilt.status, 0) << rebuilt.output;
  EXPECT_NE(rebuilt.output.find("rebuilding the damaged default model (" + weights.string()),
            std::string::npos)
      << rebuilt.output;
  EXPECT_TRUE(info()["ready"].get<bool>());

  fs::remove(folder / "experts" / "sums" / "adapter_config.json");
  EXPECT_EQ(info()["problem"],
            (folder / "experts" / "sums" / "adapter_config.json").string() + " is missing");
  testing::write_text(folder / "manifest.json", "{\"format\": ");
  EXPECT_EQ(info()["problem"], (folder / "manifest.json").string() + ": not valid JSON");
  const auto again = qdgen("model build-default --threads 1");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_TRUE(info()["ready"].get<bool>());
}

TEST_F(DefaultModel, AMissingCorpusNamesTheDebianPackage) {
  const fs::path absent = scratch_ / "no-fortunes";
  const std::string message =
      absent.string() +
      ": no fortunes corpus there (the default model trains on Debian's package 'fortunes': "
      "apt-get install fortunes, or scripts/setup; QDGEN_FORTUNES_DIR names another folder)";
  for (const std::string command : {"model build-default", "model info", "generate"}) {
    const std::string flags = command == "generate" ? " --model default --prompt x" : "";
    const auto result = run_shell(environment(absent) + QDGEN_BINARY + " " + command + flags);
    EXPECT_EQ(result.status, 1) << command;
    EXPECT_EQ(result.output, "qdgen " + command + ": " + message + "\n") << command;
  }
}

TEST_F(DefaultModel, BadRecipesAreErrorsNamingTheKey) {
  const auto expect_error = [&](const json& recipe, const std::string& message) {
    testing::write_text(recipe_, recipe.dump());
    const auto result = qdgen("model build-default");
    EXPECT_EQ(result.status, 1) << recipe.dump();
    EXPECT_EQ(result.output, "qdgen model build-default: " + message + "\n") << recipe.dump();
  };
  expect_error({{"base", {{"steps", 0}}}},
               recipe_.string() + ": base.steps: expected an integer >= 1, got 0");
  expect_error({{"base", {{"stpes", 5}}}}, recipe_.string() + ": base.stpes: is not a recipe key");
  expect_error({{"experts", {{"categories", {"cats", "dogs"}}}}},
               (scratch_ / "fortunes" / "dogs").string() +
                   ": no such fortune file (the recipe's category 'dogs'; experts.categories in " +
                   recipe_.string() + ")");
  testing::write_text(recipe_, "[1, 2");
  const auto result = qdgen("model info");
  EXPECT_EQ(result.output, "qdgen model info: " + recipe_.string() + ": not valid JSON\n");
}

}  // namespace
}  // namespace qdgen::inference
