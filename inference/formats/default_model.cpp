// The default model's recipe, cache folder and manifest (torch-free; see default_model.hpp).

#include "qdgen/inference/default_model.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "qdgen/inference/corpus.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kManifestFormat = kDefaultModelManifestFormat;
constexpr int kManifestVersion = kDefaultModelManifestVersion;

class Fnv1a {
 public:
  void add(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 0x100000001b3ull;
    }
  }
  void add(const std::string& text) { add(text.data(), text.size() + 1); }  // with its NUL
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

// Adds a file's bytes; returns how many. Throws naming the file when it cannot be read.
std::uint64_t hash_file(const fs::path& file, Fnv1a& hash) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  std::vector<char> buffer(1 << 16);
  std::uint64_t bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    hash.add(buffer.data(), got);
    bytes += got;
  }
  if (in.bad()) throw std::runtime_error(file.string() + ": cannot read: " + std::strerror(errno));
  return bytes;
}

// Reads the recipe's keys, each checked, naming `source` and the key path at fault.
class RecipeReader {
 public:
  RecipeReader(const json& recipe, std::string source)
      : recipe_(recipe), source_(std::move(source)) {}

  const json& at(const std::string& group, const std::string& key) {
    used_[group].insert(key);
    const json& object = group.empty() ? recipe_ : recipe_.at(group);
    if (!object.contains(key)) fail(group, key, "is missing");
    return object.at(key);
  }
  std::int64_t integer(const std::string& group, const std::string& key, std::int64_t low) {
    const json& value = at(group, key);
    if (!value.is_number_integer() || value.get<std::int64_t>() < low) {
      fail(group, key, "expected an integer >= " + std::to_string(low) + ", got " + value.dump());
    }
    return value.get<std::int64_t>();
  }
  double number(const std::string& group, const std::string& key, double low, double high) {
    const json& value = at(group, key);
    if (!value.is_number() || !(value.get<double>() >= low && value.get<double>() <= high)) {
      fail(group, key,
           "expected a number in [" + json(low).dump() + ", " + json(high).dump() + "], got " +
               value.dump());
    }
    return value.get<double>();
  }
  std::vector<std::string> strings(const std::string& group, const std::string& key) {
    const json& value = at(group, key);
    std::vector<std::string> out;
    if (value.is_array()) {
      for (const json& item : value) {
        if (!item.is_string() || item.get<std::string>().empty()) break;
        out.push_back(item.get<std::string>());
      }
    }
    if (!value.is_array() || out.size() != value.size() || out.empty()) {
      fail(group, key, "expected a list of names, got " + value.dump());
    }
    return out;
  }
  // Every group must be an object and every key one that was read.
  void check_groups(const std::vector<std::string>& groups) {
    for (const std::string& group : groups) {
      if (!recipe_.contains(group) || !recipe_.at(group).is_object()) {
        fail("", group, "expected an object");
      }
    }
  }
  void check_unknown() {
    for (const auto& [key, value] : recipe_.items()) {
      if (value.is_object()) {
        for (const auto& [inner, ignored] : value.items()) {
          if (!used_[key].count(inner)) fail(key, inner, "is not a recipe key");
        }
      } else if (!used_[""].count(key)) {
        fail("", key, "is not a recipe key");
      }
    }
  }
  [[noreturn]] void fail(const std::string& group, const std::string& key,
                         const std::string& problem) {
    throw std::runtime_error(source_ + ": " + (group.empty() ? "" : group + ".") + key + ": " +
                             problem);
  }

 private:
  const json& recipe_;
  std::string source_;
  std::map<std::string, std::set<std::string>> used_;
};

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

json read_json_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  const json value = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) throw std::runtime_error(file.string() + ": not valid JSON");
  return value;
}

}  // namespace

json default_recipe_json() {
  // Chosen to differ: verse, machines, lab, state, office, courts, studio, the sexes. (Food, the
  // smallest candidate at 34 kB, got 10 steps and its expert lost to two others there.)
  return {
      {"seed", 0},
      {"heldout_fraction", 0.05},
      {"tokenizer", {{"vocab", 4096}}},
      {"model",
       {{"hidden_size", 256},
        {"intermediate_size", 768},
        {"num_hidden_layers", 4},
        {"num_attention_heads", 4},
        {"num_key_value_heads", 4},
        {"context", 256}}},
      {"base", {{"steps", 450}, {"batch", 8}, {"learning_rate", 2e-3}}},
      {"experts",
       {{"categories",
         {"songs-poems", "computers", "science", "politics", "work", "law", "art", "men-women"}},
        {"r", 8},
        {"alpha", 16},
        {"targets", {"all-linear"}},
        {"epochs", 2},
        {"max_steps", 40},
        {"batch", 8},
        {"learning_rate", 3e-3}}}};
}

