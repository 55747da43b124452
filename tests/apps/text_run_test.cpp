// `qdgen run` of a text domain end to end on a tiny random Llama written here: the model
// writes and judges every child, the store keeps the judges' raw outputs, the label judge
// agrees with `qdgen score`, LoRA-mixture mutation inherits and moves its parents' mixtures,
// the run is the same at any thread count and a SIGKILLed run resumes to the uninterrupted
// one's archive.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "qdgen/inference/lora_adapter.hpp"
#include "random_llama.hpp"
#include "random_lora.hpp"
#include "run_process.hpp"
#include "sqlite_rows.hpp"

#if QDGEN_TEST_WITH_TORCH

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using qdgen_test::rows;

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const char* kCandidates =
    "SELECT candidate_id, iteration, parent_ids, operator, solution_text, objective, measures, "
    "metadata, status, cell FROM candidate ORDER BY candidate_id";
const char* kElites = "SELECT cell, candidate_id FROM elite ORDER BY cell";

class TextRun : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("qdgen_text_run_" + std::to_string(getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    auto config = qdgen::testing::tiny_llama_config();
    config.vocab_size = 32000;  // the Llama 2 tokenizer's
    config.max_position_embeddings = 512;
    model_ = qdgen::testing::write_random_llama(directory_, config, 5).hf_folder;
    fs::copy_file(fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json",
                  model_ / "tokenizer.json");
  }
  void TearDown() override { fs::remove_all(directory_); }

  json config(int iterations) const {
    std::vector<double> edges = {0,   .005, .01, .015, .02, .03, .04,  .05, .10,  .20, .50,
                                 .80, .90,  .95, .96,  .97, .98, .985, .99, .995, 1};
    return {{"name", "text-e2e"},
            {"domain",
             {{"kind", "text"},
              {"template", "Story:"},
              {"seeds", {"once upon a time", "the end came at last", "a dog ran home", "rain"}},
              {"generation", {{"max_tokens", 10}, {"stop", {"\n"}}}},
              {"init", {{"iterations", 1}, {"min_filled", 1}}},
              {"quality",
               {{"kind", "label"}, {"instruction", "Is it good?"}, {"labels", {" yes", " no"}}}},
              {"measures",
               {{{"kind", "label"},
                 {"instruction", "Horror or romance?"},
                 {"labels", {" horror", " romance"}}}}},
              {"penalties", {{"repetition_weight", 0.5}, {"min_words", 1}, {"max_words", 40}}},
              {"duplicates", {{"threshold", 0.9}}},
              {"embeddings", true},
              {"vendi", {{"orders", {1, 2}}}}}},
            {"archive", {{"type", "grid"}, {"dims", {{{"edges", edges}}}}}},
            {"emitters",
             {{{"kind", "mutation"},
               {"parents", 0},
               {"batch", 6},
               {"operators", {{"lmx_near", 2}, {"lmx_quality", 1}}}}}},
            {"model", {{"threads", 1}}},
            {"iterations", iterations},
            {"seed", 5}};
  }

  fs::path write_config(const json& c, const std::string& name) const {
    const fs::path path = directory_ / name;
    std::ofstream(path) << c.dump(2);
    return path;
  }

  qdgen_test::ProcessResult run(const fs::path& config_path, const fs::path& out,
                                const std::string& extra = "") const {
    return qdgen_test::qdgen("run " + config_path.string() + " --out " + out.string() +
                             " --model " + model_.string() + " " + extra + " 2>&1");
  }

  // The config is refused with `message` (one line naming the key), before a store is made.
  void expect_refused(const json& c, const std::string& message) const {
    const fs::path store = directory_ / "refused.sqlite";
    const auto result = run(write_config(c, "refused.json"), store);
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find(message), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(store));
  }

  fs::path directory_;
  fs::path model_;
};

