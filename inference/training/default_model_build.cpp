// build_default_model: the tokenizer, the base, the experts and their evaluation, staged in
// a folder beside the cache entry and renamed into it whole.

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include "default_model_evaluation.hpp"
#include "output_folder.hpp"
#include "qdgen/inference/corpus.hpp"
#include "qdgen/inference/tokenizer_trainer.hpp"
#include "qdgen/inference/training.hpp"
#include "training_corpus.hpp"
#include "training_setup.hpp"

namespace qdgen::inference {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// User + system time of this process: with other work on the machine, what the build itself
// cost.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = -1;
  in >> one_minute;
  return one_minute;
}

// Staging folders left by a builder that died (the lock is held: none is in use).
void remove_stale_staging(const fs::path& root) {
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.find(".building-") != std::string::npos) {
      fs::remove_all(entry.path());
    }
  }
}

json training_summary(const TrainingResult& r, double seconds) {
  return {{"steps", r.steps},
          {"loss", r.loss},
          {"heldout_loss", r.heldout_loss ? json(*r.heldout_loss) : json()},
          {"parameters", r.parameters},
          {"trainable_parameters", r.trainable_parameters},
          {"train_tokens", r.train_tokens},
          {"heldout_tokens", r.heldout_tokens},
          {"train_documents", r.train_documents},
          {"heldout_documents", r.heldout_documents},
          {"tokens_per_second", r.tokens_per_second},
          {"seconds", seconds}};
}

LlamaConfig base_config(const DefaultModelRecipe& r, std::int64_t vocab) {
  LlamaConfig c;
  c.vocab_size = vocab;
  c.hidden_size = r.hidden_size;
  c.intermediate_size = r.intermediate_size;
  c.num_hidden_layers = r.layers;
  c.num_attention_heads = r.heads;
  c.num_key_value_heads = r.kv_heads;
  c.head_dim = r.hidden_size / r.heads;
  c.max_position_embeddings = r.context;
  c.tie_word_embeddings = true;
  validate_llama_config(c, "the default-model recipe");
  return c;
}

TrainingOptions common_options(const DefaultModelBuild& build) {
  const DefaultModelRecipe& r = build.plan.recipe;
  TrainingOptions o;
  o.context = r.context;
  o.seed = r.seed;
  o.heldout_fraction = r.heldout_fraction;
  o.eval_every = 0;            // the end only: the table below is the evaluation
  o.eval_windows = 1LL << 40;  // all of the held-out side
  o.threads = build.threads;
  return o;
}

}  // namespace

