// `qdgen metrics` end to end: the real binary on real files.

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "run_process.hpp"
#include "scratch_directory.hpp"

namespace qdgen::metrics {
namespace {

using qdgen_test::ScratchDirectory;

// Scratch paths are made of test names and digits, so they need no shell quoting.
qdgen_test::ProcessResult run_qdgen(const std::string& arguments) {
  return qdgen_test::qdgen(arguments);
}

TEST(MetricsCli, VendiTableOfTwoClusters) {
  ScratchDirectory dir;
  const auto file = dir.write("two_clusters.csv", "1,0\n1,0\n0,1\n0,1\n");
  const qdgen_test::ProcessResult out =
      run_qdgen("metrics vendi " + file.string() + " --q 0,1,inf");
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_NE(out.output.find("n = 4, dimension d = 2, kernel cosine"), std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("inf                 2"), std::string::npos) << out.output;
}

TEST(MetricsCli, VendiJsonHasOneObjectPerOrder) {
  ScratchDirectory dir;
  const auto file = dir.write("clusters.csv", "x,y,z\n1,0,0\n2,0,0\n0,3,0\n0,1,0\n0,0,1\n0,0,5\n");
  const qdgen_test::ProcessResult out =
      run_qdgen("metrics vendi " + file.string() + " --format json --q 0,0.5,1,2,inf");
  ASSERT_EQ(out.status, 0) << out.output;
  const nlohmann::json json = nlohmann::json::parse(out.output);
  ASSERT_EQ(json.size(), 5u);
  for (const auto& object : json) {
    EXPECT_NEAR(object["vendi"].get<double>(), 3, 1e-9);
    EXPECT_EQ(object["n"], 6);
    EXPECT_EQ(object["d"], 3);
    EXPECT_EQ(object["kernel"], "cosine");
    EXPECT_EQ(object["path"], "features_dxd");
  }
  EXPECT_EQ(json[4]["q"], "inf");
}

TEST(MetricsCli, WeightsPrecomputedAndTexts) {
  ScratchDirectory dir;
  const auto identity = dir.write("identity.csv", "1,0,0\n0,1,0\n0,0,1\n");
  const auto weights = dir.write("w.csv", "0.5\n0.25\n0.25\n");
  qdgen_test::ProcessResult out =
      run_qdgen("metrics vendi " + identity.string() + " --kernel precomputed --weights " +
                weights.string() + " --q 1 --format json");
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_NEAR(nlohmann::json::parse(out.output)[0]["vendi"].get<double>(), std::pow(2.0, 1.5),
              1e-9);

  const auto texts = dir.write("t.jsonl", "{\"text\": \"a b\"}\n{\"text\": \"a c\"}\n");
  out = run_qdgen("metrics vendi " + texts.string() + " --kernel ngram:1 --q inf --format json");
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_NEAR(nlohmann::json::parse(out.output)[0]["vendi"].get<double>(), 4.0 / 3, 1e-9);
}

TEST(MetricsCli, HillNumbersPerRow) {
  ScratchDirectory dir;
  const auto file = dir.write("abundances.csv", "2,1,1\n5,5,0\n");
  const qdgen_test::ProcessResult out =
      run_qdgen("metrics hill " + file.string() + " --q 0,1,2,inf --format json");
  ASSERT_EQ(out.status, 0) << out.output;
  const nlohmann::json json = nlohmann::json::parse(out.output);
  ASSERT_EQ(json.size(), 8u);
  EXPECT_NEAR(json[1]["hill"].get<double>(), std::pow(2.0, 1.5), 1e-9);
  EXPECT_EQ(json[4]["row"], 2);
  EXPECT_NEAR(json[4]["hill"].get<double>(), 2, 1e-12);
}

// One count per line is one vector of that many species; one row is one vector too; a file
// of rows and columns is one vector per row.
TEST(MetricsCli, HillReadsAColumnOrARowAsOneVector) {
  ScratchDirectory dir;
  for (const char* content : {"25\n25\n25\n25\n", "count\n25\n25\n25\n25\n", "25,25,25,25\n"}) {
    const auto file = dir.write("h.csv", content);
    const qdgen_test::ProcessResult out =
        run_qdgen("metrics hill " + file.string() + " --format json");
    ASSERT_EQ(out.status, 0) << out.output;
    const nlohmann::json json = nlohmann::json::parse(out.output);
    ASSERT_EQ(json.size(), 4u) << content;  // one vector, four orders
    for (const auto& entry : json) {
      EXPECT_EQ(entry["row"], 1);
      EXPECT_NEAR(entry["hill"].get<double>(), 4, 1e-12) << content;
    }
  }
  const qdgen_test::ProcessResult table =
      run_qdgen("metrics hill " + dir.write("c.csv", "1\n1\n2\n").string());
  EXPECT_NE(table.output.find("(1 vector, 3 species)"), std::string::npos) << table.output;
  const qdgen_test::ProcessResult huge =
      run_qdgen("metrics hill " + dir.write("big.csv", "1e308,1e308,1e308\n").string() +
                " --q 0,1,2,inf --format json");
  ASSERT_EQ(huge.status, 0) << huge.output;
  for (const auto& entry : nlohmann::json::parse(huge.output)) {
    EXPECT_NEAR(entry["hill"].get<double>(), 3, 1e-12) << huge.output;
  }
}

// NPY files are mapped and streamed; the scores are those of the same values as CSV, in
// either memory order and type, for features and for a precomputed kernel.
TEST(MetricsCli, NpyInputsGiveTheScoresOfTheSameCsv) {
  ScratchDirectory dir;
  const auto csv = dir.write("x.csv", "1,0.1,0\n0.9,0,0.2\n0,1,0\n0.1,0.8,0.3\n0,0,1\n");
  const auto scores = [](const std::string& arguments) {
    const qdgen_test::ProcessResult out = run_qdgen(arguments + " --format json");
    EXPECT_EQ(out.status, 0) << out.output;
    return out.status == 0 ? nlohmann::json::parse(out.output) : nlohmann::json::array();
  };
  const double values[] = {1, 0.1, 0, 0.9, 0, 0.2, 0, 1, 0, 0.1, 0.8, 0.3, 0, 0, 1};
  std::string c_order, f_order;
  for (double v : values) c_order.append(reinterpret_cast<const char*>(&v), 8);
  for (int j = 0; j < 3; ++j) {
    for (int i = 0; i < 5; ++i)
      f_order.append(reinterpret_cast<const char*>(&values[i * 3 + j]), 8);
  }
  const auto npy = [&](const std::string& name, const std::string& descr, bool fortran,
                       const std::string& data) {
    std::string header = "{'descr': '" + descr +
                         "', 'fortran_order': " + (fortran ? "True" : "False") +
                         ", 'shape': (5, 3), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    return dir.write(name, std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                               '\0' + header + data);
  };
  std::string floats;
  for (double v : values) {
    const float f = static_cast<float>(v);
    floats.append(reinterpret_cast<const char*>(&f), 4);
  }
  const nlohmann::json expected = scores("metrics vendi " + csv.string());
  for (const auto& file :
       {npy("c.npy", "<f8", false, c_order), npy("f.npy", "<f8", true, f_order)}) {
    const nlohmann::json got = scores("metrics vendi " + file.string());
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i]["vendi"].get<double>(), expected[i]["vendi"].get<double>(), 1e-12);
    }
  }
  const nlohmann::json from_floats =
      scores("metrics vendi " + npy("c32.npy", "<f4", false, floats).string());
  EXPECT_NEAR(from_floats[2]["vendi"].get<double>(), expected[2]["vendi"].get<double>(), 1e-6);

  const auto k_csv = dir.write("k.csv", "1,0.5,0\n0.5,1,0\n0,0,1\n");
  const double k[] = {1, 0.5, 0, 0.5, 1, 0, 0, 0, 1};
  std::string k_data(reinterpret_cast<const char*>(k), sizeof k);
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  const auto k_npy =
      dir.write("k.npy", std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                             '\0' + header + k_data);
  const nlohmann::json a =
      scores("metrics vendi " + k_csv.string() + " --kernel precomputed --q 1");
  const nlohmann::json b =
      scores("metrics vendi " + k_npy.string() + " --kernel precomputed --q 1");
  EXPECT_NEAR(a[0]["vendi"].get<double>(), 2.749459274, 1e-9);
  EXPECT_NEAR(b[0]["vendi"].get<double>(), a[0]["vendi"].get<double>(), 1e-12);
}

