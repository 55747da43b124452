#pragma once
// The default model qdgen builds itself from Debian's fortunes: its recipe, the cache folder
// it lives in (keyed by a hash of the recipe and the corpus) and the manifest that says what
// the folder holds. No libtorch: the command line finds and checks the cache without the
// model module; building it is the module's (build_default_model, training.hpp).
//
// Layout: <cache>/default-model/<key>/
//   manifest.json                 recipe, corpus hash, files (bytes + hash), experts, losses
//   base/                         a Hugging Face folder (config.json, model.safetensors,
//                                 tokenizer.json, tokenizer_config.json, generation_config.json)
//   experts/<category>/           one PEFT LoRA adapter per category (adapter_config.json,
//                                 adapter_model.safetensors)
// where <cache> is $XDG_CACHE_HOME/qdgen (an absolute XDG_CACHE_HOME), else ~/.cache/qdgen.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qdgen::inference {

inline constexpr const char* kFortunesFolder = "/usr/share/games/fortunes";
// The environment that points every default-model command (build-default, info, --model
// default) elsewhere: a fortune-format corpus folder, and a JSON recipe merged over the
// built-in one (RFC 7386 merge patch: only the keys it names change).
inline constexpr const char* kFortunesFolderVariable = "QDGEN_FORTUNES_DIR";
inline constexpr const char* kRecipeVariable = "QDGEN_DEFAULT_MODEL_RECIPE";
inline constexpr const char* kDefaultModelManifestFormat = "qdgen default model";
inline constexpr int kDefaultModelManifestVersion = 1;

struct DefaultModelRecipe {
  std::uint64_t seed = 0;
  double heldout_fraction = 0.05;  // of the documents, by id (the same ones in every file)
  std::size_t vocab = 4096;        // tokenizer: special tokens + 256 bytes + merges
  std::int64_t hidden_size = 256, intermediate_size = 768, layers = 4, heads = 4, kv_heads = 4;
  std::int64_t context = 256;
  std::int64_t base_steps = 450, base_batch = 8;
  double base_learning_rate = 2e-3;
  std::vector<std::string> categories;  // fortune files (by name) that get an expert each
  std::int64_t lora_r = 8;
  double lora_alpha = 16;
  std::vector<std::string> lora_targets;
  double expert_epochs = 2;                              // over the category's training windows ...
  std::int64_t expert_max_steps = 40, expert_batch = 8;  // ... at most this many steps
  double expert_learning_rate = 3e-3;
};

// The built-in recipe as JSON (the keys a recipe file may change).
nlohmann::json default_recipe_json();
// Reads a recipe (the built-in one patched by `patch`); errors name `source` and the key.
DefaultModelRecipe parse_recipe(const nlohmann::json& recipe, const std::string& source);

struct DefaultModelPlan {
  std::filesystem::path corpus_folder;
  std::vector<std::filesystem::path> corpus_files;  // the whole corpus, in name order
  std::vector<std::pair<std::string, std::filesystem::path>> categories;  // name -> file
  nlohmann::json recipe_json;  // the recipe in full, as hashed
  DefaultModelRecipe recipe;
  std::string corpus_hash;  // 16 hex digits over the files' names and contents
  std::uint64_t corpus_bytes = 0;
  std::string key;               // 16 hex digits over the recipe and the corpus hash
  std::filesystem::path root;    // <cache>/default-model
  std::filesystem::path folder;  // root / key
};

// The corpus folder and recipe file the environment names (empty: the defaults).
struct DefaultModelSources {
  std::filesystem::path corpus_folder = kFortunesFolder;
  std::filesystem::path recipe_file;  // empty: the built-in recipe
};
DefaultModelSources default_model_sources_from_environment();

// <cache>/default-model. Throws when neither XDG_CACHE_HOME nor HOME gives a folder.
std::filesystem::path default_model_cache_root();

// Reads the corpus and the recipe and works out where the model lives. A missing corpus
// folder is an error naming the Debian package `fortunes`.
DefaultModelPlan plan_default_model(const DefaultModelSources& sources);

struct DefaultModelState {
  bool ready = false;
  std::string problem;      // why not: "not built yet", or what is damaged
  nlohmann::json manifest;  // when ready
};
// Whether plan.folder holds a whole default model of this plan: the manifest parses, names
// this key, recipe and corpus hash, and every file it lists has its size and hash.
DefaultModelState check_default_model(const DefaultModelPlan& plan);

// The files under `folder` (recursively, but not manifest.json) by relative path, each as
// {"bytes", "fnv1a64"}: what the manifest lists and check_default_model verifies.
nlohmann::json describe_files(const std::filesystem::path& folder);

// An exclusive lock on <root>/.lock while a default model is built (a second builder waits,
// then finds the model built).
class DefaultModelLock {
 public:
  explicit DefaultModelLock(const std::filesystem::path& root);
  ~DefaultModelLock();
  DefaultModelLock(const DefaultModelLock&) = delete;
  DefaultModelLock& operator=(const DefaultModelLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace qdgen::inference
