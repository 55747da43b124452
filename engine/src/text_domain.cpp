// The text domain: one generate call writes an emitter's children, one score call judges an
// iteration's, and the elites' Vendi scores are taken after every iteration.
#include "text_domain.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/llm/language_model.hpp"
#include "qdgen/metrics/vendi.hpp"

namespace qdgen::engine::text {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
constexpr double kRejected = -std::numeric_limits<double>::infinity();

const std::string& text_of(const archive::Candidate& candidate) {
  const auto* text = std::get_if<std::string>(&candidate.solution);
  if (text == nullptr) throw std::runtime_error("domain 'text': a candidate holds a vector");
  return *text;
}

// In double and clamped, so a text's cosine with its own copy is 1, not 1 + a float's error.
double cosine(const Eigen::VectorXf& a, const Eigen::VectorXf& b) {
  const Eigen::VectorXd x = a.cast<double>(), y = b.cast<double>();
  const double norms = x.norm() * y.norm();
  return norms > 0 ? std::clamp(x.dot(y) / norms, -1.0, 1.0) : 0.0;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What one iteration's model calls cost, reported and reset by iteration_metrics.
struct CallStats {
  std::int64_t children = 0;
  std::int64_t judged = 0;
  std::int64_t generated_tokens = 0;
  std::int64_t scored_tokens = 0;
  double generate_s = 0;
  double judge_s = 0;
  double embed_s = 0;
  std::map<std::string, std::int64_t> rejected;
};

// A planned child: its prompt, the examples' ids and the mixture it is written with.
struct Plan {
  std::string op;
  std::string prompt;
  std::vector<std::int64_t> parents;
  std::vector<double> mixture;
  std::vector<std::string> examples;  // an LMX prompt's few-shot texts, in prompt order
  json extra;                         // operator-specific genome, e.g. a rewrite's targets
};

class TextDomain : public Domain {
 public:
  explicit TextDomain(TextDomainOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "text"; }
  int solution_dim() const override { return 0; }
  int measure_dim() const override { return options_.measures; }
  Evaluation evaluate(const archive::Solution&) const override {
    throw std::runtime_error("domain 'text' judges whole batches with its language model");
  }
  bool has_mutation() const override { return true; }

  std::vector<Mutation> mutate(std::span<const MutationRequest> requests,
                               const DomainContext& context) const override {
    llm::LanguageModel& model = model_of(context);
    Elites elites = collect(context.archive);
    const bool init = context.iteration < options_.init_iterations ||
                      static_cast<int>(elites.list.size()) < options_.init_min_filled;
    // Only when a child this call plans draws its parent by it (an O(elites²) pass).
    if (!init && std::any_of(requests.begin(), requests.end(), [&](const MutationRequest& r) {
          const auto op = options_.operators.find(operator_of(r));
          return op != options_.operators.end() && op->second.novel_parent;
        }))
      elites.novelty = novelty_of(elites);
    std::vector<Plan> plans;
    std::vector<llm::GenerationRequest> generations;
    for (const MutationRequest& request : requests) {
      Rng rng(request.seed);
      const std::string op = init ? std::string("init") : operator_of(request);
      Plan plan = make_plan(op, elites, rng);
      llm::GenerationRequest g;
      g.prompt = plan.prompt;
      g.max_tokens = options_.generation.max_tokens;
      g.sampling.temperature = options_.generation.temperature;
      g.sampling.top_p = options_.generation.top_p;
      g.sampling.top_k = options_.generation.top_k;
      g.sampling.seed = rng();
      g.stop = options_.generation.stop;
      g.lora = mixture_of(plan.mixture);
      generations.push_back(std::move(g));
      plans.push_back(std::move(plan));
    }
    const auto start = Clock::now();
    llm::GenerationStats stats;
    std::vector<llm::Generation> texts = model.generate(generations, &stats);
    const double seconds = seconds_since(start);
    if (texts.size() != generations.size())
      throw std::runtime_error("domain 'text': the model answered " + std::to_string(texts.size()) +
                               " of " + std::to_string(generations.size()) + " generations");
    std::vector<Mutation> children(requests.size());
    for (std::size_t i = 0; i < children.size(); ++i) {
      Mutation& child = children[i];
      child.solution = std::move(texts[i].text);
      child.parents = plans[i].parents;
      child.op = plans[i].op;
      child.metadata["sampling"] = {{"temperature", generations[i].sampling.temperature},
                                    {"top_p", generations[i].sampling.top_p},
                                    {"top_k", generations[i].sampling.top_k},
                                    {"max_tokens", generations[i].max_tokens},
                                    {"seed", generations[i].sampling.seed}};
      if (!options_.experts.empty()) child.metadata["mixture"] = mixture_json(plans[i].mixture);
      child.metadata["finish"] = llm::finish_reason_name(texts[i].finish);
      child.metadata["generated_tokens"] = texts[i].tokens.size();
      if (!plans[i].extra.is_null()) child.metadata["operator"] = plans[i].extra;
      // What lmx_replace rewrites: a child's prompt is its parent's examples, one swapped.
      if (!plans[i].examples.empty()) child.metadata["examples"] = plans[i].examples;
    }
    std::lock_guard lock(stats_mutex_);
    stats_.children += static_cast<std::int64_t>(children.size());
    stats_.generated_tokens += stats.generated_tokens;
    stats_.generate_s += seconds;
    return children;
  }

  void evaluate_batch(std::span<archive::Candidate> batch,
                      const DomainContext& context) const override {
    llm::LanguageModel& model = model_of(context);
    // Which candidates are judged, and where each judge's answers sit in the one score call.
    std::vector<std::size_t> judged;
    std::map<std::string, std::int64_t> rejected;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      archive::Candidate& c = batch[i];
      c.measures = Eigen::VectorXd::Zero(options_.measures);
      c.embedding.reset();
      const std::string& text = text_of(c);
      const std::size_t count = words(text).size();
      std::string reason;
      if (is_blank(text))
        reason = "empty";
      else if (static_cast<int>(count) < options_.penalties.min_words)
        reason = "too_short";
      else if (static_cast<int>(count) > options_.penalties.max_words)
        reason = "too_long";
      if (reason.empty()) {
        judged.push_back(i);
      } else {
        reject(c, reason);
        ++rejected[reason];
      }
    }
    std::vector<JudgeOptions> judges;
    if (options_.quality) judges.push_back(*options_.quality);
    judges.insert(judges.end(), options_.measure_judges.begin(), options_.measure_judges.end());

    std::vector<llm::ScoreRequest> requests;
    // slot[j][k]: the request of judge j for judged candidate k (experts: one per expert).
    std::vector<std::vector<std::vector<std::size_t>>> slot(
        judges.size(), std::vector<std::vector<std::size_t>>(judged.size()));
    for (std::size_t j = 0; j < judges.size(); ++j)
      for (std::size_t k = 0; k < judged.size(); ++k) {
        const std::string& text = text_of(batch[judged[k]]);
        const JudgeOptions& judge = judges[j];
        if (judge.kind == "label") {
          slot[j][k].push_back(requests.size());
          requests.push_back({fill_template(options_.judge_template,
                                            {{"instruction", judge.instruction}, {"text", text}}),
                              judge.labels,
                              {}});
        } else if (judge.kind == "experts") {
          for (const std::string& expert : judge.experts) {
            slot[j][k].push_back(requests.size());
            requests.push_back({options_.likelihood_prompt, {text}, {{{expert, 1.0}}}});
          }
        } else {
          slot[j][k].push_back(requests.size());
          requests.push_back({options_.likelihood_prompt, {text}, {}});
        }
      }
    const auto start = Clock::now();
    const std::vector<std::vector<llm::ContinuationScore>> scores =
        requests.empty() ? std::vector<std::vector<llm::ContinuationScore>>{}
                         : model.score(requests);
    const double judge_s = seconds_since(start);
    if (scores.size() != requests.size())
      throw std::runtime_error("domain 'text': the model answered " +
                               std::to_string(scores.size()) + " of " +
                               std::to_string(requests.size()) + " score requests");
    std::int64_t scored_tokens = 0;
    for (const auto& row : scores)
      for (const auto& s : row) scored_tokens += s.tokens;

    for (std::size_t k = 0; k < judged.size(); ++k) {
      archive::Candidate& c = batch[judged[k]];
      json raw = json::object();
      double quality = 0;
      for (std::size_t j = 0; j < judges.size(); ++j) {
        std::vector<std::vector<llm::ContinuationScore>> answers;
        for (const std::size_t r : slot[j][k]) answers.push_back(scores[r]);
        json out;
        const double value = judge_value(judges[j], answers, out);
        const bool is_quality = options_.quality && j == 0;
        const int axis = static_cast<int>(j) - (options_.quality ? 1 : 0);
        raw[is_quality ? std::string("quality") : "measure_" + std::to_string(axis)] = out;
        if (is_quality)
          quality = value;
        else
          c.measures[axis] = value;
      }
      if (options_.penalties.repetition_weight > 0) {
        const double repeated =
            repeated_ngram_fraction(text_of(c), options_.penalties.repetition_ngram);
        raw["repetition"] = repeated;
        quality *= std::max(0.0, 1.0 - options_.penalties.repetition_weight * repeated);
      }
      c.objective = std::isfinite(quality) ? quality : kRejected;
      c.metadata["judge"] = std::move(raw);
      if (!std::isfinite(quality)) {
        reject(c, "unjudgeable");
        ++rejected["unjudgeable"];
      }
    }
    double embed_s = 0;
    if (options_.embeddings) {
      std::vector<llm::EmbedRequest> embeds;
      std::vector<std::size_t> who;
      for (const std::size_t i : judged)
        if (batch[i].objective != kRejected) {
          embeds.push_back({text_of(batch[i]), {}});
          who.push_back(i);
        }
      const auto embed_start = Clock::now();
      const auto vectors = embeds.empty() ? std::vector<std::vector<float>>{} : model.embed(embeds);
      embed_s = seconds_since(embed_start);
      for (std::size_t e = 0; e < who.size() && e < vectors.size(); ++e)
        batch[who[e]].embedding =
            Eigen::Map<const Eigen::VectorXf>(vectors[e].data(), Eigen::Index(vectors[e].size()));
    }
    // After embedding, so the filter may compare embeddings too; a rejected child keeps its
    // embedding in the store.
    if (options_.duplicates.enabled)
      for (const std::size_t i : judged)
        if (batch[i].objective != kRejected && is_duplicate(batch[i], context.archive)) {
          reject(batch[i], "duplicate");
          ++rejected["duplicate"];
        }
    std::lock_guard lock(stats_mutex_);
    stats_.judged += static_cast<std::int64_t>(judged.size());
    stats_.scored_tokens += scored_tokens;
    stats_.judge_s += judge_s;
    stats_.embed_s += embed_s;
    for (const auto& [reason, n] : rejected) stats_.rejected[reason] += n;
  }

  json iteration_metrics(const archive::Archive& archive, const DomainContext&) const override {
    json metrics = json::object();
    const std::vector<const archive::Elite*> elites = archive.elites();
    if (elites.size() == 1) {  // the diversity of one text is 1 at every order
      for (const double q : options_.vendi_orders) {
        metrics[order_key("vendi_ngram", q)] = 1.0;
        if (options_.embeddings) metrics[order_key("vendi_embedding", q)] = 1.0;
      }
    } else if (elites.size() > 1) {
      std::vector<std::string> texts;
      for (const archive::Elite* e : elites) texts.push_back(text_of(e->candidate));
      const metrics::VendiResult ngram =
          metrics::vendi_of_texts(texts, options_.vendi_ngram, options_.vendi_orders);
      for (std::size_t q = 0; q < options_.vendi_orders.size(); ++q)
        metrics[order_key("vendi_ngram", options_.vendi_orders[q])] = ngram.scores[q];
      const bool embedded = std::all_of(elites.begin(), elites.end(), [](const archive::Elite* e) {
        return e->candidate.embedding.has_value() && e->candidate.embedding->size() > 0;
      });
      if (options_.embeddings && embedded) {
        Eigen::MatrixXd rows(Eigen::Index(elites.size()), elites[0]->candidate.embedding->size());
        for (std::size_t i = 0; i < elites.size(); ++i)
          rows.row(Eigen::Index(i)) = elites[i]->candidate.embedding->cast<double>().transpose();
        const std::vector<double> scores =
            metrics::vendi_scores_of_embeddings(rows, options_.vendi_orders);
        for (std::size_t q = 0; q < options_.vendi_orders.size(); ++q)
          metrics[order_key("vendi_embedding", options_.vendi_orders[q])] = scores[q];
      }
    }
    std::lock_guard lock(stats_mutex_);
    const CallStats& s = stats_;
    json calls = {{"children", s.children},
                  {"judged", s.judged},
                  {"generated_tokens", s.generated_tokens},
                  {"scored_tokens", s.scored_tokens},
                  {"generate_s", s.generate_s},
                  {"judge_s", s.judge_s},
                  {"embed_s", s.embed_s},
                  {"children_per_s", s.generate_s > 0 ? double(s.children) / s.generate_s : 0.0},
                  {"judged_per_s", s.judge_s > 0 ? double(s.judged) / s.judge_s : 0.0}};
    json rejected = json::object();
    for (const auto& [reason, n] : s.rejected) rejected[reason] = n;
    calls["rejected"] = rejected;
    metrics["text"] = calls;
    stats_ = CallStats{};
    return metrics;
  }

 private:
  struct Elites {
    std::vector<const archive::Elite*> list;
    std::vector<std::vector<int>> cells;  // grid coordinates (empty: not a grid)
    std::vector<double> novelty;          // embedding novelty, when an operator draws parents by it
  };

  static std::string order_key(const std::string& name, double q) {
    char order[32];
    std::snprintf(order, sizeof order, "%g", q);  // q1, q2, q0.5, qinf
    return name + "_q" + order;
  }

  llm::LanguageModel& model_of(const DomainContext& context) const {
    if (context.model == nullptr)
      throw std::runtime_error("domain 'text' needs a language model (the run loads none)");
    std::call_once(experts_checked_, [&] {
      const std::vector<std::string> names = context.model->adapter_names();
      std::set<std::string> wanted(options_.experts.begin(), options_.experts.end());
      for (const auto& judge : options_.measure_judges)
        wanted.insert(judge.experts.begin(), judge.experts.end());
      for (const std::string& expert : wanted)
        if (std::find(names.begin(), names.end(), expert) == names.end()) {
          std::string have;
          for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
          throw std::runtime_error("domain 'text': expert '" + expert +
                                   "' is not an adapter of the model (it has: " +
                                   (have.empty() ? std::string("none") : have) + ")");
        }
    });
    return *context.model;
  }

  static Elites collect(const archive::Archive* archive) {
    Elites out;
    if (archive == nullptr) return out;
    out.list = archive->elites();
    if (const auto* grid = dynamic_cast<const archive::GridArchive*>(archive))
      for (const archive::Elite* e : out.list) out.cells.push_back(grid->grid_coordinates(e->cell));
    return out;
  }

  // The operator a request asks for, or the domain's default.
  const std::string& operator_of(const MutationRequest& request) const {
    return request.op.empty() ? options_.default_operator : request.op;
  }

  // Empty when an elite has no embedding (the parent is then drawn uniformly).
  static std::vector<double> novelty_of(const Elites& elites) {
    std::vector<Eigen::VectorXf> embeddings;
    for (const archive::Elite* e : elites.list) {
      if (!e->candidate.embedding || e->candidate.embedding->size() == 0) return {};
      embeddings.push_back(*e->candidate.embedding);
    }
    return embedding_novelty(embeddings, 3);
  }

  std::vector<double> mixture_from(const archive::Candidate& candidate) const {
    std::vector<double> weights(options_.experts.size(), 1.0 / double(options_.experts.size()));
    const json& m = candidate.metadata;
    if (!m.is_object() || !m.contains("mixture") || !m["mixture"].is_object()) return weights;
    for (std::size_t e = 0; e < options_.experts.size(); ++e) {
      const auto it = m["mixture"].find(options_.experts[e]);
      if (it != m["mixture"].end() && it->is_number()) weights[e] = it->get<double>();
    }
    return weights;
  }

  json mixture_json(const std::vector<double>& weights) const {
    json out = json::object();
    for (std::size_t e = 0; e < weights.size(); ++e) out[options_.experts[e]] = weights[e];
    return out;
  }

  llm::LoraMixture mixture_of(const std::vector<double>& weights) const {
    llm::LoraMixture mixture;
    for (std::size_t e = 0; e < weights.size(); ++e)
      mixture.adapters.emplace_back(options_.experts[e], weights[e]);
    return mixture;
  }

  // `shots` distinct examples by QDAIF's distance weights from a random filled cell, and
  // that cell's elite (whose genome the child inherits; an example only when drawn).
  std::vector<std::size_t> near_examples(const Elites& elites, int shots, Rng& rng,
                                         std::size_t& parent, bool novel = false) const {
    if (novel && !elites.novelty.empty()) {
      parent = draw_without_replacement(elites.novelty, 1, rng).front();
    } else {
      parent = std::uniform_int_distribution<std::size_t>(0, elites.list.size() - 1)(rng);
    }
    std::vector<double> weights(elites.list.size(), 1.0);
    if (!elites.cells.empty()) weights = near_weights(elites.cells, elites.cells[parent]);
    return draw_without_replacement(weights, static_cast<std::size_t>(shots), rng);
  }

  // The indices of the `pool` best elites by quality, best first (ties: archive order).
  static std::vector<std::size_t> best_elites(const Elites& elites, int pool) {
    std::vector<std::size_t> order(elites.list.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return elites.list[a]->candidate.objective > elites.list[b]->candidate.objective;
    });
    order.resize(std::min(order.size(), std::size_t(pool)));
    return order;
  }