// Files as editors write them: a byte-order mark first, a pipe instead of a file.
TEST(MetricsCli, ByteOrderMarksAndPipes) {
  ScratchDirectory dir;
  const auto bom = dir.write("bom.csv",
                             "\xEF\xBB\xBF"
                             "1,0\n0,1\n");
  qdgen_test::ProcessResult out =
      run_qdgen("metrics vendi " + bom.string() + " --q 0 --format json");
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_EQ(nlohmann::json::parse(out.output)[0]["vendi"], 2);
  out = run_qdgen("metrics hill /dev/stdin --q 0 --format json < " +
                  dir.write("h.csv", "3\n1\n0\n").string());
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_EQ(nlohmann::json::parse(out.output)[0]["hill"], 2);
}

// A NUL byte in a cell is shown, not left to end the message; the line stays whole.
TEST(MetricsCli, ANulByteIsShownInTheMessage) {
  ScratchDirectory dir;
  const auto file = dir.write("nul.csv", std::string("1,2\n3,4\0x\n", 10));
  const qdgen_test::ProcessResult out = run_qdgen("metrics vendi " + file.string());
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.output.find(file.string() + ": line 2, column 2: '4\\x00x' is not a number"),
            std::string::npos)
      << out.output;
  EXPECT_EQ(out.output.find('\n'), out.output.size() - 1) << out.output;
}