TEST_F(TextRun, WritesJudgesAndStoresEveryRawOutput) {
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(config(4), "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("vendi-ngram"), std::string::npos) << result.output;
  const auto candidates = rows(store, "SELECT operator, metadata FROM candidate");
  ASSERT_EQ(candidates.size(), 24u);
  int init = 0, lmx = 0;
  for (const auto& row : candidates) {
    init += row.rfind("init|", 0) == 0;
    lmx += row.rfind("lmx_", 0) == 0;
  }
  EXPECT_EQ(init, 6);  // the first iteration writes from the seeds
  EXPECT_EQ(lmx, 18);
  // Every judged child keeps its labels' log-probabilities; rejected ones say why.
  for (const auto& row : rows(store, "SELECT metadata, objective FROM candidate")) {
    const json metadata = json::parse(row.substr(0, row.find('|')));
    ASSERT_TRUE(metadata.contains("sampling")) << row;
    if (metadata.contains("rejected")) continue;
    ASSERT_EQ(metadata["judge"]["quality"]["logprobs"].size(), 2u) << row;
    ASSERT_EQ(metadata["judge"]["measure_0"]["labels"].size(), 2u) << row;
  }
  const auto metrics = rows(store, "SELECT metrics FROM iteration WHERE iteration = 3");
  ASSERT_EQ(metrics.size(), 1u);
  const json m = json::parse(metrics[0].substr(0, metrics[0].size() - 1));
  EXPECT_GE(m["vendi_ngram_q1"].get<double>(), 1.0);
  EXPECT_GE(m["vendi_embedding_q2"].get<double>(), 1.0);
  EXPECT_EQ(m["text"]["children"].get<int>(), 6);
  EXPECT_GT(m["text"]["generated_tokens"].get<int>(), 0);
  EXPECT_GT(m["text"]["scored_tokens"].get<int>(), 0);
}

TEST_F(TextRun, LabelJudgeIsTheSoftmaxOfTheLabelsLogProbabilitiesFromScore) {
  const fs::path store = directory_ / "run.sqlite";
  ASSERT_EQ(run(write_config(config(2), "c.json"), store).status, 0);
  const auto judged = rows(store,
                           "SELECT solution_text, metadata, objective, measures FROM candidate "
                           "WHERE json_extract(metadata, '$.rejected') IS NULL LIMIT 2");
  ASSERT_FALSE(judged.empty());
  int compared = 0;
  for (const auto& row : judged) {
    std::vector<std::string> parts;
    std::size_t at = 0;
    for (int i = 0; i < 4; ++i) {
      const std::size_t bar = row.find('|', at);
      parts.push_back(row.substr(at, bar - at));
      at = bar + 1;
    }
    // The text itself holds no '|': the tokenizer's pieces of a random model might, so skip.
    if (std::count(row.begin(), row.end(), '|') != 4) continue;
    const std::string prompt =
        "### Instruction:\nHorror or romance?\n\n### Input:\n" + parts[0] + "\n\n### Response:";
    const auto scored =
        qdgen_test::qdgen("score --model " + model_.string() + " --prompt " + quoted(prompt) +
                          " --continuation ' horror' --continuation ' romance' --format json");
    ASSERT_EQ(scored.status, 0) << scored.output;
    std::vector<double> logprobs;
    std::istringstream lines(scored.output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') logprobs.push_back(json::parse(line)["logprob"]);
    ASSERT_EQ(logprobs.size(), 2u) << scored.output;
    const json metadata = json::parse(parts[1]);
    const auto stored = metadata["judge"]["measure_0"]["logprobs"].get<std::vector<double>>();
    EXPECT_NEAR(stored[0], logprobs[0], 1e-4);
    EXPECT_NEAR(stored[1], logprobs[1], 1e-4);
    const double p = std::exp(logprobs[0]) / (std::exp(logprobs[0]) + std::exp(logprobs[1]));
    EXPECT_NEAR(json::parse(parts[3])[0].get<double>(), p, 1e-4);
    // Quality: P(" yes") times the repetition penalty's factor.
    const double yes = metadata["judge"]["quality"]["value"];
    const double repeated = metadata["judge"]["repetition"];
    EXPECT_NEAR(std::stod(parts[2]), yes * std::max(0.0, 1 - 0.5 * repeated), 1e-9);
    ++compared;
  }
  EXPECT_GE(compared, 1);
}

TEST_F(TextRun, LmxReplaceSwapsOnePositionOfItsParentsExamplesForAPoolText) {
  json c = config(5);
  c["emitters"][0]["operators"] = {{"lmx_replace", 1}};
  c["domain"]["operators"] = {{"lmx_replace", {{"pool", 2}}}};
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(c, "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  // One JSON object per row: texts may hold the row reader's '|'.
  const auto objects = [&](const std::string& where) {
    std::vector<json> out;
    for (const auto& row :
         rows(store,
              "SELECT json_object('id', candidate_id, 'text', solution_text, 'parents', "
              "json(parent_ids), 'examples', json_extract(metadata, '$.examples'), "
              "'replaced', json_extract(metadata, '$.operator.replaced')) FROM candidate " +
                  where + " ORDER BY candidate_id"))
      out.push_back(json::parse(row.substr(0, row.size() - 1)));
    return out;
  };
  std::map<std::int64_t, json> by_id;
  for (const json& candidate : objects("")) by_id[candidate["id"]] = candidate;
  const std::vector<std::string> seeds = c["domain"]["seeds"];
  int replaced = 0;
  for (const json& child : objects("WHERE operator = 'lmx_replace'")) {
    ASSERT_EQ(child["parents"].size(), 1u) << child;
    const json& mine = child["examples"];
    const json& theirs = by_id.at(child["parents"][0])["examples"];
    ASSERT_EQ(mine.size(), theirs.size()) << child;
    const std::size_t position = child["replaced"];
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (i == position) continue;
      EXPECT_EQ(mine[i], theirs[i]) << child;
    }
    // The swapped-in text is a seed or the text of an earlier candidate (an elite then).
    const std::string in = mine[position];
    bool known = std::find(seeds.begin(), seeds.end(), in) != seeds.end();
    for (const auto& [id, other] : by_id)
      known |= id < child["id"].get<std::int64_t>() && other["text"] == in;
    EXPECT_TRUE(known) << in;
    ++replaced;
  }
  EXPECT_EQ(replaced, 24);  // every child after the first iteration
}

// A config over two random LoRA experts: mixture mutation only, the map an expert-likelihood
// axis, `examples` as given.
json mixture_config(json c, const fs::path& directory, const std::string& examples) {
  auto model_config = qdgen::testing::tiny_llama_config();
  model_config.vocab_size = 32000;
  model_config.max_position_embeddings = 512;
  qdgen::inference::write_peft_adapter(
      directory / "poems",
      qdgen::testing::random_lora_adapter(model_config, "poems", qdgen::testing::all_lora_targets(),
                                          4, 32.0, 11));
  qdgen::inference::write_peft_adapter(
      directory / "science",
      qdgen::testing::random_lora_adapter(model_config, "science",
                                          qdgen::testing::all_lora_targets(), 4, 32.0, 12));
  c["model"]["adapters"] = {{"poems", (directory / "poems").string()},
                            {"science", (directory / "science").string()}};
  c["domain"]["experts"] = {"poems", "science"};
  c["domain"]["measures"] = {{{"kind", "experts"}, {"experts", {"poems", "science"}}}};
  c["emitters"][0]["operators"] = {{"mixture", 1}};
  c["domain"]["operators"] = {{"mixture", {{"sigma", 0.0}, {"examples", examples}}}};
  c["domain"].erase("duplicates");
  return c;
}

// One JSON object per mixture child and per candidate by id: parents, examples, mixture and
// the operator's genome (texts may hold the row reader's '|', so one object per row).
std::map<std::int64_t, json> candidates_by_id(const fs::path& store) {
  std::map<std::int64_t, json> out;
  for (const auto& row :
       rows(store,
            "SELECT json_object('id', candidate_id, 'op', operator, 'parents', json(parent_ids), "
            "'examples', json_extract(metadata, '$.examples'), 'mixture', "
            "json_extract(metadata, '$.mixture'), 'genome', json_extract(metadata, '$.operator')) "
            "FROM candidate ORDER BY candidate_id")) {
    const json candidate = json::parse(row.substr(0, row.size() - 1));
    out[candidate["id"]] = candidate;
  }
  return out;
}

TEST_F(TextRun, MixtureFromSeedsKeepsItsParentsMixtureAtSigmaZeroAndWritesFromTheSeeds) {
  const json c = mixture_config(config(4), directory_, "seeds");
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(c, "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::vector<std::string> seeds = c["domain"]["seeds"];
  const auto all = candidates_by_id(store);
  int children = 0;
  for (const auto& [id, child] : all) {
    if (child["op"] != "mixture") continue;
    ++children;
    // One parent (no crossover): its mixture, as sigma is 0 (to the last digits the
    // log/exp round trip of the perturbation may change).
    ASSERT_EQ(child["parents"].size(), 1u) << child;
    const json& parent = all.at(child["parents"][0]);
    ASSERT_EQ(child["mixture"].size(), parent["mixture"].size()) << child;
    for (const auto& [expert, weight] : parent["mixture"].items())
      EXPECT_NEAR(child["mixture"].at(expert).get<double>(), weight.get<double>(), 1e-12) << child;
    EXPECT_EQ(child["genome"]["examples"], "seeds") << child;
    EXPECT_EQ(child["genome"]["mixture_op"], "gaussian") << child;
    // Three distinct seeds, whatever the parent was written from.
    const std::vector<std::string> examples = child["examples"];
    ASSERT_EQ(examples.size(), 3u) << child;
    for (const std::string& example : examples)
      EXPECT_NE(std::find(seeds.begin(), seeds.end(), example), seeds.end()) << example;
    EXPECT_EQ(std::set<std::string>(examples.begin(), examples.end()).size(), 3u) << child;
  }
  EXPECT_EQ(children, 18);  // every child after the first iteration
}

TEST_F(TextRun, MixtureCrossoverBlendsTwoParentsMixturesInLogSpace) {
  json c = mixture_config(config(4), directory_, "seeds");
  c["domain"]["operators"]["mixture"]["crossover"] = 1.0;
  const fs::path store = directory_ / "run.sqlite";
  ASSERT_EQ(run(write_config(c, "c.json"), store).status, 0);
  const auto all = candidates_by_id(store);
  int crossed = 0;
  for (const auto& [id, child] : all) {
    if (child["op"] != "mixture" || child["parents"].size() != 2) continue;
    ++crossed;
    EXPECT_EQ(child["genome"]["mixture_op"], "crossover") << child;
    // Convex mixtures of two experts: a blend a log w1 + (1 - a) log w2, softmaxed, puts the
    // child's log ratio of the experts between its parents'.
    const auto log_ratio = [](const json& m) {
      return std::log(m["poems"].get<double>() / m["science"].get<double>());
    };
    const double a = log_ratio(all.at(child["parents"][0])["mixture"]);
    const double b = log_ratio(all.at(child["parents"][1])["mixture"]);
    const double mine = log_ratio(child["mixture"]);
    EXPECT_GE(mine, std::min(a, b) - 1e-9) << child;
    EXPECT_LE(mine, std::max(a, b) + 1e-9) << child;
  }
  EXPECT_GT(crossed, 0);
}

TEST_F(TextRun, MixtureNearWritesFromElitesAndSeedsNeedSeeds) {
  json c = mixture_config(config(3), directory_, "near");
  const fs::path store = directory_ / "run.sqlite";
  ASSERT_EQ(run(write_config(c, "c.json"), store).status, 0);
  const auto all = candidates_by_id(store);
  int children = 0;
  for (const auto& [id, child] : all) {
    if (child["op"] != "mixture") continue;
    ++children;
    EXPECT_FALSE(child["genome"].contains("examples")) << child;
    // LMX near: the examples are earlier candidates' texts (the elites drawn as parents).
    EXPECT_GE(child["parents"].size(), child["examples"].size()) << child;
  }
  EXPECT_EQ(children, 12);
  c = mixture_config(config(3), directory_, "seeds");
  c["domain"]["template"] = "Story:";
  c["domain"].erase("seeds");
  expect_refused(c,
                 "domain.operators.mixture.examples: \"seeds\" but the domain has no "
                 "\"seeds\" to draw from");
}

TEST_F(TextRun, SeedShotsPutSeedsBeforeTheNeighbourhoodsElitesAndNovelParentsRun) {
  json c = mixture_config(config(4), directory_, "near");
  c["domain"]["operators"]["mixture"]["seed_shots"] = 1;
  c["domain"]["operators"]["mixture"]["parent"] = "novel";
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(c, "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  const std::vector<std::string> seeds = c["domain"]["seeds"];
  std::map<std::int64_t, std::string> texts;
  for (const auto& row : rows(store, "SELECT candidate_id, solution_text FROM candidate")) {
    const auto bar = row.find('|');
    texts[std::stoll(row.substr(0, bar))] = row.substr(bar + 1, row.size() - bar - 2);
  }
  int children = 0;
  for (const auto& [id, child] : candidates_by_id(store)) {
    if (child["op"] != "mixture") continue;
    ++children;
    const std::vector<std::string> examples = child["examples"];
    ASSERT_EQ(examples.size(), 3u) << child;
    EXPECT_NE(std::find(seeds.begin(), seeds.end(), examples[0]), seeds.end()) << child;
    // The other two: the texts of elites drawn by LMX near, each one of the child's parents.
    std::set<std::string> parents;
    for (const auto& parent : child["parents"])
      parents.insert(texts.at(parent.get<std::int64_t>()));
    for (std::size_t e = 1; e < examples.size(); ++e)
      EXPECT_TRUE(parents.count(examples[e])) << child;
  }
  EXPECT_EQ(children, 18);

  // LMX near with every shot a seed: three distinct seeds, whatever the archive holds.
  c = config(3);
  c["domain"]["operators"] = {{"lmx_near", {{"seed_shots", 3}}}};
  c["emitters"][0]["operators"] = {{"lmx_near", 1}};
  const fs::path near_store = directory_ / "near.sqlite";
  ASSERT_EQ(run(write_config(c, "near.json"), near_store).status, 0);
  int near = 0;
  for (const auto& [id, child] : candidates_by_id(near_store)) {
    if (child["op"] != "lmx_near") continue;
    ++near;
    const std::vector<std::string> examples = child["examples"];
    ASSERT_EQ(examples.size(), 3u) << child;
    for (const std::string& example : examples)
      EXPECT_NE(std::find(seeds.begin(), seeds.end(), example), seeds.end()) << child;
    EXPECT_EQ(std::set<std::string>(examples.begin(), examples.end()).size(), 3u) << child;
  }
  EXPECT_EQ(near, 12);
}

TEST_F(TextRun, SameSeedSameRunAtOneAndTwoThreads) {
  const fs::path c = write_config(config(3), "c.json");
  ASSERT_EQ(run(c, directory_ / "one.sqlite", "--threads 1").status, 0);
  ASSERT_EQ(run(c, directory_ / "two.sqlite", "--threads 2").status, 0);
  EXPECT_EQ(rows(directory_ / "one.sqlite", kCandidates),
            rows(directory_ / "two.sqlite", kCandidates));
  EXPECT_EQ(rows(directory_ / "one.sqlite", kElites), rows(directory_ / "two.sqlite", kElites));
}

TEST_F(TextRun, ResumeAfterSigkillEndsWithTheUninterruptedArchive) {
  json c = config(12);
  c["store"] = {{"commit_seconds", 0}};
  const fs::path path = write_config(c, "c.json");
  const fs::path reference = directory_ / "reference.sqlite";
  ASSERT_EQ(run(path, reference).status, 0);
  const fs::path killed = directory_ / "killed.sqlite";
  const pid_t child = fork();
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    execl(QDGEN_BINARY, QDGEN_BINARY, "run", path.c_str(), "--out", killed.c_str(), "--model",
          model_.c_str(), nullptr);
    _exit(127);
  }
  // Killed once 3 of its 12 iterations are committed; the deadline only bounds a hung run
  // (a loaded machine may take minutes to get there, and a kill before the store exists
  // would test nothing).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(killed) && rows(killed, "SELECT 1 FROM iteration").size() >= 3))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  const auto resumed =
      qdgen_test::qdgen("run --resume " + killed.string() + " --model " + model_.string());
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(rows(killed, kElites), rows(reference, kElites));
  EXPECT_EQ(rows(killed, kCandidates), rows(reference, kCandidates));
}

TEST_F(TextRun, DegenerateChildrenAreStoredAtMinusInfinityAndCountedNeverAdded) {
  json c = config(2);
  c["domain"]["penalties"]["min_words"] = 1000;  // every child is too short
  c["domain"]["penalties"]["max_words"] = 2000;
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(c, "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  const auto candidates =
      rows(store,
           "SELECT objective < -1e308, json_extract(metadata, '$.rejected'), status "
           "FROM candidate");
  ASSERT_EQ(candidates.size(), 12u);
  for (const auto& row : candidates) EXPECT_EQ(row, "1|too_short|0|");
  EXPECT_TRUE(rows(store, "SELECT 1 FROM elite").empty());
  EXPECT_EQ(rows(store,
                 "SELECT json_extract(metrics, '$.text.rejected.too_short') FROM "
                 "iteration ORDER BY iteration"),
            (std::vector<std::string>{"6|", "6|"}));
}

TEST_F(TextRun, NearDuplicatesOfACellsOrANeighboursEliteAreRejected) {
  json c = config(4);
  c["domain"]["duplicates"] = {{"ngram", 1}, {"threshold", 0.0}};  // any overlap at all
  const fs::path store = directory_ / "run.sqlite";
  const auto result = run(write_config(c, "c.json"), store);
  ASSERT_EQ(result.status, 0) << result.output;
  // The first iteration meets an empty archive; later children that land in or beside a
  // filled cell are rejected, and none of them was added.
  EXPECT_TRUE(rows(store,
                   "SELECT 1 FROM candidate WHERE iteration = 0 AND "
                   "json_extract(metadata, '$.rejected') = 'duplicate'")
                  .empty());
  const auto duplicates =
      rows(store,
           "SELECT status, json_extract(metadata, '$.duplicate_overlap') FROM candidate "
           "WHERE json_extract(metadata, '$.rejected') = 'duplicate'");
  ASSERT_FALSE(duplicates.empty());
  for (const auto& row : duplicates) EXPECT_EQ(row.substr(0, 2), "0|") << row;
}

TEST_F(TextRun, EmbeddingNearDuplicatesAreRejectedByTheirCosine) {
  // Any cosine at all, with an n-gram threshold no child reaches: only the embedding test can
  // reject, and it rejects every child that lands in or beside a filled cell.
  json c = config(4);
  c["domain"]["duplicates"] = {{"threshold", 1.0}, {"ngram", 16}, {"embedding_threshold", -1.0}};
  const fs::path store = directory_ / "run.sqlite";
  ASSERT_EQ(run(write_config(c, "c.json"), store).status, 0);
  const auto rejected =
      rows(store,
           "SELECT status, json_extract(metadata, '$.duplicate_cosine'), embedding IS NOT NULL "
           "FROM candidate WHERE json_extract(metadata, '$.rejected') = 'duplicate'");
  ASSERT_FALSE(rejected.empty());
  for (const auto& row : rejected) {
    EXPECT_EQ(row.substr(0, 2), "0|") << row;             // never added
    EXPECT_EQ(row.substr(row.size() - 3), "|1|") << row;  // its embedding kept
    const double cosine = std::stod(row.substr(2));
    EXPECT_GE(cosine, -1.0) << row;
    EXPECT_LE(cosine, 1.0) << row;
  }
  // A real threshold: a judged child beside an elite is rejected exactly when its cosine (or
  // its overlap) reaches the threshold.
  c["domain"]["duplicates"] = {{"threshold", 0.9}, {"embedding_threshold", 0.95}};
  const fs::path second = directory_ / "second.sqlite";
  ASSERT_EQ(run(write_config(c, "c.json"), second).status, 0);
  const auto judged = rows(second,
                           "SELECT json_extract(metadata, '$.duplicate_cosine'), "
                           "json_extract(metadata, '$.duplicate_overlap'), "
                           "coalesce(json_extract(metadata, '$.rejected'), '') FROM candidate "
                           "WHERE json_extract(metadata, '$.duplicate_cosine') IS NOT NULL");
  ASSERT_FALSE(judged.empty());
  for (const auto& row : judged) {
    std::istringstream fields(row);
    std::string cosine, overlap, reason;
    std::getline(fields, cosine, '|');
    std::getline(fields, overlap, '|');
    std::getline(fields, reason, '|');
    const bool near = std::stod(cosine) >= 0.95 || std::stod(overlap) >= 0.9;
    EXPECT_EQ(reason == "duplicate", near) << row;
  }
  // Out of a cosine's range, or an own_cell that is no boolean: refused, naming the key.
  json bad = c;
  bad["domain"]["duplicates"]["embedding_threshold"] = 1.5;
  expect_refused(bad, "domain.duplicates.embedding_threshold: expected a number in [-1, 1]");
  bad = c;
  bad["domain"]["duplicates"]["own_cell"] = "no";
  expect_refused(bad, "domain.duplicates.own_cell: expected");
  // Without embeddings there is nothing to compare: refused before a store is made.
  c["domain"]["embeddings"] = false;
  expect_refused(c,
                 "domain.duplicates: has an embedding_threshold but \"embeddings\" is off "
                 "(set it true)");
}

TEST_F(TextRun, WithoutOwnCellOnlyTheNeighboursEliteMakeADuplicate) {
  // Any overlap rejects. Iteration 1 meets the same archive and writes the same children in
  // both runs, so what own_cell false rejects there is what own_cell true rejects less the
  // children whose only filled cell nearby is their own.
  json c = config(2);
  c["domain"]["duplicates"] = {{"ngram", 1}, {"threshold", 0.0}};
  const std::string query =
      "SELECT printf('%03d', batch_index) FROM candidate WHERE iteration = 1 AND "
      "json_extract(metadata, '$.rejected') = 'duplicate' ORDER BY batch_index";
  ASSERT_EQ(run(write_config(c, "c.json"), directory_ / "own.sqlite").status, 0);
  c["domain"]["duplicates"]["own_cell"] = false;
  ASSERT_EQ(run(write_config(c, "c.json"), directory_ / "neighbours.sqlite").status, 0);
  const auto with_own = rows(directory_ / "own.sqlite", query);
  const auto neighbours_only = rows(directory_ / "neighbours.sqlite", query);
  EXPECT_TRUE(std::includes(with_own.begin(), with_own.end(), neighbours_only.begin(),
                            neighbours_only.end()));
  EXPECT_LT(neighbours_only.size(), with_own.size());
}

TEST_F(TextRun, ATextConfigWithoutAModelSaysHowToGiveOne) {
  json c = config(2);
  c.erase("model");
  const auto result =
      qdgen_test::qdgen("run " + write_config(c, "c.json").string() + " --in-memory 2>&1");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("domain 'text' needs a language model: give the config a "
                               "\"model\": {\"path\": ...} or pass --model DIR"),
            std::string::npos)
      << result.output;
}

}  // namespace

#endif
