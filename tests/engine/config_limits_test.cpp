// Every integer key of an experiment config is range-checked at parse (no silent 32-bit
// truncation: "dim": 4294967298 must not run as dim 2), and no JSON library message reaches
// the user without the file and the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "qdgen/engine/config.hpp"

using namespace qdgen::engine;
using nlohmann::json;

namespace {

json sphere_config() {
  return json::parse(R"({
    "domain": {"kind": "sphere", "dim": 4},
    "archive": {"type": "grid", "dims": [{"range": [-10, 10], "cells": 5},
                                          {"range": [-10, 10], "cells": 5}]},
    "emitters": [{"kind": "gaussian", "batch": 4, "sigma": 0.5}],
    "iterations": 3,
    "metrics": {"log_every": 1}
  })");
}

json with(json config, const std::string& pointer, const json& value) {
  config[json::json_pointer(pointer)] = value;
  return config;
}

json arm_config() {
  return with(sphere_config(), "/domain", {{"kind", "arm"}, {"joints", 3}});
}
json cma_es_config() {
  return with(sphere_config(), "/emitters/0",
              {{"kind", "cma_es"}, {"batch", 4}, {"sigma0", 0.5}, {"restart", 10}});
}
json mutation_config() {
  return with(sphere_config(), "/emitters/0", {{"kind", "mutation"}, {"parents", 2}});
}
json cvt_config() {
  return with(sphere_config(), "/archive",
              {{"type", "cvt"}, {"cells", 1}, {"ranges", {{-10, 10}, {-10, 10}}}});
}
json novelty_config() {
  return with(sphere_config(), "/archive",
              {{"type", "novelty"}, {"measure_dim", 2}, {"threshold", 1.0}});
}

// "/emitters/0/batch" -> "emitters[0].batch"
std::string key_path(const std::string& pointer) {
  std::string path;
  std::size_t at = 1;
  while (at <= pointer.size()) {
    const std::size_t end = std::min(pointer.find('/', at), pointer.size());
    const std::string token = pointer.substr(at, end - at);
    if (!token.empty() && token.find_first_not_of("0123456789") == std::string::npos)
      path += "[" + token + "]";
    else
      path += (path.empty() ? "" : ".") + token;
    at = end + 1;
  }
  return path;
}

