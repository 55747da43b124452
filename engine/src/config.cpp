#include "qdgen/engine/config.hpp"

#include <limits>

#include "qdgen/common/json_parse.hpp"

namespace qdgen::engine {

namespace {

using common::JsonReader;
using common::JsonValue;

void check_measures(const JsonValue& section, const std::string& name,
                    const archive::ArchiveSpec& archive, const DomainSpec& domain) {
  if (archive.measure_dim() != domain.measure_dim())
    section.fail("the " + name + " has " + std::to_string(archive.measure_dim()) +
                 " measure dimensions, domain '" + domain.kind() + "' has " +
                 std::to_string(domain.measure_dim()));
  if (archive.uses_embeddings() && !domain.has_embeddings())
    section.child(section.json().at("space"), "space")
        .fail("\"embedding\" needs a domain that gives embeddings; domain '" + domain.kind() +
              "' gives none");
}

std::shared_ptr<const archive::ArchiveSpec> read_archive(const JsonValue& section,
                                                         const std::string& name,
                                                         const DomainSpec& domain) {
  std::shared_ptr<const archive::ArchiveSpec> spec = archive::parse_archive_spec(section);
  check_measures(section, name, *spec, domain);
  return spec;
}

SelectionConfig read_selection(JsonReader r, int num_emitters) {
  SelectionConfig s;
  const std::string kind = r.choice("kind", {"all", "round_robin", "bandit"});
  s.kind = kind == "all"           ? SelectionKind::kAll
           : kind == "round_robin" ? SelectionKind::kRoundRobin
                                   : SelectionKind::kBandit;
  if (s.kind != SelectionKind::kAll) {
    const JsonValue active = r.required("active");
    s.active = static_cast<int>(active.integer(1, std::numeric_limits<int>::max()));
    if (s.active > num_emitters)
      active.expected("at most the number of emitters (" + std::to_string(num_emitters) + ")");
  }
  if (s.kind == SelectionKind::kBandit) s.exploration = r.number_in("exploration", 0.0, 1e6, 1.0);
  r.finish();
  return s;
}

StoreConfig read_store(JsonReader s) {
  StoreConfig store;
  if (s.has("path")) store.path = s.string("path");
  store.keep = s.choice("keep", {"all", "added"}, "all") == "all" ? KeepCandidates::kAll
                                                                  : KeepCandidates::kAdded;
  store.commit_seconds = s.number_in("commit_seconds", 0.0, 3600.0, 1.0);
  s.finish();
  return store;
}

ModelConfig read_model(const JsonValue& section, const DomainSpec& domain) {
  if (!domain.needs_model()) section.fail("domain '" + domain.kind() + "' uses no language model");
  JsonReader m = section.object();
  ModelConfig model;
  model.path = m.string("path", "");
  if (const auto adapters = m.optional("adapters")) {
    JsonReader list = adapters->object();
    for (const auto& item : adapters->json().items())
      model.adapters.emplace_back(item.key(), list.string(item.key()));
    list.finish();
  }
  model.device = m.choice("device", {"auto", "cpu", "cuda"}, "auto");
  model.threads = static_cast<int>(m.integer("threads", 0, kMaxThreads, 0));
  m.finish();
  return model;
}

ExperimentConfig parse_config(const nlohmann::json& json, const std::string& source) {
  ExperimentConfig c;
  c.json = json;
  JsonReader r(json, source);
  c.name = r.string("name", "");
  r.string("description", "");
  JsonReader domain = r.object("domain");
  c.domain = domain_kinds().parse(domain);

  c.archive = read_archive(r.required("archive"), "archive", *c.domain);
  if (const auto result = r.optional("result_archive")) {
    if (result->json().is_object()) {
      c.result_archive = ResultArchive::kOwn;
      c.own_result_archive = read_archive(*result, "result archive", *c.domain);
    } else if (result->json().is_boolean()) {
      c.result_archive = result->boolean() ? ResultArchive::kPlainTwin : ResultArchive::kNone;
    } else {
      result->expected("true, false or an archive object");
    }
  }

  const EmitterParseContext context{*c.domain, *c.archive};
  std::int64_t num_emitters = 0;
  const JsonValue emitters = r.required("emitters");
  for (const JsonValue& element : emitters.array("a non-empty array of emitter objects", 1)) {
    JsonReader group = element.object();
    EmitterGroup g;
    g.count = static_cast<int>(group.integer("count", 1, kMaxEmitterCount, 1));
    g.spec = emitter_kinds().parse(group, context);
    num_emitters += g.count;
    c.emitters.push_back(std::move(g));
  }
  if (num_emitters > kMaxEmitterCount)
    emitters.fail(std::to_string(num_emitters) +
                  " emitters in all (the sum of the counts), at most " +
                  std::to_string(kMaxEmitterCount));
  if (const auto selection = r.optional("selection"))
    c.selection = read_selection(selection->object(), static_cast<int>(num_emitters));

  c.iterations = r.integer("iterations", 1, kMaxIterations);
  c.seed = r.unsigned_integer("seed", 0);
  c.threads = static_cast<int>(r.integer("threads", 0, kMaxThreads, 0));
  if (const auto store = r.optional("store")) c.store = read_store(store->object());
  if (const auto model = r.optional("model")) c.model = read_model(*model, *c.domain);
  if (const auto metrics = r.optional("metrics")) {
    JsonReader m = metrics->object();
    c.log_every = m.integer("log_every", 0, kMaxLogEvery, 0);
    m.finish();
  }
  r.finish();
  return c;
}

}  // namespace

ExperimentConfig parse_experiment_config(const nlohmann::json& json, const std::string& source) {
  try {
    return parse_config(json, source);
  } catch (const nlohmann::json::exception& e) {
    // Every read goes through the reader; this only keeps a library message one line.
    throw common::JsonError((source.empty() ? "" : source + ": ") + common::json_exception_text(e));
  }
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path) {
  return parse_experiment_config(common::read_json_file(path, "the config file"), path.string());
}

}  // namespace qdgen::engine
