// safetensors element types and their conversions to and from F32.

#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
    case DType::kI16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
      return 1;
  }
  throw std::logic_error("dtype_size: unknown DType value");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kF64:
      return "F64";
    case DType::kI64:
      return "I64";
    case DType::kI32:
      return "I32";
    case DType::kI16:
      return "I16";
    case DType::kI8:
      return "I8";
    case DType::kU8:
      return "U8";
    case DType::kBool:
      return "BOOL";
  }
  throw std::logic_error("dtype_name: unknown DType value");
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI64, DType::kI32,
                      DType::kI16, DType::kI8, DType::kU8, DType::kBool}) {
    if (name == dtype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

float f16_to_f32(std::uint16_t bits) {
  // Read the half's exponent and mantissa as a float's and rescale by 2^(127-15): exact for
  // normal and subnormal halves alike. Only inf/NaN need their exponent forced to all ones.
  // No branches, so conversion loops vectorise.
  const std::uint32_t magnitude = static_cast<std::uint32_t>(bits & 0x7fffu) << 13;
  const float rescaled = std::bit_cast<float>(magnitude) * 0x1p112f;
  const std::uint32_t finite = std::bit_cast<std::uint32_t>(rescaled);
  const std::uint32_t special = magnitude | 0x7f800000u;
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t is_special = 0u - static_cast<std::uint32_t>(magnitude >= (0x7c00u << 13));
  return std::bit_cast<float>((special & is_special) | (finite & ~is_special) | sign);
}

float bf16_to_f32(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t f32_to_f16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // inf stays inf; NaN stays a (quiet) NaN
    return sign | (magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u);
  }
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // rounds past 65504: overflow to inf
  if (magnitude < 0x38800000u) {
    // Below the smallest normal half: adding 0.5 makes the FPU round the mantissa to the
    // subnormal grid (nearest even), leaving the half's bits in the low mantissa bits.
    const float shifted = std::bit_cast<float>(magnitude) + 0.5f;
    return sign | static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(shifted) - 0x3f000000u);
  }
  const std::uint32_t odd = (magnitude >> 13) & 1u;
  const std::uint32_t rounded = magnitude + ((15u - 127u) << 23) + 0xfffu + odd;
  return sign | static_cast<std::uint16_t>(rounded >> 13);
}

std::uint16_t f32_to_bf16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // keep NaN a NaN after truncation
  }
  const std::uint32_t odd = (bits >> 16) & 1u;
  return static_cast<std::uint16_t>((bits + 0x7fffu + odd) >> 16);
}

namespace {

template <typename Source, typename Convert>
void convert_elements(std::span<const std::byte> data, std::span<float> out, Convert convert) {
  const std::byte* source = data.data();
  for (float& value : out) {
    Source element;
    std::memcpy(&element, source, sizeof(Source));  // the view may be unaligned
    value = convert(element);
    source += sizeof(Source);
  }
}

template <typename Source>
void convert_plain(std::span<const std::byte> data, std::span<float> out) {
  convert_elements<Source>(data, out, [](Source element) { return static_cast<float>(element); });
}

}  // namespace

void convert_to_f32(const TensorView& tensor, std::span<float> out) {
  const auto count = static_cast<std::size_t>(tensor.numel());
  if (out.size() != count || tensor.data.size() != count * dtype_size(tensor.dtype)) {
    throw std::invalid_argument("convert_to_f32: tensor '" + tensor.name + "' has " +
                                std::to_string(count) + " elements, output holds " +
                                std::to_string(out.size()));
  }
  switch (tensor.dtype) {
    case DType::kF32:
      if (count > 0) std::memcpy(out.data(), tensor.data.data(), count * sizeof(float));
      return;
    case DType::kF16:
      return convert_elements<std::uint16_t>(tensor.data, out, f16_to_f32);
    case DType::kBF16:
      return convert_elements<std::uint16_t>(tensor.data, out, bf16_to_f32);
    case DType::kF64:
      return convert_plain<double>(tensor.data, out);
    case DType::kI64:
      return convert_plain<std::int64_t>(tensor.data, out);
    case DType::kI32:
      return convert_plain<std::int32_t>(tensor.data, out);
    case DType::kI16:
      return convert_plain<std::int16_t>(tensor.data, out);
    case DType::kI8:
      return convert_plain<std::int8_t>(tensor.data, out);
    case DType::kU8:
      return convert_plain<std::uint8_t>(tensor.data, out);
    case DType::kBool:
      return convert_elements<std::uint8_t>(tensor.data, out,
                                            [](std::uint8_t b) { return b != 0 ? 1.0f : 0.0f; });
  }
}

void convert_from_f32(std::span<const float> values, DType dtype, std::span<std::byte> out) {
  if (out.size() != values.size() * dtype_size(dtype)) {
    throw std::invalid_argument("convert_from_f32: output holds " + std::to_string(out.size()) +
                                " bytes, " + std::to_string(values.size()) + " " +
                                dtype_name(dtype) + " values need " +
                                std::to_string(values.size() * dtype_size(dtype)));
  }
  std::byte* target = out.data();
  switch (dtype) {
    case DType::kF32:
      if (!values.empty()) std::memcpy(target, values.data(), values.size_bytes());
      return;
    case DType::kF16:
    case DType::kBF16:
      for (float value : values) {
        const std::uint16_t half = dtype == DType::kF16 ? f32_to_f16(value) : f32_to_bf16(value);
        std::memcpy(target, &half, sizeof(half));
        target += sizeof(half);
      }
      return;
    default:
      throw std::invalid_argument(std::string("convert_from_f32: target dtype ") +
                                  dtype_name(dtype) + " is not F32, F16 or BF16");
  }
}

}  // namespace qdgen::inference
