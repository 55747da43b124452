// safetensors: round trips, a known-answer file, and every malformed case the reader
// must reject with a one-line error instead of reading out of bounds.

#include "qdgen/inference/safetensors.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards. Tests write a new file per variant: on ext4,
// truncating and rewriting one file costs milliseconds (a flush), a new name does not.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            (std::string("qdgen_safetensors_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  fs::path numbered(std::size_t i) const { return path_ / std::to_string(i); }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

// A file from a header text and a data section, with the header length as written.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string file(8, '\0');
  const std::uint64_t size = header.size();
  std::memcpy(file.data(), &size, 8);
  return file + header + data;
}

std::string open_error(const fs::path& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

template <typename T>
std::span<const std::byte> bytes_of(const std::vector<T>& values) {
  return std::as_bytes(std::span<const T>(values));
}

TEST(Safetensors, WriterOutputMatchesTheReferenceImplementationByteForByte) {
  // safetensors.torch.save_file({"a": torch.tensor([1.0, 2.0])}, path) writes exactly this:
  // the JSON with keys in struct order, padded with spaces to an 8-byte boundary.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(header.size(), 54u);
  std::string expected(8, '\0');
  expected[0] = 56;
  const float values[2] = {1.0f, 2.0f};
  expected += header + "  " + std::string(reinterpret_cast<const char*>(values), 8);

  const ScratchDir dir;
  const fs::path path = dir / "a.safetensors";
  const std::vector<float> data = {1.0f, 2.0f};
  const TensorToWrite tensor{"a", DType::kF32, {2}, bytes_of(data)};
  write_safetensors(path, std::span(&tensor, 1));
  EXPECT_EQ(read_bytes(path), expected);
}

TEST(Safetensors, RoundTripKeepsNamesDtypesShapesBytesAndMetadata) {
  const ScratchDir dir;
  const fs::path path = dir / "round.safetensors";
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  const std::vector<std::uint16_t> f16 = {0x3c00, 0xc000, 0x7bff};
  const std::vector<std::uint16_t> bf16 = {0x3f80, 0x4000};
  const std::vector<std::int64_t> i64 = {-5, 1LL << 40};
  const std::vector<std::uint8_t> flags = {1, 0, 1};
  const std::vector<float> scalar = {42.0f};
  const std::vector<TensorToWrite> tensors = {
      {"z.weight", DType::kF32, {2, 3}, bytes_of(f32)}, {"half", DType::kF16, {3}, bytes_of(f16)},
      {"brain", DType::kBF16, {1, 2}, bytes_of(bf16)},  {"ids", DType::kI64, {2}, bytes_of(i64)},
      {"mask", DType::kBool, {3}, bytes_of(flags)},     {"empty", DType::kF32, {0, 4}, {}},
      {"scalar", DType::kF32, {}, bytes_of(scalar)},
  };
  write_safetensors(path, tensors, {{"format", "pt"}, {"note", "qdgen"}});

  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->metadata().at("note"), "qdgen");
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const TensorToWrite& expected : tensors) {
    const TensorView* view = file->find(expected.name);
    ASSERT_NE(view, nullptr) << expected.name;
    EXPECT_EQ(view->dtype, expected.dtype) << expected.name;
    EXPECT_EQ(view->shape, expected.shape) << expected.name;
    ASSERT_EQ(view->data.size(), expected.data.size()) << expected.name;
    EXPECT_TRUE(std::equal(view->data.begin(), view->data.end(), expected.data.begin()));
  }
  EXPECT_EQ(file->find("missing"), nullptr);
  EXPECT_EQ(file->find("scalar")->numel(), 1);
  EXPECT_EQ(file->find("empty")->numel(), 0);
  // Stored sorted by name, so the first tensor's data begins the (8-byte aligned) data section.
  EXPECT_EQ(file->tensors().front().name, "brain");
  const std::string bytes = read_bytes(path);
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ((8 + header_size) % 8, 0u);
  // No temporary file is left beside the result.
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  const ScratchDir dir;
  const fs::path path = dir / "bad.safetensors";
  const std::vector<float> three = {1, 2, 3};
  const std::vector<TensorToWrite> wrong_size = {{"w", DType::kF32, {2, 2}, bytes_of(three)}};
  try {
    write_safetensors(path, wrong_size);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("'w': shape needs 16 bytes of F32, data holds 12"),
              std::string::npos)
        << error.what();
  }
  const std::vector<TensorToWrite> twice = {{"w", DType::kF32, {3}, bytes_of(three)},
                                            {"w", DType::kF32, {3}, bytes_of(three)}};
  EXPECT_THROW(write_safetensors(path, twice), std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(path.parent_path()));
}