  // LMX-replace: a uniform elite's own few-shot list with one uniform position swapped for
  // a uniform text of the prompt pool (every seed and the `pool` best elites, rebuilt from
  // the archive each time); the child keeps the elite's mixture. An elite without a list
  // (a rewrite's child) gets `shots` texts of the pool instead.
  Plan replace_plan(const Elites& elites, const OperatorOptions& settings, Rng& rng) const {
    Plan plan;
    plan.op = "lmx_replace";
    const std::size_t genome =
        std::uniform_int_distribution<std::size_t>(0, elites.list.size() - 1)(rng);
    const archive::Candidate& parent = elites.list[genome]->candidate;
    plan.parents.push_back(parent.id);
    plan.mixture = options_.experts.empty() ? std::vector<double>{} : mixture_from(parent);
    std::vector<const std::string*> pool;
    for (const std::string& seed : options_.seeds) pool.push_back(&seed);
    for (const std::size_t i : best_elites(elites, settings.quality_pool))
      pool.push_back(&text_of(elites.list[i]->candidate));
    std::vector<std::string> examples;
    if (parent.metadata.is_object() && parent.metadata.contains("examples"))
      for (const json& text : parent.metadata["examples"])
        if (text.is_string()) examples.push_back(text.get<std::string>());
    if (examples.empty()) {
      const std::vector<double> uniform(pool.size(), 1.0);
      for (const std::size_t i :
           draw_without_replacement(uniform, std::size_t(settings.shots), rng))
        examples.push_back(*pool[i]);
    } else {
      const std::size_t position =
          std::uniform_int_distribution<std::size_t>(0, examples.size() - 1)(rng);
      examples[position] =
          *pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
      plan.extra = {{"replaced", position}};
    }
    plan.prompt = lmx_prompt(options_.prompt_template, examples, options_.separator);
    plan.examples = std::move(examples);
    return plan;
  }

