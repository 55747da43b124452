// Reading safetensors files: map the file, then validate the header completely before
// handing out a single view, so no malformed file can make a caller read out of bounds.

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "mapped_file.hpp"
#include "qdgen/common/json_parse.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {

std::int64_t TensorView::numel() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1},
                         std::multiplies<std::int64_t>());
}

namespace {

using nlohmann::json;

// Names come from the file and may hold anything; JSON escaping keeps the message one line.
std::string escaped_name(const std::string& name) {
  return json(name).dump(-1, ' ', true, json::error_handler_t::replace);
}

std::string dump_one_line(const json& value) {
  std::string text = value.dump(-1, ' ', true, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

class MappedSafetensorsFile final : public SafetensorsFile {
 public:
  explicit MappedSafetensorsFile(const std::filesystem::path& path) : file_(path) { parse(); }

  const std::vector<TensorView>& tensors() const override { return tensors_; }
  const TensorView* find(const std::string& name) const override {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }
  const std::filesystem::path& path() const override { return file_.path(); }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(file_.path().string() + ": " + what);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& what) const {
    fail("tensor " + escaped_name(name) + ": " + what);
  }

  void parse() {
    const std::span<const std::byte> bytes = file_.bytes();
    if (bytes.size() < 8) {
      fail("file is " + std::to_string(bytes.size()) +
           " bytes, shorter than the 8-byte header length of a safetensors file");
    }
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), 8);
    if (header_size > kMaxSafetensorsHeaderBytes) {
      fail("header length " + std::to_string(header_size) + " exceeds the limit of " +
           std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
    }
    if (header_size > bytes.size() - 8) {
      fail("header length " + std::to_string(header_size) + " runs past the end of the file (" +
           std::to_string(bytes.size() - 8) + " bytes after the length; truncated?)");
    }
    const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
    // One line naming the key for any JSON error, an overflowing number included.
    const json header = common::parse_json(std::string_view(header_begin, header_size),
                                           file_.path().string() + ": header");
    if (!header.is_object()) fail("header is not a JSON object");
    const std::span<const std::byte> data = bytes.subspan(8 + header_size);

    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        parse_metadata(entry);
        continue;
      }
      ranges.push_back(parse_tensor(name, entry, data));
    }
    check_coverage(ranges, data.size());
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  }

  void parse_metadata(const json& entry) {
    if (!entry.is_object()) fail("__metadata__ is not a JSON object of strings");
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string()) {
        fail("__metadata__ value of " + escaped_name(key) + " is " + dump_one_line(value) +
             ", expected a string");
      }
      metadata_.emplace(key, value.get<std::string>());
    }
  }

  std::pair<std::uint64_t, std::uint64_t> parse_tensor(const std::string& name, const json& entry,
                                                       std::span<const std::byte> data) {
    if (!entry.is_object()) {
      fail_tensor(name, "entry is " + dump_one_line(entry) +
                            ", expected an object with dtype, shape and data_offsets");
    }
    TensorView view;
    view.name = name;

    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) {
      fail_tensor(name, "missing or non-string \"dtype\"");
    }
    const auto dtype = dtype_from_name(dtype_it->get<std::string>());
    if (!dtype) {
      fail_tensor(name, "unsupported dtype " + dump_one_line(*dtype_it) +
                            " (expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL)");
    }
    view.dtype = *dtype;

    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) {
      fail_tensor(name, "missing \"shape\" array");
    }
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const json& dim : *shape_it) {
      if (!dim.is_number_unsigned()) {  // JSON parsing makes every non-negative integer unsigned
        fail_tensor(name, "shape " + dump_one_line(*shape_it) +
                              " has an entry that is not a non-negative integer");
      }
      const auto extent = dim.get<std::uint64_t>();
      if (extent > static_cast<std::uint64_t>(INT64_MAX)) {
        fail_tensor(name, "shape " + dump_one_line(*shape_it) + " has an entry beyond int64");
      }
      view.shape.push_back(static_cast<std::int64_t>(extent));
      overflow = overflow || __builtin_mul_overflow(numel, extent, &numel);
    }
    std::uint64_t byte_size = 0;
    overflow = overflow || __builtin_mul_overflow(numel, dtype_size(view.dtype), &byte_size);

    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
      fail_tensor(name, "\"data_offsets\" must be [begin, end] of non-negative integers");
    }
    const auto begin = (*offsets_it)[0].get<std::uint64_t>();
    const auto end = (*offsets_it)[1].get<std::uint64_t>();
    const std::string offsets_text =
        "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
    if (begin > end) fail_tensor(name, offsets_text + " end before they begin");
    if (end > data.size()) {
      fail_tensor(name, offsets_text + " exceed the data section of " +
                            std::to_string(data.size()) + " bytes");
    }
    if (overflow || byte_size != end - begin) {
      fail_tensor(name, "shape " + dump_one_line(*shape_it) + " of " + dtype_name(view.dtype) +
                            " needs " + (overflow ? "more than 2^64" : std::to_string(byte_size)) +
                            " bytes but " + offsets_text + " hold " + std::to_string(end - begin));
    }
    view.data = data.subspan(begin, end - begin);
    tensors_.push_back(std::move(view));
    return {begin, end};
  }

  // The format requires the tensors to tile the data section exactly: no overlaps, no holes.
  void check_coverage(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges,
                      std::uint64_t data_size) {
    std::vector<std::size_t> order(ranges.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return ranges[a] < ranges[b]; });
    std::uint64_t covered = 0;
    std::size_t previous = 0;
    for (std::size_t position = 0; position < order.size(); ++position) {
      const std::size_t i = order[position];
      if (ranges[i].first < covered) {
        fail_tensor(tensors_[i].name,
                    "bytes overlap those of tensor " + escaped_name(tensors_[previous].name));
      }
      if (ranges[i].first > covered) {
        fail("bytes [" + std::to_string(covered) + ", " + std::to_string(ranges[i].first) +
             ") of the data section belong to no tensor");
      }
      covered = ranges[i].second;
      previous = i;
    }
    if (covered != data_size) {
      fail("bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) +
           ") at the end of the data section belong to no tensor");
    }
    // Present the tensors in file order, the order a sequential reader touches pages.
    std::vector<TensorView> sorted;
    sorted.reserve(tensors_.size());
    for (std::size_t i : order) sorted.push_back(std::move(tensors_[i]));
    tensors_ = std::move(sorted);
  }

  MappedFile file_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  return std::make_unique<MappedSafetensorsFile>(path);
}

}  // namespace qdgen::inference
