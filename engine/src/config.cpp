#include "qdgen/engine/config.hpp"

#include <fstream>
#include <sstream>

#include "json_reader.hpp"
#include "qdgen/archive/factory.hpp"

namespace qdgen::engine {

namespace {

Eigen::VectorXd read_x0(JsonReader& r) {
  if (!r.has("x0")) return {};
  const auto& v = r.raw("x0");
  if (v.is_number()) return Eigen::VectorXd::Constant(1, v.get<double>());  // broadcast later
  if (!v.is_array() || v.empty()) r.fail("x0", "a number or a non-empty array of numbers");
  Eigen::VectorXd x(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number()) r.fail("x0", "a number or a non-empty array of numbers");
    x[static_cast<Eigen::Index>(i)] = v[i].get<double>();
  }
  return x;
}

DomainConfig read_domain(JsonReader r) {
  DomainConfig d;
  d.kind = r.choice("kind", {"sphere", "rastrigin", "arm"});
  if (d.kind == "arm") {
    d.dim = static_cast<int>(r.integer_at_least("joints", 1));
    d.clip_angles = r.boolean("clip_angles", true);
  } else {
    d.dim = static_cast<int>(r.integer_at_least("dim", 2));
  }
  r.finish();
  return d;
}

// A scalar x0 means "this value in every coordinate".
Eigen::VectorXd broadcast_x0(Eigen::VectorXd x0, const nlohmann::json& raw, int dim) {
  if (raw.is_number()) return Eigen::VectorXd::Constant(dim, raw.get<double>());
  return x0;
}

EmitterConfig read_emitter(JsonReader r, int solution_dim) {
  EmitterConfig e;
  const std::string kind = r.choice("kind", {"gaussian", "iso_line", "cma_es", "mutation"});
  e.count = static_cast<int>(r.integer_at_least("count", 1, 1));
  const int batch = static_cast<int>(r.integer_at_least("batch", kind == "cma_es" ? 2 : 1, 36));
  Eigen::VectorXd x0 = read_x0(r);
  if (r.has("x0")) {
    x0 = broadcast_x0(x0, r.raw("x0"), solution_dim);
    if (x0.size() != solution_dim)
      r.fail("x0", "a number or an array of " + std::to_string(solution_dim) +
                       " numbers (the domain's solution size)");
  }
  if (kind == "gaussian") {
    GaussianOptions o;
    o.batch_size = batch;
    o.sigma = r.positive_number("sigma");
    o.x0 = x0;
    e.options = o;
  } else if (kind == "iso_line") {
    IsoLineOptions o;
    o.batch_size = batch;
    o.iso_sigma = r.positive_number("iso_sigma", 0.01);
    o.line_sigma = r.positive_number("line_sigma", 0.2);
    o.x0 = x0;
    e.options = o;
  } else if (kind == "cma_es") {
    EvolutionStrategyOptions o;
    o.batch_size = batch;
    o.sigma0 = r.positive_number("sigma0");
    o.x0 = x0;
    const std::string ranker =
        r.choice("ranker", {"imp", "2imp", "obj", "2obj", "rd", "2rd"}, "2imp");
    o.ranker = ranker == "imp"    ? Ranker::kImprovement
               : ranker == "2imp" ? Ranker::kTwoStageImprovement
               : ranker == "obj"  ? Ranker::kObjective
               : ranker == "2obj" ? Ranker::kTwoStageObjective
               : ranker == "rd"   ? Ranker::kRandomDirection
                                  : Ranker::kTwoStageRandomDirection;
    o.selection = r.choice("selection", {"mu", "filter"}, "filter") == "mu"
                      ? SelectionRule::kMu
                      : SelectionRule::kFilter;
    o.restart_on_no_improvement = false;
    if (r.has("restart") && r.raw("restart").is_number_integer()) {
      o.restart_every_n = static_cast<int>(r.integer_at_least("restart", 1));
    } else {
      const auto rule =
          r.has("restart") && !r.raw("restart").is_string()
              ? (r.fail("restart", "\"basic\", \"no_improvement\" or an integer >= 1"),
                 std::string())
              : r.choice("restart", {"basic", "no_improvement"}, "no_improvement");
      o.restart_on_no_improvement = rule == "no_improvement";
    }
    o.rank_one = r.choice("rank_one", {"hansen", "pyribs"}, "hansen") == "pyribs"
                     ? RankOneUpdate::kPyribs
                     : RankOneUpdate::kHansen;
    e.options = o;
  } else {
    MutationOptions o;
    o.batch_size = batch;
    o.parents = static_cast<int>(r.integer_at_least("parents", 1, 2));
    e.options = o;
  }
  r.finish();
  return e;
}

SelectionConfig read_selection(JsonReader r, int num_emitters) {
  SelectionConfig s;
  const std::string kind = r.choice("kind", {"all", "round_robin", "bandit"});
  s.kind = kind == "all"           ? SelectionKind::kAll
           : kind == "round_robin" ? SelectionKind::kRoundRobin
                                   : SelectionKind::kBandit;
  if (s.kind != SelectionKind::kAll) {
    s.active = static_cast<int>(r.integer_at_least("active", 1));
    if (s.active > num_emitters)
      r.fail("active", "at most the number of emitters (" + std::to_string(num_emitters) + ")");
  }
  if (s.kind == SelectionKind::kBandit) s.exploration = r.number_in("exploration", 0.0, 1e6, 1.0);
  r.finish();
  return s;
}

}  // namespace

