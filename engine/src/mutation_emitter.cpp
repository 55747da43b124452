// The seam for text domains: parents come from the archive, children from the domain's
// own mutation operator (an LLM rewriting texts), so the scheduler never changes.
#include "emitter_spec_readers.hpp"
#include "qdgen/engine/emitters.hpp"

namespace qdgen::engine {

namespace {

constexpr std::int64_t kMaxParents = 1024;

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
    }
    std::vector<archive::Solution> children =
        context.domain.mutate(requests, context.domain_context);
    if (children.size() != requests.size())
      throw std::runtime_error("domain '" + context.domain.name() + "' returned " +
                               std::to_string(children.size()) + " mutations for " +
                               std::to_string(requests.size()) + " requests");
    std::vector<archive::Candidate> batch(batch_size());
    for (int i = 0; i < batch_size(); ++i) {
      batch[i].solution = std::move(children[i]);
      for (const archive::Candidate* parent : requests[i].parents)
        batch[i].parents.push_back(parent->id);
      batch[i].op = "mutation";
    }
    return batch;
  }
  void tell(std::span<const archive::Candidate>, std::span<const archive::AddResult>,
            EmitterContext&) override {}

 private:
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
            options.parents = static_cast<int>(group.integer("parents", 1, kMaxParents, 2));
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