std::string error_of(const json& config) {
  try {
    parse_experiment_config(config, "cfg.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

struct IntegerKey {
  std::string name;
  json (*base)();
  std::string pointer;
  std::int64_t lo;
  std::uint64_t hi;  // unsigned: the seeds' bound is 2^64 - 1
  // The key also takes other types ("restart": "basic"), which have messages of their own.
  bool also_takes_other_types = false;
};

// Failure messages name the case, not its bytes.
void PrintTo(const IntegerKey& key, std::ostream* out) {
  *out << key.name;
}

std::string bounds(const IntegerKey& key) {
  return "[" + std::to_string(key.lo) + ", " + std::to_string(key.hi) + "]";
}

class ConfigIntegerKey : public testing::TestWithParam<IntegerKey> {};

TEST_P(ConfigIntegerKey, OutOfRangeAndNonIntegersAreRefusedWithTheRange) {
  const IntegerKey& key = GetParam();
  const std::string expected =
      "cfg.json: " + key_path(key.pointer) + ": expected an integer in " + bounds(key) + ", got ";
  // Values as a file would hold them (parsed), so large ones keep their JSON type.
  std::vector<std::string> out_of_range = {std::to_string(key.lo - 1)};
  out_of_range.push_back(key.hi == std::numeric_limits<std::uint64_t>::max()
                             ? std::string("18446744073709551616")
                             : std::to_string(key.hi + 1));
  if (key.hi < 4294967298u) out_of_range.push_back("4294967298");  // 2^32 + 2: not 2
  for (const std::string& text : out_of_range) {
    const json value = json::parse(text);
    EXPECT_EQ(error_of(with(key.base(), key.pointer, value)), expected + value.dump())
        << "value " << text;
  }
  for (const std::string text : {"2.5", "\"7\"", "true", "null"}) {
    const json value = json::parse(text);
    const std::string error = error_of(with(key.base(), key.pointer, value));
    if (key.also_takes_other_types)
      EXPECT_EQ(error.rfind("cfg.json: " + key_path(key.pointer) + ": expected ", 0), 0u) << error;
    else
      EXPECT_EQ(error, expected + value.dump()) << "value " << text;
  }
}

TEST_P(ConfigIntegerKey, TheBoundsThemselvesAreAccepted) {
  const IntegerKey& key = GetParam();
  for (const std::string& text : {std::to_string(key.lo), std::to_string(key.hi)}) {
    // Another check may still refuse the config (a novelty archive's measure_dim must match
    // the domain's); the integer itself must pass.
    const std::string error = error_of(with(key.base(), key.pointer, json::parse(text)));
    EXPECT_EQ(error.find("expected an integer"), std::string::npos) << text << ": " << error;
  }
}

constexpr std::uint64_t kAnySeed = std::numeric_limits<std::uint64_t>::max();

INSTANTIATE_TEST_SUITE_P(
    EveryKey, ConfigIntegerKey,
    testing::Values(
        IntegerKey{"domain_dim", sphere_config, "/domain/dim", 2, 1000000},
        IntegerKey{"domain_joints", arm_config, "/domain/joints", 1, 1000000},
        IntegerKey{"emitter_count", sphere_config, "/emitters/0/count", 1, 10000},
        IntegerKey{"gaussian_batch", sphere_config, "/emitters/0/batch", 1, 1000000},
        IntegerKey{"cma_es_batch", cma_es_config, "/emitters/0/batch", 2, 1000000},
        IntegerKey{"cma_es_restart", cma_es_config, "/emitters/0/restart", 1, 1000000000, true},
        IntegerKey{"mutation_parents", mutation_config, "/emitters/0/parents", 0, 1024},
        IntegerKey{"iterations", sphere_config, "/iterations", 1, 1000000000},
        IntegerKey{"seed", sphere_config, "/seed", 0, kAnySeed},
        IntegerKey{"threads", sphere_config, "/threads", 0, 1024},
        IntegerKey{"log_every", sphere_config, "/metrics/log_every", 0, 1000000000},
        IntegerKey{"grid_cells", sphere_config, "/archive/dims/1/cells", 1, 1000000},
        IntegerKey{"cvt_cells", cvt_config, "/archive/cells", 1, 1000000},
        IntegerKey{"cvt_samples", cvt_config, "/archive/samples", 1, 100000000},
        IntegerKey{"cvt_max_iterations", cvt_config, "/archive/max_iterations", 1, 100000},
        IntegerKey{"cvt_seed", cvt_config, "/archive/seed", 0, kAnySeed},
        IntegerKey{"novelty_measure_dim", novelty_config, "/archive/measure_dim", 1, 65536},
        IntegerKey{"novelty_k", novelty_config, "/archive/k", 1, 10000},
        IntegerKey{"novelty_max_size", novelty_config, "/archive/max_size", 1, 1000000000}),
    [](const testing::TestParamInfo<IntegerKey>& key) { return key.param.name; });

TEST(ConfigIntegers, ValuesBeyondThirtyTwoBitsAreKeptWhole) {
  const auto c = parse_experiment_config(
      with(with(sphere_config(), "/seed", json::parse("18446744073709551615")), "/iterations",
           json::parse("999999999")),
      "cfg.json");
  EXPECT_EQ(c.seed, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(c.iterations, 999999999);
}

TEST(ConfigIntegers, SelectionActiveIsBoundedByTheEmitters) {
  json c = with(sphere_config(), "/emitters/0/count", 3);
  c["selection"] = {{"kind", "round_robin"}, {"active", json::parse("4294967298")}};
  EXPECT_EQ(error_of(c),
            "cfg.json: selection.active: expected an integer in [1, 2147483647], got 4294967298");
  c["selection"]["active"] = 4;
  EXPECT_EQ(error_of(c),
            "cfg.json: selection.active: expected at most the number of emitters (3), got 4");
  c["selection"]["active"] = 3;
  EXPECT_EQ(error_of(c), "(no error)");
}

TEST(ConfigIntegers, EmittersInAllAreBounded) {
  json c = with(sphere_config(), "/emitters/0/count", 10000);
  c["emitters"].push_back(c["emitters"][0]);
  EXPECT_EQ(error_of(c),
            "cfg.json: emitters: 20000 emitters in all (the sum of the counts), at most 10000");
}

class ConfigFile : public testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }
  std::string error_of_text(const std::string& text) {
    std::ofstream(path_) << text;
    try {
      load_experiment_config(path_);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  }
  const std::filesystem::path path_ =
      std::filesystem::temp_directory_path() /
      ("qdgen_config_limits." + std::to_string(::getpid()) + ".json");
};

TEST_F(ConfigFile, ANumberBeyondADoubleNamesTheFileAndTheKey) {
  const std::string text = sphere_config().dump();
  std::string overflowing = text;
  overflowing.replace(overflowing.find("0.5"), 3, "1e999");
  EXPECT_EQ(error_of_text(overflowing),
            path_.string() +
                ": emitters[0].sigma: the number 1e999 does not fit a double (at most 1.8e308)");
  std::string in_array = text;
  in_array.replace(in_array.find("-10"), 3, "-1e400");
  EXPECT_EQ(error_of_text(in_array),
            path_.string() +
                ": archive.dims[0].range[0]: the number -1e400 does not fit a double (at most "
                "1.8e308)");
}

TEST_F(ConfigFile, BadJsonNamesTheKeyTheParserStoppedAt) {
  const std::string error = error_of_text(R"({"domain": {"kind": "sphere", "dim": }})");
  EXPECT_EQ(error.rfind(path_.string() + ": domain.dim: not valid JSON (parse error at line 1,", 0),
            0u)
      << error;
  EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
  EXPECT_EQ(error_of_text("").find(path_.string() + ": not valid JSON ("), 0u);
}

TEST_F(ConfigFile, NoLibraryMessageReachesTheUser) {
  for (const std::string& text :
       {std::string(R"({"emitters": [{"kind": "gaussian"}, {"sigma": 1e400}]})"),
        std::string("[1, 2"), std::string("{\"name\": \"\xff\"}"), std::string("{\"a\": 1,}"),
        std::string("123"), std::string(R"({"domain": {"kind": 7}})"),
        std::string(R"({"domain": {"kind": "sphere", "dim": 4}, "archive": {"type": []}})")}) {
    const std::string error = error_of_text(text);
    EXPECT_EQ(error.find("json.exception"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind(path_.string() + ": ", 0), 0u) << error;
  }
}

TEST(ConfigFileErrors, AFolderIsNotAConfig) {
  try {
    load_experiment_config(std::filesystem::temp_directory_path());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), std::filesystem::temp_directory_path().string() +
                                         ": is a folder, expected the config file");
  }
}

}  // namespace