TEST(MetricsCli, HelpTeachesOrdersKernelsAndFormats) {
  const qdgen_test::ProcessResult out = run_qdgen("metrics vendi --help");
  EXPECT_EQ(out.status, 0);
  for (const char* topic : {"Shannon", "rbf:SIGMA", "ngram:N", ".npy", ".jsonl", "Example"}) {
    EXPECT_NE(out.output.find(topic), std::string::npos) << topic;
  }
  const qdgen_test::ProcessResult hill = run_qdgen("metrics hill --help");
  EXPECT_EQ(hill.status, 0);
  for (const char* topic : {"a single column", "a single row", "one vector per row"}) {
    EXPECT_NE(hill.output.find(topic), std::string::npos) << topic;
  }
}

struct BadCase {
  std::string name;
  std::string files;      // "name=content;..." written before the run
  std::string arguments;  // DIR is replaced by the scratch directory
  std::string message;
};

void PrintTo(const BadCase& c, std::ostream* out) {
  *out << c.name;
}

// Builds a new string rather than std::string::replace, which trips GCC 12's -Wrestrict.
std::string replace_all(const std::string& text, const std::string& from, const std::string& to) {
  std::string result;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(from, start)) != std::string::npos;
       start = at + from.size()) {
    result += text.substr(start, at - start) + to;
  }
  return result + text.substr(start);
}

class MetricsCliBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(MetricsCliBadInput, OneLineAndExitStatusOne) {
  ScratchDirectory dir;
  const BadCase& c = GetParam();
  for (std::size_t start = 0; start < c.files.size();) {
    const std::size_t end = std::min(c.files.find(';', start), c.files.size());
    const std::string entry = c.files.substr(start, end - start);
    const std::size_t equals = entry.find('=');
    dir.write(entry.substr(0, equals), replace_all(entry.substr(equals + 1), "\\n", "\n"));
    start = end + 1;
  }
  const qdgen_test::ProcessResult out =
      run_qdgen(replace_all(c.arguments, "DIR", dir.path().string()));
  const std::string message = replace_all(c.message, "DIR", dir.path().string());
  EXPECT_EQ(out.status, 1) << out.output;
  EXPECT_NE(out.output.find(message), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find('\n'), out.output.size() - 1) << "one line: " << out.output;
}