  // `shots` distinct seeds drawn uniformly, in the order drawn.
  std::vector<std::string> seed_examples(int shots, Rng& rng) const {
    const std::vector<double> uniform(options_.seeds.size(), 1.0);
    std::vector<std::string> examples;
    for (const std::size_t s : draw_without_replacement(uniform, std::size_t(shots), rng))
      examples.push_back(options_.seeds[s]);
    return examples;
  }

  // The plan's mixture crossed, with probability `crossover` and when there is an `other`
  // elite, with that elite's; else moved by N(0, sigma) on its logs. Recorded in the plan's
  // extra; returns whether it crossed.
  bool mutate_mixture(Plan& plan, const OperatorOptions& settings, const Elites& elites,
                      std::optional<std::size_t> other, Rng& rng) const {
    const bool cross =
        other && std::uniform_real_distribution<double>(0.0, 1.0)(rng) < settings.crossover;
    if (cross) {
      plan.mixture = cross_mixtures(plan.mixture, mixture_from(elites.list[*other]->candidate), rng,
                                    options_.mixture_max_total);
      plan.extra = {{"mixture_op", "crossover"}};
    } else {
      plan.mixture = perturb_mixture(plan.mixture, settings.sigma, rng, options_.mixture_max_total);
      plan.extra = {{"mixture_op", "gaussian"}, {"sigma", settings.sigma}};
    }
    return cross;
  }