TEST(Safetensors, ReadsUnalignedHeadersWrittenByOtherTools) {
  // Older writers did not pad: F32 data may start at any byte. Views must still be right.
  const ScratchDir dir;
  const fs::path path = dir / "unaligned.safetensors";
  const float values[2] = {0.5f, -4.0f};
  write_bytes(path, raw_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                             std::string(reinterpret_cast<const char*>(values), 8)));
  const auto file = SafetensorsFile::open(path);
  std::vector<float> out(2);
  convert_to_f32(*file->find("x"), out);
  EXPECT_EQ(out, (std::vector<float>{0.5f, -4.0f}));
}

struct MalformedCase {
  const char* label;
  std::string bytes;
  const char* expected_message;
};

std::string tensor_json(const std::string& name, const std::string& dtype, const std::string& shape,
                        const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

std::vector<MalformedCase> malformed_cases() {
  const std::string eight(8, '\x01');
  const std::string good = tensor_json("w", "F32", "[2]", "[0,8]");
  std::string huge_length(8, '\0');
  const std::uint64_t over = kMaxSafetensorsHeaderBytes + 1;
  std::memcpy(huge_length.data(), &over, 8);
  std::string past_end(8, '\0');
  past_end[0] = 100;
  return {
      {"empty file", "", "file is 0 bytes, shorter than the 8-byte header length"},
      {"seven bytes", std::string(7, '\0'), "file is 7 bytes"},
      {"header over the limit", huge_length + "{}", "header length 100000001 exceeds the limit"},
      {"header past the end", past_end + "{}", "header length 100 runs past the end of the file"},
      {"invalid JSON", raw_file("{\"w\":", ""), "header: w: not valid JSON (parse error at line 1"},
      {"overflowing number",
       raw_file("{" + tensor_json("w", "F32", "[1e999]", "[0,8]") + "}", eight),
       "header: w.shape[0]: the number 1e999 does not fit a double (at most 1.8e308)"},
      {"header not an object", raw_file("[1,2]", ""), "header is not a JSON object"},
      {"entry not an object", raw_file("{\"w\":5}", ""),
       "tensor \"w\": entry is 5, expected an object"},
      {"missing dtype", raw_file(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", eight),
       "tensor \"w\": missing or non-string \"dtype\""},
      {"unknown dtype", raw_file("{" + tensor_json("w", "F8_E4M3", "[8]", "[0,8]") + "}", eight),
       "tensor \"w\": unsupported dtype \"F8_E4M3\""},
      {"negative extent", raw_file("{" + tensor_json("w", "F32", "[-2]", "[0,8]") + "}", eight),
       "tensor \"w\": shape [-2] has an entry that is not a non-negative integer"},
      {"fractional extent", raw_file("{" + tensor_json("w", "F32", "[2.0]", "[0,8]") + "}", eight),
       "shape [2.0] has an entry that is not a non-negative integer"},
      {"string extent", raw_file("{" + tensor_json("w", "F32", "[\"2\"]", "[0,8]") + "}", eight),
       "has an entry that is not a non-negative integer"},
      {"missing shape", raw_file(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", eight),
       "tensor \"w\": missing \"shape\" array"},
      {"size mismatch", raw_file("{" + tensor_json("w", "F32", "[3]", "[0,8]") + "}", eight),
       "tensor \"w\": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8"},
      {"numel overflow",
       raw_file("{" + tensor_json("w", "F32", "[4294967296,4294967296]", "[0,8]") + "}", eight),
       "needs more than 2^64 bytes"},
      {"offsets not a pair", raw_file("{" + tensor_json("w", "F32", "[2]", "[0]") + "}", eight),
       "\"data_offsets\" must be [begin, end]"},
      {"negative offset", raw_file("{" + tensor_json("w", "F32", "[2]", "[-1,7]") + "}", eight),
       "\"data_offsets\" must be [begin, end]"},
      {"reversed offsets", raw_file("{" + tensor_json("w", "F32", "[0]", "[8,0]") + "}", eight),
       "data_offsets [8, 0] end before they begin"},
      {"offsets out of range",
       raw_file("{" + tensor_json("w", "F32", "[4]", "[0,16]") + "}", eight),
       "tensor \"w\": data_offsets [0, 16] exceed the data section of 8 bytes"},
      {"overlap", raw_file("{" + good + "," + tensor_json("v", "F32", "[1]", "[4,8]") + "}", eight),
       "bytes overlap those of tensor"},
      {"hole",
       raw_file("{" + tensor_json("a", "F32", "[1]", "[0,4]") + "," +
                    tensor_json("b", "F32", "[1]", "[8,12]") + "}",
                std::string(12, '\0')),
       "bytes [4, 8) of the data section belong to no tensor"},
      {"hole at the start", raw_file("{" + tensor_json("w", "F32", "[1]", "[4,8]") + "}", eight),
       "bytes [0, 4) of the data section belong to no tensor"},
      {"trailing bytes", raw_file("{" + good + "}", eight + "xyz"),
       "bytes [8, 11) at the end of the data section belong to no tensor"},
      {"metadata not an object", raw_file("{\"__metadata__\":[1]," + good + "}", eight),
       "__metadata__ is not a JSON object of strings"},
      {"metadata value not a string",
       raw_file("{\"__metadata__\":{\"step\":3}," + good + "}", eight),
       "__metadata__ value of \"step\" is 3, expected a string"},
      {"name with a newline stays one line",
       raw_file("{" + tensor_json("a\\nb", "F32", "[3]", "[0,8]") + "}", eight),
       "tensor \"a\\nb\": shape [3]"},
  };
}

TEST(Safetensors, EveryMalformedCaseGivesItsOwnOneLineError) {
  const ScratchDir dir;
  std::size_t count = 0;
  for (const MalformedCase& bad : malformed_cases()) {
    const fs::path path = dir.numbered(count++);
    write_bytes(path, bad.bytes);
    const std::string message = open_error(path);
    EXPECT_NE(message.find(bad.expected_message), std::string::npos)
        << bad.label << ": got \"" << message << "\"";
    EXPECT_EQ(message.rfind(path.string(), 0), 0u) << bad.label << " must name the file";
    EXPECT_EQ(message.find('\n'), std::string::npos) << bad.label;
  }
}

TEST(Safetensors, MissingFileAndDirectoryAreClearErrors) {
  const ScratchDir dir;
  EXPECT_NE(open_error(dir / "nope.safetensors").find("cannot open"), std::string::npos);
  EXPECT_NE(open_error(dir.path()).find("not a regular file"), std::string::npos);
}

std::string small_valid_file() {
  const fs::path path = fs::temp_directory_path() / ("qdgen_small_" + std::to_string(::getpid()));
  const std::vector<float> a = {1, 2, 3, 4};
  const std::vector<std::uint16_t> b = {0x3c00, 0x4000, 0x4200};
  const std::vector<TensorToWrite> tensors = {{"a", DType::kF32, {2, 2}, bytes_of(a)},
                                              {"b", DType::kBF16, {3}, bytes_of(b)}};
  write_safetensors(path, tensors, {{"format", "pt"}});
  std::string bytes = read_bytes(path);
  fs::remove(path);
  return bytes;
}

TEST(Safetensors, EveryTruncationOfAValidFileIsRejected) {
  const std::string full = small_valid_file();
  const ScratchDir dir;
  for (std::size_t length = 0; length < full.size(); ++length) {
    const fs::path path = dir.numbered(length);
    write_bytes(path, full.substr(0, length));
    EXPECT_THROW(SafetensorsFile::open(path), std::runtime_error) << "prefix of " << length;
  }
  const fs::path path = dir / "full";
  write_bytes(path, full);
  EXPECT_NO_THROW(SafetensorsFile::open(path));
}

// Corrupted headers must give a clean error or a parse whose views all lie inside the file.
TEST(Safetensors, RandomHeaderCorruptionNeverReadsOutOfBounds) {
  const std::string full = small_valid_file();
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, full.data(), 8);
  const ScratchDir dir;
  std::size_t count = 0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    std::mt19937_64 random(seed);
    int parsed = 0, rejected = 0;
    for (int trial = 0; trial < 1000; ++trial) {
      std::string bytes = full;
      const int changes = 1 + static_cast<int>(random() % 3);
      for (int c = 0; c < changes; ++c) {
        const std::size_t at = random() % (8 + header_size);
        if (random() % 2 == 0) {
          bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
        } else {
          bytes[at] = "0123456789[]{},:\"-.eE \x00\xff"[random() % 24];
        }
      }
      const fs::path path = dir.numbered(count++);
      write_bytes(path, bytes);
      try {
        const auto file = SafetensorsFile::open(path);
        ++parsed;
        const std::size_t data_begin = bytes.size() - [&] {
          std::size_t total = 0;
          for (const TensorView& view : file->tensors()) total += view.data.size();
          return total;
        }();
        for (const TensorView& view : file->tensors()) {
          EXPECT_EQ(view.data.size(),
                    static_cast<std::size_t>(view.numel()) * dtype_size(view.dtype));
          std::vector<float> out(static_cast<std::size_t>(view.numel()));
          convert_to_f32(view, out);  // touches every byte: ASan checks the bounds
        }
        EXPECT_LE(data_begin, bytes.size());
      } catch (const std::runtime_error& error) {
        ++rejected;
        EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos) << error.what();
      }
    }
    EXPECT_GT(rejected, 500) << "seed " << seed;
    EXPECT_GT(parsed, 0) << "seed " << seed << ": some flips (in padding, names) keep it valid";
  }
}