json build_default_model(const DefaultModelBuild& build, const DefaultModelProgressFn& progress) {
  const DefaultModelPlan& plan = build.plan;
  const DefaultModelRecipe& r = plan.recipe;
  DefaultModelLock lock(plan.root);
  if (!build.force) {
    DefaultModelState state = check_default_model(plan);
    if (state.ready) return state.manifest;  // another process built it while this one waited
  }
  remove_stale_staging(plan.root);
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  const double load_start = load_average();
  const fs::path staging = plan.root / ("." + plan.key + ".building-" + std::to_string(getpid()));
  fs::create_directories(staging);
  try {
    json timings = json::object();
    TrainingProgress none;
    // The tokenizer sees the training side only, so no held-out text shapes its merges.
    auto stage_start = Clock::now();
    if (progress) progress("tokenizer", 0, 1, none);
    const auto documents = read_corpus(plan.corpus_files, CorpusFormat::kAuto);
    std::vector<std::string_view> texts;
    for (const CorpusDocument& d : documents) {
      if (!is_held_out(d.id, r.heldout_fraction)) texts.push_back(d.text);
    }
    BpeTrainingOptions bpe;
    bpe.vocab_size = r.vocab;
    bpe.threads = static_cast<unsigned>(build.threads);
    const TrainedBpeTokenizer trained = train_bpe_tokenizer(texts, bpe);
    const fs::path tokenizer = staging / "tokenizer" / "tokenizer.json";
    fs::create_directories(tokenizer.parent_path());
    save_trained_tokenizer(trained, tokenizer, false);
    timings["tokenizer"] = seconds_since(stage_start);

    // The base on the whole corpus.
    stage_start = Clock::now();
    const LlamaConfig config = base_config(r, static_cast<std::int64_t>(trained.tokens.size()));
    const fs::path config_file = staging / "model_config.json";
    training::write_text_file(config_file, to_json(config).dump(2) + "\n");
    BaseTrainingOptions base;
    base.model_config = config_file;
    base.tokenizer = tokenizer;
    base.training = common_options(build);
    base.training.data = plan.corpus_files;
    base.training.out = staging / "base";
    base.training.checkpoint_dir = staging / "checkpoints" / "base";
    base.training.steps = r.base_steps;
    base.training.batch = r.base_batch;
    base.training.learning_rate = r.base_learning_rate;
    const TrainingResult base_result = train_base(base, [&](const TrainingProgress& p) {
      if (progress) progress("base", 0, 1, p);
    });
    timings["base"] = seconds_since(stage_start);

    // One expert per category; its steps follow the category's size (epochs), capped.
    const auto loaded = load_tokenizer(staging / "base" / "tokenizer.json");
    const TokenId end_of_text = training::end_of_text_token(*loaded, tokenizer);
    json experts = json::object();
    json expert_timings = json::object();
    const int count = static_cast<int>(plan.categories.size());
    for (int i = 0; i < count; ++i) {
      const auto& [name, file] = plan.categories[static_cast<std::size_t>(i)];
      stage_start = Clock::now();
      const fs::path files[] = {file};
      const training::TrainingCorpus corpus(read_corpus(files, CorpusFormat::kAuto), *loaded,
                                            end_of_text, {r.context, r.heldout_fraction},
                                            file.string());
      const double wanted =
          std::ceil(r.expert_epochs * static_cast<double>(corpus.train_windows()) /
                    static_cast<double>(r.expert_batch));
      LoraTrainingOptions lora;
      lora.model = staging / "base";
      lora.base_model_name = fs::absolute(plan.folder / "base").lexically_normal().string();
      lora.r = r.lora_r;
      lora.alpha = r.lora_alpha;
      lora.targets = r.lora_targets;
      lora.training = common_options(build);
      lora.training.data = {file};
      lora.training.out = staging / "experts" / name;
      lora.training.checkpoint_dir = staging / "checkpoints" / ("expert-" + name);
      lora.training.steps =
          std::clamp<std::int64_t>(static_cast<std::int64_t>(wanted), 1, r.expert_max_steps);
      lora.training.batch = r.expert_batch;
      lora.training.learning_rate = r.expert_learning_rate;
      lora.training.weight_decay = 0;
      const std::string stage = "expert " + name;
      const TrainingResult result = train_lora(lora, [&](const TrainingProgress& p) {
        if (progress) progress(stage, i, count, p);
      });
      const double seconds = seconds_since(stage_start);
      json summary = training_summary(result, seconds);
      summary["folder"] = "experts/" + name;
      summary["file"] = file.string();
      experts[name] = summary;
      expert_timings[name] = seconds;
    }
    timings["experts"] = expert_timings;

    stage_start = Clock::now();
    if (progress) progress("evaluation", 0, 1, none);
    json evaluation = training::evaluate_experts(staging, plan, r.expert_batch);
    timings["evaluation"] = seconds_since(stage_start);

    // What the cache keeps: the base and the experts (their checkpoints and the staged
    // tokenizer and config are copies or intermediate).
    fs::remove_all(staging / "checkpoints");
    fs::remove_all(staging / "tokenizer");
    fs::remove(config_file);
    timings["total"] = seconds_since(start);
    timings["cpu_seconds"] = cpu_seconds() - cpu_start;
    timings["load_average_1min"] = {{"start", load_start}, {"end", load_average()}};
    timings["threads"] = base_result.threads;

    json base_summary = training_summary(base_result, timings["base"].get<double>());
    base_summary["folder"] = "base";
    base_summary["config"] = to_json(config);
    json manifest = {
        {"format", kDefaultModelManifestFormat},
        {"version", kDefaultModelManifestVersion},
        {"key", plan.key},
        {"recipe", plan.recipe_json},
        {"corpus",
         {{"folder", fs::absolute(plan.corpus_folder).lexically_normal().string()},
          {"hash", plan.corpus_hash},
          {"files", plan.corpus_files.size()},
          {"bytes", plan.corpus_bytes},
          {"documents", documents.size()}}},
        {"tokenizer", {{"vocab", trained.tokens.size()}, {"file", "base/tokenizer.json"}}},
        {"base", base_summary},
        {"experts", experts},
        {"evaluation", evaluation},
        {"timings", timings}};
    manifest["files"] = describe_files(staging);
    training::write_text_file(staging / "manifest.json", manifest.dump(2) + "\n");

    // A damaged entry steps aside first; the new one appears under the key whole.
    const fs::path damaged = plan.root / ("." + plan.key + ".damaged-" + std::to_string(getpid()));
    const bool replacing = fs::exists(fs::symlink_status(plan.folder));
    if (replacing) fs::rename(plan.folder, damaged);
    fs::rename(staging, plan.folder);
    if (replacing) fs::remove_all(damaged);
    return manifest;
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
}

}  // namespace qdgen::inference
