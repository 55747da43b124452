// "kind": "text": the text domain's keys (experiments/README.md, "The text domain").
#include <algorithm>
#include <limits>

#include "qdgen/common/json_reader.hpp"
#include "qdgen/engine/domain_spec.hpp"
#include "text_domain.hpp"

namespace qdgen::engine {

namespace {

using common::JsonReader;
using common::JsonValue;
using text::TextDomainOptions;

constexpr std::int64_t kMaxTokens = 1 << 20;
constexpr std::int64_t kMaxShots = 64;
constexpr std::int64_t kMaxWords = 1'000'000;

std::vector<std::string> read_strings(const JsonValue& value, const std::string& what,
                                      std::size_t minimum) {
  std::vector<std::string> out;
  for (const JsonValue& item : value.array(what, minimum)) out.push_back(item.string());
  return out;
}

text::JudgeOptions read_judge(const JsonValue& value, bool quality) {
  JsonReader r = value.object();
  text::JudgeOptions judge;
  judge.kind =
      quality ? r.choice("kind", {"label", "fluency"}) : r.choice("kind", {"label", "experts"});
  if (judge.kind == "label") {
    judge.instruction = r.string("instruction");
    judge.labels = read_strings(r.required("labels"), "an array of at least 2 label strings", 2);
    if (!quality) judge.argmax = r.choice("value", {"first", "argmax"}, "first") == "argmax";
  } else if (judge.kind == "experts") {
    judge.experts =
        read_strings(r.required("experts"), "an array of at least 2 LoRA expert names", 2);
  }
  r.finish();
  return judge;
}

text::OperatorOptions read_operator(const std::string& name, JsonReader r) {
  text::OperatorOptions op;
  op.shots = static_cast<int>(r.integer("shots", 1, kMaxShots, 3));
  if (name == "mixture") {
    op.sigma = r.number_in("sigma", 0.0, 100.0, 0.5);
    op.crossover = r.number_in("crossover", 0.0, 1.0, 0.0);
    op.examples = r.choice("examples", {"near", "seeds"}, "near");
  }
  if (name == "mixture" && op.examples == "seeds") {
    // Every example is a seed and the parent a uniform elite: these keys would do nothing.
    for (const char* key : {"seed_shots", "parent"})
      if (r.has(key)) r.fail(key, "applies to \"examples\": \"near\" only (this one is \"seeds\")");
  } else if (name == "mixture" || name == "lmx_near") {
    op.seed_shots = static_cast<int>(r.integer("seed_shots", 0, op.shots, 0));
    op.novel_parent = r.choice("parent", {"uniform", "novel"}, "uniform") == "novel";
  }
  if (name == "lmx_quality" || name == "lmx_replace") {
    op.quality_pool = static_cast<int>(r.integer("pool", 1, 1 << 20, 100));
  } else if (name == "rewrite") {
    op.rewrite_template = r.string("template");
    if (const auto targets = r.optional("targets")) {
      JsonReader t = targets->object();
      for (const auto& item : targets->json().items())
        op.targets[item.key()] =
            read_strings(t.required(item.key()), "a non-empty array of strings", 1);
      t.finish();
    }
  }
  r.finish();
  return op;
}

struct TextDomainSpec final : DomainSpec {
  TextDomainOptions options;