TEST(HalfFloats, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);  // below the midpoint to 65536
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // the midpoint rounds to even: infinity
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie to even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie to even (up)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // half the smallest subnormal: even
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::nanf("")))));

  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc040), -3.0f);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie: even stays
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie: odd rounds up
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
}

TEST(HalfFloats, EveryHalfSurvivesARoundTripThroughF32) {
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    const auto half = static_cast<std::uint16_t>(bits);
    const float wide = f16_to_f32(half);
    if (std::isnan(wide)) continue;
    ASSERT_EQ(f32_to_f16(wide), half) << std::hex << bits;
    ASSERT_EQ(f32_to_bf16(bf16_to_f32(half)), half) << std::hex << bits;
  }
}

#if defined(__FLT16_MAX__)
// The compiler's own _Float16 is a second, independent implementation to check against.
TEST(HalfFloats, AgreesWithTheCompilersFloat16OnRandomValues) {
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    std::mt19937 random(static_cast<std::uint32_t>(seed));
    for (int i = 0; i < 100000; ++i) {
      const float value = std::bit_cast<float>(static_cast<std::uint32_t>(random()));
      if (std::isnan(value)) continue;
      const _Float16 reference = static_cast<_Float16>(value);
      ASSERT_EQ(f32_to_f16(value), std::bit_cast<std::uint16_t>(reference)) << value;
      const auto bits = static_cast<std::uint16_t>(random());
      const float wide = f16_to_f32(bits);
      if (!std::isnan(wide)) {
        ASSERT_EQ(wide, static_cast<float>(std::bit_cast<_Float16>(bits))) << bits;
      }
    }
  }
}
#endif