DefaultModelRecipe parse_recipe(const json& recipe, const std::string& source) {
  if (!recipe.is_object()) {
    throw std::runtime_error(source + ": expected a JSON object (a default-model recipe)");
  }
  RecipeReader r(recipe, source);
  r.check_groups({"tokenizer", "model", "base", "experts"});
  DefaultModelRecipe out;
  out.seed = static_cast<std::uint64_t>(r.integer("", "seed", 0));
  out.heldout_fraction = r.number("", "heldout_fraction", 0, 0.5);
  if (!(out.heldout_fraction > 0)) r.fail("", "heldout_fraction", "expected a number above 0");
  out.vocab = static_cast<std::size_t>(r.integer("tokenizer", "vocab", 258));
  out.hidden_size = r.integer("model", "hidden_size", 1);
  out.intermediate_size = r.integer("model", "intermediate_size", 1);
  out.layers = r.integer("model", "num_hidden_layers", 1);
  out.heads = r.integer("model", "num_attention_heads", 1);
  out.kv_heads = r.integer("model", "num_key_value_heads", 1);
  out.context = r.integer("model", "context", 2);
  if (out.hidden_size % out.heads != 0) {
    r.fail("model", "num_attention_heads", "expected a divisor of hidden_size");
  }
  if (out.heads % out.kv_heads != 0) {
    r.fail("model", "num_key_value_heads", "expected a divisor of num_attention_heads");
  }
  out.base_steps = r.integer("base", "steps", 1);
  out.base_batch = r.integer("base", "batch", 1);
  out.base_learning_rate = r.number("base", "learning_rate", 1e-9, 1);
  out.categories = r.strings("experts", "categories");
  std::set<std::string> seen;
  for (const std::string& name : out.categories) {
    if (!seen.insert(name).second) r.fail("experts", "categories", "'" + name + "' twice");
    if (name.find('/') != std::string::npos || name.front() == '.') {
      r.fail("experts", "categories", "'" + name + "' is not a file name of the corpus folder");
    }
  }
  out.lora_r = r.integer("experts", "r", 1);
  out.lora_alpha = r.number("experts", "alpha", 1e-9, 1e6);
  out.lora_targets = r.strings("experts", "targets");
  out.expert_epochs = r.number("experts", "epochs", 1e-9, 1e6);
  out.expert_max_steps = r.integer("experts", "max_steps", 1);
  out.expert_batch = r.integer("experts", "batch", 1);
  out.expert_learning_rate = r.number("experts", "learning_rate", 1e-9, 1);
  r.check_unknown();
  return out;
}

DefaultModelSources default_model_sources_from_environment() {
  DefaultModelSources sources;
  if (const std::string folder = environment(kFortunesFolderVariable); !folder.empty()) {
    sources.corpus_folder = folder;
  }
  sources.recipe_file = environment(kRecipeVariable);
  return sources;
}

fs::path default_model_cache_root() {
  // XDG: a relative XDG_CACHE_HOME is to be ignored.
  if (const fs::path xdg = environment("XDG_CACHE_HOME"); xdg.is_absolute()) {
    return xdg / "qdgen" / "default-model";
  }
  if (const fs::path home = environment("HOME"); !home.empty()) {
    return home / ".cache" / "qdgen" / "default-model";
  }
  throw std::runtime_error(
      "no cache folder for the default model: set XDG_CACHE_HOME (absolute) or HOME");
}