  // Mixture mutation with examples from the seeds: a uniform filled cell's elite gives the
  // mixture (crossed, with probability `crossover`, with a second uniform elite's), and the
  // child is written by LMX over `shots` seeds drawn uniformly without replacement. The map
  // steers the mixture, the lever that moves a small model's texts over the map, while the
  // prompts stay real texts, so the elites' wording is not bred into every child.
  Plan seeded_mixture_plan(const Elites& elites, const OperatorOptions& settings, Rng& rng) const {
    Plan plan;
    plan.op = "mixture";
    const std::size_t n = elites.list.size();
    const std::size_t genome = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    plan.parents.push_back(elites.list[genome]->candidate.id);
    std::optional<std::size_t> other;
    if (n > 1) {
      std::size_t second = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng);
      if (second >= genome) ++second;
      other = second;
    }
    plan.examples = seed_examples(settings.shots, rng);
    plan.prompt = lmx_prompt(options_.prompt_template, plan.examples, options_.separator);
    plan.mixture = mixture_from(elites.list[genome]->candidate);
    if (mutate_mixture(plan, settings, elites, other, rng))
      plan.parents.push_back(elites.list[*other]->candidate.id);
    plan.extra["examples"] = "seeds";
    return plan;
  }

  Plan make_plan(const std::string& op, const Elites& elites, Rng& rng) const {
    Plan plan;
    plan.op = op;
    const OperatorOptions settings =
        options_.operators.count(op) ? options_.operators.at(op) : OperatorOptions{};
    std::vector<std::string> examples;
    if (op == "init" || op == "fixed_few_shot" || elites.list.empty()) {
      if (op != "fixed_few_shot") plan.op = "init";
      if (op == "fixed_few_shot") {
        for (std::size_t s = 0; s < options_.seeds.size() && int(s) < settings.shots; ++s)
          examples.push_back(options_.seeds[s]);
      } else {
        examples = seed_examples(settings.shots, rng);
      }
      plan.prompt = lmx_prompt(options_.prompt_template, examples, options_.separator);
      plan.examples = std::move(examples);
      plan.mixture = initial_mixture(options_.experts.size(), options_.init_sigma, rng,
                                     options_.mixture_max_total);
      return plan;
    }
    std::vector<std::size_t> picks;
    std::size_t genome = 0;  // the elite whose mixture the child starts from
    if (op == "lmx_replace") return replace_plan(elites, settings, rng);
    if (op == "lmx_quality") {
      const std::vector<std::size_t> order = best_elites(elites, settings.quality_pool);
      const std::vector<double> uniform(order.size(), 1.0);
      for (const std::size_t i :
           draw_without_replacement(uniform, std::size_t(settings.shots), rng))
        picks.push_back(order[i]);
      genome = picks.front();
    } else if (op == "lmx_random") {
      const std::vector<double> uniform(elites.list.size(), 1.0);
      picks = draw_without_replacement(uniform, std::size_t(settings.shots), rng);
      genome = picks.front();
    } else if (op == "rewrite") {
      genome = std::uniform_int_distribution<std::size_t>(0, elites.list.size() - 1)(rng);
      picks.push_back(genome);
    } else if (op == "mixture" && settings.examples == "seeds") {
      return seeded_mixture_plan(elites, settings, rng);
    } else {
      for (const std::string& seed : seed_examples(settings.seed_shots, rng))
        examples.push_back(seed);
      picks = near_examples(elites, settings.shots - settings.seed_shots, rng, genome,
                            settings.novel_parent);
    }
    for (const std::size_t i : picks) plan.parents.push_back(elites.list[i]->candidate.id);
    if (std::find(picks.begin(), picks.end(), genome) == picks.end())
      plan.parents.push_back(elites.list[genome]->candidate.id);
    const archive::Candidate& first = elites.list[genome]->candidate;
    plan.mixture = options_.experts.empty() ? std::vector<double>{} : mixture_from(first);
    if (op == "rewrite") {
      std::vector<std::pair<std::string, std::string>> values = {{"text", text_of(first)}};
      json targets = json::object();
      for (const auto& [key, choices] : settings.targets) {
        const std::string& choice =
            choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(rng)];
        values.emplace_back(key, choice);
        targets[key] = choice;
      }
      plan.prompt = fill_template(settings.rewrite_template, values);
      plan.extra = {{"targets", targets}};
      return plan;
    }
    // LMX: the examples in the order drawn.
    for (const std::size_t i : picks) examples.push_back(text_of(elites.list[i]->candidate));
    plan.prompt = lmx_prompt(options_.prompt_template, examples, options_.separator);
    plan.examples = std::move(examples);
    if (op == "mixture" && !plan.mixture.empty()) {
      // The second parent of a crossover: the first example that is not the genome's elite.
      const auto other =
          std::find_if(picks.begin(), picks.end(), [&](std::size_t i) { return i != genome; });
      mutate_mixture(plan, settings, elites,
                     other == picks.end() ? std::nullopt : std::optional<std::size_t>(*other), rng);
    }
    return plan;
  }

  static void reject(archive::Candidate& c, const std::string& reason) {
    c.objective = kRejected;
    c.metadata["rejected"] = reason;
  }

  double judge_value(const JudgeOptions& judge,
                     const std::vector<std::vector<llm::ContinuationScore>>& answers,
                     json& out) const {
    if (judge.kind == "label") {
      std::vector<double> logprobs;
      for (const auto& s : answers.at(0)) logprobs.push_back(s.logprob);
      const std::vector<double> p = softmax(logprobs);
      double value = p[0];
      if (judge.argmax) value = double(std::max_element(p.begin(), p.end()) - p.begin()) + 0.5;
      out = {{"labels", judge.labels}, {"logprobs", logprobs}, {"value", value}};
      return value;
    }
    if (judge.kind == "experts") {
      std::vector<double> likelihoods;
      json per = json::object();
      for (std::size_t e = 0; e < answers.size(); ++e) {
        likelihoods.push_back(answers[e].at(0).logprob);
        per[judge.experts[e]] = answers[e].at(0).logprob;
      }
      const std::vector<double> p = softmax(likelihoods);
      out = {{"loglikelihoods", per}, {"value", p[0]}};
      return p[0];
    }
    const llm::ContinuationScore& s = answers.at(0).at(0);
    const double mean = s.tokens > 0 ? s.logprob / double(s.tokens) : kRejected;
    const double value = std::exp(mean);
    out = {{"logprob", s.logprob}, {"tokens", s.tokens}, {"value", value}};
    return value;
  }

  // Near-duplicate of the elite of its own cell (unless own_cell is off) or of a neighbouring
  // one (grids only).
  bool is_duplicate(archive::Candidate& c, const archive::Archive* archive) const {
    const auto* grid = dynamic_cast<const archive::GridArchive*>(archive);
    if (grid == nullptr) return false;
    const std::vector<int> at = grid->grid_coordinates(grid->index_of(c.measures));
    const auto& dims = grid->dims();
    std::vector<int> offset(at.size(), -1);
    double worst = 0;
    std::optional<double> closest;  // the highest embedding cosine to a neighbouring elite
    bool neighbours = false;
    for (;;) {
      std::int64_t cell = 0;
      bool inside = true;
      for (std::size_t d = 0; d < at.size(); ++d) {
        const int coordinate = at[d] + offset[d];
        if (coordinate < 0 || coordinate >= dims[d].cells()) inside = false;
        cell = cell * dims[d].cells() + coordinate;
      }
      const bool own = std::all_of(offset.begin(), offset.end(), [](int o) { return o == 0; });
      if (inside && (options_.duplicates.own_cell || !own))
        if (const archive::Elite* e = grid->elite_in_cell(cell)) {
          neighbours = true;
          worst = std::max(
              worst, ngram_overlap(text_of(c), text_of(e->candidate), options_.duplicates.ngram));
          if (options_.duplicates.embedding_threshold && c.embedding && e->candidate.embedding &&
              c.embedding->size() == e->candidate.embedding->size())
            closest =
                std::max(closest.value_or(-1.0), cosine(*c.embedding, *e->candidate.embedding));
        }
      std::size_t d = 0;
      while (d < offset.size() && offset[d] == 1) offset[d++] = -1;
      if (d == offset.size()) break;
      ++offset[d];
    }
    if (!neighbours) return false;
    c.metadata["duplicate_overlap"] = worst;
    bool too_close = false;
    if (closest) {
      c.metadata["duplicate_cosine"] = *closest;
      too_close = *closest >= *options_.duplicates.embedding_threshold;
    }
    return worst >= options_.duplicates.threshold || too_close;
  }

  TextDomainOptions options_;
  mutable std::mutex stats_mutex_;
  mutable CallStats stats_;
  mutable std::once_flag experts_checked_;
};

}  // namespace

std::unique_ptr<Domain> make_text_domain(const TextDomainOptions& options) {
  return std::make_unique<TextDomain>(options);
}

}  // namespace qdgen::engine::text