ExperimentConfig parse_experiment_config(const nlohmann::json& json, const std::string& source) {
  try {
    ExperimentConfig c;
    c.json = json;
    JsonReader r(json, "");
    c.name = r.string("name", "");
    r.string("description", "");
    c.domain = read_domain(r.object("domain"));
    const int solution_dim = c.domain.dim;

    c.archive = r.raw("archive");
    try {
      (void)archive::make_archive(c.archive, "archive");  // validates the section
    } catch (const std::exception& e) {
      throw ConfigError(e.what());
    }
    if (r.has("result_archive")) {
      const nlohmann::json& spec = r.raw("result_archive");
      if (spec.is_object()) {
        try {
          (void)archive::make_archive(spec, "result_archive");
        } catch (const std::exception& e) {
          throw ConfigError(e.what());
        }
        c.result_archive = spec;
      } else if (spec.is_boolean()) {
        if (spec.get<bool>()) c.result_archive = true;
      } else {
        r.fail("result_archive", "true, false or an archive object");
      }
    }

    const auto& emitters = r.raw("emitters");
    if (!emitters.is_array() || emitters.empty())
      r.fail("emitters", "a non-empty array of emitter objects");
    for (std::size_t i = 0; i < emitters.size(); ++i)
      c.emitters.push_back(read_emitter(
          JsonReader(emitters[i], "emitters[" + std::to_string(i) + "]"), solution_dim));
    for (std::size_t i = 0; i < c.emitters.size(); ++i) {
      const auto* es = std::get_if<EvolutionStrategyOptions>(&c.emitters[i].options);
      if (es != nullptr && ranks_by_random_direction(es->ranker) && c.archive.at("type") != "grid")
        throw ConfigError("emitters[" + std::to_string(i) +
                          "].ranker: 'rd' and '2rd' project measures on a direction scaled by "
                          "the measure ranges, which only a grid archive has; archive.type is " +
                          c.archive.at("type").dump());
    }
    int num_emitters = 0;
    for (const auto& e : c.emitters) num_emitters += e.count;
    c.selection = r.has("selection") ? read_selection(r.object("selection"), num_emitters)
                                     : SelectionConfig{};

    c.iterations = r.integer_at_least("iterations", 1);
    c.seed = r.unsigned_integer("seed", 0);
    c.threads = static_cast<int>(r.integer_at_least("threads", 0, 0));
    if (r.has("store")) {
      JsonReader s = r.object("store");
      if (s.has("path")) c.store.path = s.string("path");
      c.store.keep = s.choice("keep", {"all", "added"}, "all") == "all" ? KeepCandidates::kAll
                                                                        : KeepCandidates::kAdded;
      c.store.commit_seconds = s.number_in("commit_seconds", 0.0, 3600.0, 1.0);
      s.finish();
    }
    if (r.has("metrics")) {
      JsonReader m = r.object("metrics");
      c.log_every = m.integer_at_least("log_every", 0, 0);
      m.finish();
    }
    r.finish();
    return c;
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    throw ConfigError(path.string() + ": cannot open the config file (missing or unreadable)");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    throw ConfigError(path.string() + ": not valid JSON (" + what + ")");
  }
  return parse_experiment_config(json, path.string());
}

}  // namespace qdgen::engine