DefaultModelPlan plan_default_model(const DefaultModelSources& sources) {
  DefaultModelPlan plan;
  plan.corpus_folder = sources.corpus_folder;
  std::error_code error;
  if (!fs::is_directory(plan.corpus_folder, error)) {
    throw std::runtime_error(
        plan.corpus_folder.string() +
        ": no fortunes corpus there (the default model trains on Debian's package 'fortunes': "
        "apt-get install fortunes, or scripts/setup; " +
        kFortunesFolderVariable + " names another folder)");
  }
  json recipe = default_recipe_json();
  std::string source = "the built-in default-model recipe";
  if (!sources.recipe_file.empty()) {
    source = sources.recipe_file.string();
    const json patch = read_json_file(sources.recipe_file);
    if (!patch.is_object()) throw std::runtime_error(source + ": expected a JSON object");
    recipe.merge_patch(patch);
  }
  plan.recipe = parse_recipe(recipe, source);
  plan.recipe_json = recipe;

  const fs::path inputs[] = {plan.corpus_folder};
  plan.corpus_files = expand_corpus_inputs(inputs);
  if (plan.corpus_files.empty()) {
    throw std::runtime_error(plan.corpus_folder.string() +
                             ": no fortune files in it (install Debian's package 'fortunes')");
  }
  for (const std::string& name : plan.recipe.categories) {
    const fs::path file = plan.corpus_folder / name;
    if (!fs::is_regular_file(file, error)) {
      throw std::runtime_error(file.string() + ": no such fortune file (the recipe's category '" +
                               name + "'; experts.categories in " + source + ")");
    }
    plan.categories.emplace_back(name, file);
  }
  Fnv1a corpus;
  for (const fs::path& file : plan.corpus_files) {
    corpus.add(file.filename().string());
    plan.corpus_bytes += hash_file(file, corpus);
  }
  plan.corpus_hash = corpus.hex();
  Fnv1a key;
  key.add(recipe.dump());
  key.add(plan.corpus_hash);
  key.add(std::to_string(kManifestVersion));
  plan.key = key.hex();
  plan.root = default_model_cache_root();
  plan.folder = plan.root / plan.key;
  return plan;
}

json describe_files(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path() != folder / "manifest.json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  json out = json::object();
  for (const fs::path& file : files) {
    Fnv1a hash;
    const std::uint64_t bytes = hash_file(file, hash);
    out[file.lexically_relative(folder).generic_string()] = {{"bytes", bytes},
                                                             {"fnv1a64", hash.hex()}};
  }
  return out;
}

DefaultModelState check_default_model(const DefaultModelPlan& plan) {
  DefaultModelState state;
  std::error_code error;
  if (!fs::is_directory(plan.folder, error)) {
    state.problem = "not built yet";
    return state;
  }
  const fs::path manifest_file = plan.folder / "manifest.json";
  if (!fs::is_regular_file(manifest_file, error)) {
    state.problem = manifest_file.string() + " is missing";
    return state;
  }
  json manifest;
  try {
    manifest = read_json_file(manifest_file);
  } catch (const std::exception& e) {
    state.problem = e.what();
    return state;
  }
  const auto bad = [&](const std::string& what) {
    state.problem = manifest_file.string() + ": " + what;
    return state;
  };
  if (!manifest.is_object() || manifest.value("format", "") != kManifestFormat ||
      manifest.value("version", 0) != kManifestVersion) {
    return bad("not a qdgen default-model manifest of version " + std::to_string(kManifestVersion));
  }
  if (manifest.value("key", "") != plan.key ||
      manifest.value("recipe", json()) != plan.recipe_json || !manifest.contains("corpus") ||
      !manifest["corpus"].is_object() || manifest["corpus"].value("hash", "") != plan.corpus_hash) {
    return bad("made for another recipe or corpus");
  }
  if (!manifest.contains("files") || !manifest["files"].is_object()) {
    return bad("no \"files\" list");
  }
  std::vector<std::string> required = {"base/config.json", "base/model.safetensors",
                                       "base/tokenizer.json"};
  for (const auto& [name, file] : plan.categories) {
    required.push_back("experts/" + name + "/adapter_config.json");
    required.push_back("experts/" + name + "/adapter_model.safetensors");
  }
  for (const std::string& name : required) {
    if (!manifest["files"].contains(name)) return bad("does not list " + name);
  }
  for (const auto& [name, record] : manifest["files"].items()) {
    const fs::path file = plan.folder / name;
    if (!record.is_object() || !fs::is_regular_file(file, error)) {
      state.problem = file.string() + " is missing";
      return state;
    }
    Fnv1a hash;
    std::uint64_t bytes = 0;
    try {
      bytes = hash_file(file, hash);
    } catch (const std::exception& e) {
      state.problem = e.what();
      return state;
    }
    if (record.value("bytes", std::uint64_t{0}) != bytes) {
      state.problem = file.string() + " has " + std::to_string(bytes) + " bytes, the manifest " +
                      record.value("bytes", json()).dump();
      return state;
    }
    if (record.value("fnv1a64", "") != hash.hex()) {
      state.problem = file.string() + " differs from what the manifest lists";
      return state;
    }
  }
  state.ready = true;
  state.manifest = std::move(manifest);
  return state;
}

DefaultModelLock::DefaultModelLock(const fs::path& root) {
  fs::create_directories(root);
  const fs::path file = root / ".lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int saved = errno;
      ::close(fd_);
      throw std::runtime_error(file.string() + ": cannot lock: " + std::strerror(saved));
    }
  }
}

DefaultModelLock::~DefaultModelLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace qdgen::inference