  std::string kind() const override { return "text"; }
  int solution_dim() const override { return 0; }
  int measure_dim() const override { return options.measures; }
  bool has_mutation() const override { return true; }
  bool has_embeddings() const override { return options.embeddings; }
  bool needs_model() const override { return true; }
  std::vector<std::string> mutation_operators() const override {
    std::vector<std::string> names;
    for (const auto& [name, settings] : options.operators) names.push_back(name);
    return names;
  }
  std::unique_ptr<Domain> build() const override { return text::make_text_domain(options); }
};

const std::vector<std::string> kOperators = {
    "lmx_near", "lmx_random", "lmx_quality", "lmx_replace", "rewrite", "mixture", "fixed_few_shot"};

std::unique_ptr<DomainSpec> parse_text(JsonReader& section) {
  auto spec = std::make_unique<TextDomainSpec>();
  TextDomainOptions& o = spec->options;
  if (const auto seeds = section.optional("seeds"))
    o.seeds = read_strings(*seeds, "an array of seed texts", 0);
  o.prompt_template = section.string("template");
  o.separator = section.string("separator", o.separator);
  o.judge_template = section.string("judge_template", o.judge_template);
  o.likelihood_prompt = section.string("likelihood_prompt", o.prompt_template);
  if (const auto init = section.optional("init")) {
    JsonReader r = init->object();
    o.init_iterations = r.integer("iterations", 0, std::numeric_limits<int>::max(), 1);
    o.init_min_filled = static_cast<int>(r.integer("min_filled", 0, 1 << 20, 3));
    r.finish();
  }
  if (const auto generation = section.optional("generation")) {
    JsonReader r = generation->object();
    o.generation.max_tokens = r.integer("max_tokens", 1, kMaxTokens, o.generation.max_tokens);
    o.generation.temperature = r.number_in("temperature", 0.0, 100.0, o.generation.temperature);
    o.generation.top_p = r.number_in("top_p", 1e-9, 1.0, o.generation.top_p);
    o.generation.top_k = r.integer("top_k", 0, kMaxTokens, 0);
    if (const auto stop = r.optional("stop"))
      o.generation.stop = read_strings(*stop, "an array of stop strings", 0);
    r.finish();
  }
  if (const auto experts = section.optional("experts"))
    o.experts = read_strings(*experts, "an array of LoRA expert names", 0);
  o.init_sigma = section.number_in("init_sigma", 0.0, 100.0, o.init_sigma);
  o.mixture_max_total = section.number_in("mixture_max_total", 1.0, 100.0, 1.0);

  // Every LMX operator is there with its defaults; the config may tune them and add rewrite
  // (which needs its template) and mixture (which needs experts).
  for (const std::string name :
       {"lmx_near", "lmx_random", "lmx_quality", "lmx_replace", "fixed_few_shot"})
    o.operators[name] = text::OperatorOptions{};
  if (const auto operators = section.optional("operators")) {
    JsonReader r = operators->object();
    for (const auto& item : operators->json().items()) {
      const std::string name = item.key();
      if (std::find(kOperators.begin(), kOperators.end(), name) == kOperators.end())
        r.fail(name,
               "not an operator (expected lmx_near, lmx_random, lmx_quality, lmx_replace, "
               "rewrite, mixture or fixed_few_shot)");
      if (name == "mixture" && o.experts.empty())
        r.fail(name, "the mixture operator needs \"experts\" (the LoRA adapters it mixes)");
      o.operators[name] = read_operator(name, r.object(name));
      if (name == "mixture" && o.operators[name].examples == "seeds" && o.seeds.empty())
        r.object(name).fail("examples", "\"seeds\" but the domain has no \"seeds\" to draw from");
      if (o.operators[name].seed_shots > static_cast<int>(o.seeds.size()))
        r.object(name).fail("seed_shots", "is " + std::to_string(o.operators[name].seed_shots) +
                                              " but the domain has " +
                                              std::to_string(o.seeds.size()) +
                                              " \"seeds\" to draw them from");
    }
    r.finish();
  }
  std::vector<std::string> names;
  for (const auto& [name, settings] : o.operators) names.push_back(name);
  o.default_operator = section.choice("default_operator", names, "lmx_near");

  if (o.seeds.empty() && o.prompt_template.empty())
    section.fail("template",
                 "empty and no \"seeds\": the first prompts would be empty (give seed texts or a "
                 "template to write from zero-shot)");
  o.quality = read_judge(section.required("quality"), true);
  const JsonValue measures = section.required("measures");
  for (const JsonValue& judge : measures.array("a non-empty array of judges", 1))
    o.measure_judges.push_back(read_judge(judge, false));
  o.measures = static_cast<int>(o.measure_judges.size());

  if (const auto penalties = section.optional("penalties")) {
    JsonReader r = penalties->object();
    o.penalties.repetition_ngram = static_cast<int>(r.integer("repetition_ngram", 1, 16, 3));
    o.penalties.repetition_weight = r.number_in("repetition_weight", 0.0, 1e6, 0.0);
    o.penalties.min_words = static_cast<int>(r.integer("min_words", 0, kMaxWords, 1));
    o.penalties.max_words = static_cast<int>(r.integer("max_words", 1, kMaxWords, kMaxWords));
    if (o.penalties.max_words < o.penalties.min_words)
      r.fail("max_words", "below min_words (" + std::to_string(o.penalties.min_words) + ")");
    r.finish();
  }
  if (const auto duplicates = section.optional("duplicates")) {
    JsonReader r = duplicates->object();
    o.duplicates.enabled = true;
    o.duplicates.ngram = static_cast<int>(r.integer("ngram", 1, 16, 3));
    o.duplicates.threshold = r.number_in("threshold", 0.0, 1.0, 0.8);
    if (r.has("embedding_threshold"))
      o.duplicates.embedding_threshold = r.number_in("embedding_threshold", -1.0, 1.0);
    o.duplicates.own_cell = r.boolean("own_cell", true);
    r.finish();
  }
  o.embeddings = section.boolean("embeddings", false);
  if (o.duplicates.embedding_threshold && !o.embeddings)
    section.fail("duplicates",
                 "has an embedding_threshold but \"embeddings\" is off (set it true)");
  for (const auto& [name, settings] : o.operators)
    if (settings.novel_parent && !o.embeddings)
      section.object("operators")
          .object(name)
          .fail("parent", "is \"novel\" but \"embeddings\" is off (set it true)");
  if (const auto vendi = section.optional("vendi")) {
    JsonReader r = vendi->object();
    if (const auto orders = r.optional("orders")) {
      o.vendi_orders.clear();
      for (const JsonValue& q : orders->array("a non-empty array of orders q >= 0", 1))
        o.vendi_orders.push_back(q.number_in(0.0, 1e6));
    }
    o.vendi_ngram = static_cast<int>(r.integer("ngram", 1, 16, 2));
    r.finish();
  }
  return spec;
}

}  // namespace

DomainKinds::Kind text_domain_kind() {
  return {"text", parse_text};
}

}  // namespace qdgen::engine
