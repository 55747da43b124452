#include "checkpoint.hpp"

#include <stdexcept>

#include "output_folder.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;

void write_tensors(const fs::path& path, const std::vector<TrainableParameter>& tensors) {
  std::vector<at::Tensor> contiguous;
  std::vector<TensorToWrite> out;
  for (const TrainableParameter& p : tensors) {
    contiguous.push_back(p.tensor.detach().contiguous());
    const at::Tensor& t = contiguous.back();
    out.push_back(
        {p.name, DType::kF32, t.sizes().vec(),
         std::span<const std::byte>(reinterpret_cast<const std::byte*>(t.data_ptr<float>()),
                                    static_cast<std::size_t>(t.numel()) * sizeof(float))});
  }
  write_safetensors(path, out);
}

void read_tensors(const fs::path& path, const std::vector<TrainableParameter>& tensors) {
  const auto file = SafetensorsFile::open(path);
  if (file->tensors().size() != tensors.size()) {
    throw std::runtime_error(path.string() + ": holds " + std::to_string(file->tensors().size()) +
                             " tensors, this run trains " + std::to_string(tensors.size()));
  }
  at::NoGradGuard no_grad;
  for (const TrainableParameter& p : tensors) {
    const TensorView* view = file->find(p.name);
    if (view == nullptr)
      throw std::runtime_error(path.string() + ": tensor '" + p.name + "' is missing");
    if (view->dtype != DType::kF32 || view->shape != p.tensor.sizes().vec()) {
      throw std::runtime_error(path.string() + ": tensor '" + p.name +
                               "' has another dtype or shape than this run's");
    }
    at::Tensor target = p.tensor;
    convert_to_f32(*view, std::span<float>(target.data_ptr<float>(),
                                           static_cast<std::size_t>(target.numel())));
  }
}

}  // namespace

bool checkpoint_exists(const fs::path& folder) {
  return fs::exists(folder / "state.json");
}

void save_checkpoint(const fs::path& folder, const std::vector<TrainableParameter>& weights,
                     const std::vector<TrainableParameter>& optimizer,
                     const nlohmann::json& state) {
  const fs::path staged = make_staging_folder(folder, "saving");
  write_tensors(staged / "weights.safetensors", weights);
  write_tensors(staged / "optimizer.safetensors", optimizer);
  write_text_file(staged / "state.json", state.dump(2) + "\n");
  publish_folder(staged, folder);
}

nlohmann::json load_checkpoint(const fs::path& folder,
                               const std::vector<TrainableParameter>& weights,
                               const std::vector<TrainableParameter>& optimizer) {
  const fs::path state_path = folder / "state.json";
  const auto state = nlohmann::json::parse(read_text_file(state_path), nullptr, false);
  if (state.is_discarded() || !state.is_object()) {
    throw std::runtime_error(state_path.string() + ": not a JSON object");
  }
  read_tensors(folder / "weights.safetensors", weights);
  read_tensors(folder / "optimizer.safetensors", optimizer);
  return state;
}

}  // namespace qdgen::inference::training