INSTANTIATE_TEST_SUITE_P(
    EveryIssueCase, MetricsCliBadInput,
    ::testing::Values(
        BadCase{"MissingFile", "", "metrics vendi DIR/none.csv",
                "qdgen metrics vendi: DIR/none.csv: cannot open"},
        BadCase{"Ragged", "r.csv=1,2\\n3\\n", "metrics vendi DIR/r.csv",
                "line 2 has 1 cells; expected 2"},
        BadCase{"NonNumeric", "n.csv=1,2\\n3,abc\\n", "metrics vendi DIR/n.csv",
                "'abc' is not a number"},
        BadCase{"NaN", "n.csv=1,2\\nnan,1\\n", "metrics vendi DIR/n.csv", "'nan' is not finite"},
        BadCase{"Empty", "e.csv=", "metrics vendi DIR/e.csv", "has no rows"},
        BadCase{"OneItem", "o.csv=1,2\\n", "metrics vendi DIR/o.csv",
                "1 item; expected at least 2"},
        BadCase{"ZeroVector", "z.csv=1,2\\n0,0\\n", "metrics vendi DIR/z.csv",
                "DIR/z.csv: row 2 is a zero vector"},
        BadCase{"NotSquare", "k.csv=1,0,0\\n0,1,0\\n",
                "metrics vendi DIR/k.csv --kernel precomputed", "2 x 3; expected a square matrix"},
        BadCase{"NotSymmetric", "k.csv=1,0.5\\n0.2,1\\n",
                "metrics vendi DIR/k.csv --kernel precomputed", "not symmetric"},
        BadCase{"Diagonal", "k.csv=1,0\\n0,0.5\\n", "metrics vendi DIR/k.csv --kernel precomputed",
                "diagonal K[2][2] = 0.5"},
        BadCase{"NotPsd", "k.csv=1,0.9,0.9\\n0.9,1,-0.9\\n0.9,-0.9,1\\n",
                "metrics vendi DIR/k.csv --kernel precomputed", "not positive semi-definite"},
        BadCase{"NegativeOrder", "a.csv=1,0\\n0,1\\n", "metrics vendi DIR/a.csv --q 1,-2",
                "--q: order -2 is negative"},
        BadCase{"BadOrder", "a.csv=1,0\\n0,1\\n", "metrics vendi DIR/a.csv --q 1,two",
                "'two' is not an order"},
        BadCase{"UnknownKernel", "a.csv=1,0\\n0,1\\n", "metrics vendi DIR/a.csv --kernel gauss",
                "unknown kernel 'gauss'"},
        BadCase{"WeightCount", "a.csv=1,0\\n0,1\\n;w.csv=1\\n",
                "metrics vendi DIR/a.csv --weights DIR/w.csv",
                "DIR/w.csv: there are 1 weights for 2 items"},
        BadCase{"WeightSum", "a.csv=1,0\\n0,1\\n;w.csv=0.3\\n0.3\\n",
                "metrics vendi DIR/a.csv --weights DIR/w.csv", "weights sum to 0.6; expected 1"},
        BadCase{"TextsNeedNgram", "t.jsonl={\"text\": \"a\"}\\n", "metrics vendi DIR/t.jsonl",
                "use --kernel ngram:N"},
        BadCase{"BadJsonl", "t.jsonl={\"text\": \"a\"}\\n{\\n",
                "metrics vendi DIR/t.jsonl --kernel ngram:2", "line 2: is not valid JSON"},
        BadCase{"HillNegative", "h.csv=1,2\\n3,-1\\n", "metrics hill DIR/h.csv",
                "DIR/h.csv: row 2: abundance 2 is -1"},
        BadCase{"HillNegativeInAColumn", "h.csv=4\\n-1\\n", "metrics hill DIR/h.csv",
                "DIR/h.csv: row 1: abundance 2 is -1"},
        BadCase{"InvisibleCharacter",
                "b.csv=1,2\\n3,\xE2\x80\x8B"
                "4\\n",
                "metrics vendi DIR/b.csv", "line 2, column 2: '\\u{200B}4' is not a number"},
        BadCase{"Utf16",
                "u.csv=\xFF\xFE"
                "1",
                "metrics vendi DIR/u.csv", "DIR/u.csv: is UTF-16 text"},
        BadCase{"CosineOfTinyRowsIsNoZeroVector", "t.csv=1e-200,0\\n0,1e-200\\n0,0\\n",
                "metrics vendi DIR/t.csv", "DIR/t.csv: row 3 is a zero vector"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace qdgen::metrics