TEST(HalfFloats, ConvertToF32HandlesEveryDtype) {
  const std::vector<std::uint16_t> f16 = {0x3c00, 0xc000};
  const std::vector<std::uint16_t> bf16 = {0x3f80, 0xc040};
  const std::vector<double> f64 = {0.25, -1e3};
  const std::vector<std::int32_t> i32 = {-7, 9};
  const std::vector<std::int8_t> i8 = {-128, 127};
  const std::vector<std::uint8_t> flags = {0, 3};
  const auto convert = [](DType dtype, std::span<const std::byte> data) {
    TensorView view{"t", dtype, {2}, data};
    std::vector<float> out(2);
    convert_to_f32(view, out);
    return out;
  };
  EXPECT_EQ(convert(DType::kF16, bytes_of(f16)), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(convert(DType::kBF16, bytes_of(bf16)), (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(convert(DType::kF64, bytes_of(f64)), (std::vector<float>{0.25f, -1000.0f}));
  EXPECT_EQ(convert(DType::kI32, bytes_of(i32)), (std::vector<float>{-7.0f, 9.0f}));
  EXPECT_EQ(convert(DType::kI8, bytes_of(i8)), (std::vector<float>{-128.0f, 127.0f}));
  EXPECT_EQ(convert(DType::kBool, bytes_of(flags)), (std::vector<float>{0.0f, 1.0f}));

  std::vector<float> wrong(3);
  EXPECT_THROW(convert_to_f32(TensorView{"t", DType::kF16, {2}, bytes_of(f16)}, wrong),
               std::invalid_argument);
  const std::vector<float> values = {1.0f, -3.0f};
  std::vector<std::byte> out(4);
  convert_from_f32(values, DType::kBF16, out);
  EXPECT_EQ(std::memcmp(out.data(), bf16.data(), 4), 0);
  EXPECT_THROW(convert_from_f32(values, DType::kI32, std::span<std::byte>(out.data(), 4)),
               std::invalid_argument);
}

TEST(DTypes, NamesAndSizesMatchTheFormat) {
  EXPECT_EQ(dtype_from_name("BF16"), DType::kBF16);
  EXPECT_EQ(dtype_from_name("BOOL"), DType::kBool);
  EXPECT_EQ(dtype_from_name("bf16"), std::nullopt);
  EXPECT_EQ(dtype_size(DType::kI64), 8u);
  EXPECT_EQ(dtype_size(DType::kBF16), 2u);
  EXPECT_STREQ(dtype_name(DType::kU8), "U8");
}

}  // namespace
}  // namespace qdgen::inference
