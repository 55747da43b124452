#pragma once
// safetensors files: memory-mapped reading (validated: header size, JSON, dtypes, shapes,
// offsets) and writing. Format: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, data.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qdgen::inference {

enum class DType { kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool };
std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "F32", "BF16", ...
std::optional<DType> dtype_from_name(std::string_view name);

inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// A tensor inside a mapped file; `data` stays valid while its file is open. The bytes may
// be unaligned (the header length is arbitrary): copy or convert, never reinterpret_cast.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
  std::int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Throws std::runtime_error naming the file and the fault (truncated, header over the
  // limit, bad JSON, unknown dtype, shape/size mismatch, offsets out of range or overlapping).
  static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  virtual ~SafetensorsFile() = default;
  virtual const std::vector<TensorView>& tensors() const = 0;
  virtual const TensorView* find(const std::string& name) const = 0;
  virtual const std::map<std::string, std::string>& metadata() const = 0;
  virtual const std::filesystem::path& path() const = 0;
};

// A model's weights: one model.safetensors, or shards listed by model.safetensors.index.json.
class SafetensorsModel {
 public:
  static std::unique_ptr<SafetensorsModel> open_folder(const std::filesystem::path& folder);
  virtual ~SafetensorsModel() = default;
  virtual const TensorView* find(const std::string& name) const = 0;
  virtual std::vector<std::string> names() const = 0;
};

struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;  // numel * dtype_size bytes, little-endian
};

// Writes atomically (temporary file, then rename). Tensors are stored sorted by name.
// Element conversions (little-endian host). F16/BF16 to F32 is exact; F32 to F16/BF16
// rounds to nearest even. convert_to_f32 accepts every dtype; `out` must hold numel().
float f16_to_f32(std::uint16_t bits);
float bf16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_f16(float value);
std::uint16_t f32_to_bf16(float value);
void convert_to_f32(const TensorView& tensor, std::span<float> out);
// `out` must hold values.size() * dtype_size(dtype) bytes; dtype F32, F16 or BF16.
void convert_from_f32(std::span<const float> values, DType dtype, std::span<std::byte> out);

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace qdgen::inference
