// The seam for text domains: parents come from the archive, children from the domain's
// own mutation operator (an LLM rewriting texts), so the scheduler never changes.
#include <algorithm>
#include <random>

#include "emitter_spec_readers.hpp"
#include "qdgen/engine/emitters.hpp"

namespace qdgen::engine {

namespace {

constexpr std::int64_t kMaxParents = 1024;

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "\"" : ", \"") + name + "\"";
  return out;
}

class MutationEmitter : public Emitter {
 public:
  explicit MutationEmitter(const MutationOptions& options) : options_(options) {}
  std::string kind() const override { return "mutation"; }
  int batch_size() const override { return options_.batch_size; }

  void bind(const Domain& domain) override {
    if (!domain.has_mutation())
      throw std::runtime_error("mutation emitter: domain '" + domain.name() +
                               "' offers no mutation operator");
  }

  std::vector<archive::Candidate> ask(EmitterContext& context) override {
    std::vector<MutationRequest> requests(batch_size());
    for (auto& request : requests) {
      for (const archive::Elite* elite : context.sample_uniform(options_.parents))
        request.parents.push_back(&elite->candidate);
      request.seed = context.rng();  // each child's own seed: reproducible at any batch split
      if (!options_.operators.empty()) request.op = draw_operator(context.rng);
    }
    std::vector<Mutation> children = context.domain.mutate(requests, context.domain_context);
    if (children.size() != requests.size())
      throw std::runtime_error("domain '" + context.domain.name() + "' returned " +
                               std::to_string(children.size()) + " mutations for " +
                               std::to_string(requests.size()) + " requests");
    std::vector<archive::Candidate> batch(batch_size());
    for (int i = 0; i < batch_size(); ++i) {
      Mutation& child = children[i];
      batch[i].solution = std::move(child.solution);
      if (child.parents.empty())
        for (const archive::Candidate* parent : requests[i].parents)
          batch[i].parents.push_back(parent->id);
      else
        batch[i].parents = std::move(child.parents);
      batch[i].op = child.op.empty() ? std::string("mutation") : std::move(child.op);
      batch[i].metadata = std::move(child.metadata);
    }
    return batch;
  }
  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
  const std::string& draw_operator(Rng& rng) const {
    double total = 0;
    for (const auto& [name, weight] : options_.operators) total += weight;
    double u = std::uniform_real_distribution<double>(0.0, total)(rng);
    for (const auto& [name, weight] : options_.operators) {
      if (u < weight) return name;
      u -= weight;
    }
    return options_.operators.back().first;
  }

  MutationOptions options_;
};

}  // namespace

std::unique_ptr<Emitter> make_mutation_emitter(const MutationOptions& options) {
  return std::make_unique<MutationEmitter>(options);
}

EmitterKinds::Kind mutation_emitter_kind() {
  return {"mutation",
          [](common::JsonReader& group,
             const EmitterParseContext& context) -> std::unique_ptr<EmitterSpec> {
            MutationOptions options;
            options.batch_size = read_batch(group, 1, 36);
            options.parents = static_cast<int>(group.integer("parents", 0, kMaxParents, 2));
            if (const auto operators = group.optional("operators")) {
              const std::vector<std::string> known = context.domain.mutation_operators();
              common::JsonReader weights = operators->object();
              for (const auto& item : operators->json().items()) {
                const std::string name = item.key();
                if (std::find(known.begin(), known.end(), name) == known.end())
                  weights.fail(name,
                               "not an operator of domain '" + context.domain.kind() + "'" +
                                   (known.empty() ? std::string(" (it has none to choose)")
                                                  : " (expected one of " + join(known) + ")"));
                options.operators.emplace_back(name, weights.number_in(name, 1e-9, 1e9));
              }
              if (options.operators.empty())
                operators->expected("an object of at least one operator name: weight");
              weights.finish();
            }
            if (!context.domain.has_mutation())
              group.fail("kind",
                         "\"mutation\" needs a domain with its own mutation operator; "
                         "domain '" +
                             context.domain.kind() + "' offers no mutation operator");
            return std::make_unique<EmitterSpecOf<MutationOptions>>("mutation", options,
                                                                    make_mutation_emitter);
          }};
}

}  // namespace qdgen::engine
