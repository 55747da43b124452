#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "qdgen/metrics/io.hpp"
#include "scratch_directory.hpp"

namespace qdgen::metrics {
namespace {

using qdgen_test::ScratchDirectory;

// An NPY file laid out as numpy.save writes it: version 1.0, the header dict padded with
// spaces and a newline so that the data starts at a multiple of 64 bytes.
template <typename Float>
std::string npy_bytes(const std::string& descr, const std::string& shape, bool fortran_order,
                      const std::vector<Float>& values, int major = 1) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(major);
  bytes += '\0';
  const std::size_t length = header.size();
  bytes += static_cast<char>(length & 0xff);
  bytes += static_cast<char>((length >> 8) & 0xff);
  if (major != 1) bytes += std::string(2, '\0');
  bytes += header;
  std::string data(values.size() * sizeof(Float), '\0');
  std::memcpy(data.data(), values.data(), data.size());
  return bytes + data;
}

void expect_error(const std::function<void()>& call, const std::string& fragment) {
  try {
    call();
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(ReadCsv, RowsWithAnOptionalHeaderBlankLinesAndCrlf) {
  ScratchDirectory dir;
  Eigen::MatrixXd expected(3, 2);
  expected << 1, 2.5, -3e-2, 4, 5, +6;
  EXPECT_EQ(read_csv_matrix(dir.write("a.csv", "1,2.5\n-3e-2, 4\n\n5,+6\n")), expected);
  EXPECT_EQ(read_csv_matrix(dir.write("b.csv", "x,y\r\n1,2.5\r\n-3e-2,4\r\n5,6")), expected);
  EXPECT_EQ(read_matrix(dir.write("c.txt", "1,2.5\n-0.03,4\n5,6\n")), expected);
}

TEST(ReadCsv, BadFilesNameTheFileAndPlace) {
  ScratchDirectory dir;
  expect_error([&] { read_csv_matrix(dir.path() / "missing.csv"); },
               "missing.csv: cannot open (No such file or directory)");
  expect_error([&] { read_csv_matrix(dir.path()); }, "is a directory; expected a file");
  expect_error([&] { read_csv_matrix(dir.write("ragged.csv", "1,2\n3,4,5\n")); },
               "ragged.csv: line 2 has 3 cells; expected 2");
  expect_error([&] { read_csv_matrix(dir.write("text.csv", "a,b\n1,2\n3,x\n")); },
               "text.csv: line 3, column 2: 'x' is not a number");
  expect_error([&] { read_csv_matrix(dir.write("nan.csv", "1,nan\n")); },
               "nan.csv: line 1, column 2: 'nan' is not finite");
  expect_error([&] { read_csv_matrix(dir.write("inf.csv", "1,2\n-inf,2\n")); },
               "line 2, column 1: '-inf' is not finite");
  expect_error([&] { read_csv_matrix(dir.write("empty.csv", "")); }, "empty.csv: has no rows");
  expect_error([&] { read_csv_matrix(dir.write("header.csv", "a,b\n")); }, "has no rows");
  expect_error([&] { read_csv_matrix(dir.write("gap.csv", "1,,2\n")); },
               "line 1, column 2: '' is not a number");
}

TEST(ReadNpy, Float64AndFloat32InBothOrders) {
  ScratchDirectory dir;
  Eigen::MatrixXd expected(2, 3);
  expected << 1, 2, 3, 4, 5, 6.5;
  const std::vector<double> c_order{1, 2, 3, 4, 5, 6.5};
  const std::vector<double> f_order{1, 4, 2, 5, 3, 6.5};
  EXPECT_EQ(read_npy_matrix(dir.write("c.npy", npy_bytes("<f8", "(2, 3)", false, c_order))),
            expected);
  EXPECT_EQ(read_npy_matrix(dir.write("f.npy", npy_bytes("<f8", "(2, 3)", true, f_order))),
            expected);
  const std::vector<float> c_float{1, 2, 3, 4, 5, 6.5f};
  EXPECT_EQ(read_matrix(dir.write("c32.npy", npy_bytes("<f4", "(2, 3)", false, c_float))),
            expected);
  EXPECT_EQ(read_npy_matrix(dir.write("v2.npy", npy_bytes("<f8", "(2, 3)", false, c_order, 2))),
            expected);
  const Eigen::MatrixXd row =
      read_npy_matrix(dir.write("1d.npy", npy_bytes("<f8", "(6,)", false, c_order)));
  EXPECT_EQ(row.rows(), 1);
  EXPECT_EQ(row.cols(), 6);
  EXPECT_EQ(read_vector(dir.path() / "1d.npy"), c_order);
}

TEST(ReadNpy, BadFilesSayWhatIsWrong) {
  ScratchDirectory dir;
  const std::vector<double> six(6, 1.0);
  expect_error([&] { read_npy_matrix(dir.write("text.npy", "1,2,3\n4,5,6\n")); },
               "text.npy: is not an NPY file");
  expect_error(
      [&] { read_npy_matrix(dir.write("i8.npy", npy_bytes("<i8", "(2, 3)", false, six))); },
      "NPY dtype '<i8' is not supported; expected float32 or float64");
  expect_error(
      [&] { read_npy_matrix(dir.write("be.npy", npy_bytes(">f8", "(2, 3)", false, six))); },
      "dtype '>f8'");
  expect_error(
      [&] { read_npy_matrix(dir.write("3d.npy", npy_bytes("<f8", "(1, 2, 3)", false, six))); },
      "NPY array has 3 dimensions");
  expect_error(
      [&] { read_npy_matrix(dir.write("short.npy", npy_bytes("<f8", "(3, 3)", false, six))); },
      "NPY data is 48 bytes; expected 72");
  expect_error(
      [&] { read_npy_matrix(dir.write("zero.npy", npy_bytes("<f8", "(0, 3)", false, six))); },
      "NPY array is empty");
  expect_error(
      [&] {
        read_npy_matrix(
            dir.write("huge.npy", npy_bytes("<f8", "(4000000000000, 5000000000000)", false, six)));
      },
      "is larger than the file");
  std::vector<double> with_nan = six;
  with_nan[4] = std::nan("");
  expect_error(
      [&] { read_npy_matrix(dir.write("nan.npy", npy_bytes("<f8", "(2, 3)", false, with_nan))); },
      "element (2, 2) is not finite");
  std::string truncated = npy_bytes("<f8", "(2, 3)", false, six).substr(0, 40);
  expect_error([&] { read_npy_matrix(dir.write("cut.npy", truncated)); },
               "NPY header is truncated");
  expect_error([&] { read_npy_matrix(dir.path() / "none.npy"); }, "none.npy: cannot open");
}

TEST(ReadJsonl, TextsOnePerLine) {
  ScratchDirectory dir;
  const std::vector<std::string> texts = read_jsonl_texts(
      dir.write("t.jsonl", "{\"text\": \"a b\", \"id\": 1}\n\n{\"text\": \"caf\\u00e9\"}\r\n"));
  EXPECT_EQ(texts, (std::vector<std::string>{"a b", "café"}));
}

TEST(ReadJsonl, BadFilesNameTheLine) {
  ScratchDirectory dir;
  expect_error([&] { read_jsonl_texts(dir.write("bad.jsonl", "{\"text\": \"a\"}\n{oops\n")); },
               "bad.jsonl: line 2: is not valid JSON");
  expect_error([&] { read_jsonl_texts(dir.write("field.jsonl", "{\"body\": \"a\"}\n")); },
               "line 1: expected an object with a string field \"text\"");
  expect_error([&] { read_jsonl_texts(dir.write("num.jsonl", "{\"text\": 3}\n")); },
               "string field \"text\"");
  expect_error([&] { read_jsonl_texts(dir.write("none.jsonl", "\n\n")); }, "has no texts");
}

TEST(ReadVector, OneRowOrOneColumn) {
  ScratchDirectory dir;
  EXPECT_EQ(read_vector(dir.write("row.csv", "0.25,0.75\n")), (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(read_vector(dir.write("col.csv", "w\n0.25\n0.75\n")),
            (std::vector<double>{0.25, 0.75}));
  expect_error([&] { read_vector(dir.write("m.csv", "1,2\n3,4\n")); },
               "m.csv: is 2 x 2; expected one row or one column");
}

// Hill files as users write them: one count per line is one vector.
TEST(ReadVectors, OneColumnOrOneRowIsOneVectorManyRowsAreOneEach) {
  ScratchDirectory dir;
  const std::vector<double> four{25, 25, 25, 25};
  EXPECT_EQ(read_vectors(dir.write("column.csv", "25\n25\n25\n25\n")),
            std::vector<std::vector<double>>{four});
  EXPECT_EQ(read_vectors(dir.write("row.csv", "25,25,25,25\n")),
            std::vector<std::vector<double>>{four});
  EXPECT_EQ(read_vectors(dir.write("rows.csv", "2,1,1\n5,5,0\n")),
            (std::vector<std::vector<double>>{{2, 1, 1}, {5, 5, 0}}));
  EXPECT_EQ(read_vectors(dir.write("one.csv", "7\n")), std::vector<std::vector<double>>{{7}});
  const std::vector<double> c_order{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(read_vectors(dir.write("m.npy", npy_bytes("<f8", "(3, 2)", false, c_order))),
            (std::vector<std::vector<double>>{{1, 2}, {3, 4}, {5, 6}}));
  EXPECT_EQ(read_vectors(dir.write("c.npy", npy_bytes("<f8", "(6, 1)", false, c_order))),
            std::vector<std::vector<double>>{c_order});
}

TEST(ReadCsv, AByteOrderMarkBeforeTheFirstLineIsSkipped) {
  ScratchDirectory dir;
  Eigen::MatrixXd expected(2, 2);
  expected << 1, 2, 3, 4;
  EXPECT_EQ(read_csv_matrix(dir.write("bom.csv",
                                      "\xEF\xBB\xBF"
                                      "1,2\n3,4\n")),
            expected);
  EXPECT_EQ(read_csv_matrix(dir.write("bom_header.csv",
                                      "\xEF\xBB\xBF"
                                      "x,y\n1,2\n3,4\n")),
            expected);
  EXPECT_EQ(read_jsonl_texts(dir.write("bom.jsonl", "\xEF\xBB\xBF{\"text\": \"a\"}\n")),
            std::vector<std::string>{"a"});
  expect_error(
      [&] {
        read_csv_matrix(dir.write("utf16.csv", std::string("\xFF\xFE"
                                                           "1\0,\0",
                                                           6)));
      },
      "utf16.csv: is UTF-16 text");
}

// Messages show every byte of the cell at fault: a NUL no longer ends the message, a
// byte-order mark in the middle of a file no longer hides.
TEST(ReadCsv, CellsInMessagesShowInvisibleAndControlCharacters) {
  ScratchDirectory dir;
  expect_error(
      [&] {
        read_csv_matrix(dir.write("mid_bom.csv",
                                  "1,2\n\xEF\xBB\xBF"
                                  "3,4\n"));
      },
      "line 2, column 1: '\\u{FEFF}3' is not a number");
  const std::string with_nul("1,2\n3,4\0x\n", 10);
  try {
    read_csv_matrix(dir.write("nul.csv", with_nul));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\0'), std::string::npos) << message;
    EXPECT_NE(message.find("line 2, column 2: '4\\x00x' is not a number"), std::string::npos)
        << message;
    EXPECT_EQ(std::strlen(e.what()), message.size()) << "the C string is the whole message";
  }
  expect_error([&] { read_csv_matrix(dir.write("tab.csv", "1,2\n3,4\x01\n")); }, "'4\\x01'");
  expect_error([&] { read_csv_matrix(dir.write("latin1.csv", "1,2\n3,\xE9\n")); }, "'\\xE9'");
  expect_error([&] { read_csv_matrix(dir.write("utf8.csv", "1,2\n3,caf\xC3\xA9\n")); },
               "'caf\xC3\xA9' is not a number");
  expect_error(
      [&] { read_csv_matrix(dir.write("long.csv", "1\n" + std::string(200, 'x') + "\n")); },
      "'" + std::string(60, 'x') + "...' is not a number");
  expect_error(
      [&] {
        read_npy_matrix(dir.write("nul.npy", npy_bytes(std::string("<f8\0", 4), "(1, 1)", false,
                                                       std::vector<double>{1})));
      },
      "NPY dtype '<f8\\x00' is not supported");
}

// MatrixFile maps an NPY file and reads it in place; the view sees the stored layout.
TEST(MatrixFile, ViewsNpyInPlaceAndCsvAsParsed) {
  ScratchDirectory dir;
  Eigen::MatrixXd expected(2, 3);
  expected << 1, 2, 3, 4, 5, 6.5;
  const std::vector<double> c_order{1, 2, 3, 4, 5, 6.5};
  const std::vector<double> f_order{1, 4, 2, 5, 3, 6.5};
  const std::vector<float> c_float{1, 2, 3, 4, 5, 6.5f};
  const MatrixFile c(dir.write("c.npy", npy_bytes("<f8", "(2, 3)", false, c_order)));
  const MatrixFile f(dir.write("f.npy", npy_bytes("<f8", "(2, 3)", true, f_order)));
  const MatrixFile c32(dir.write("c32.npy", npy_bytes("<f4", "(2, 3)", false, c_float)));
  const MatrixFile csv(dir.write("m.csv", "a,b,c\n1,2,3\n4,5,6.5\n"));
  EXPECT_TRUE(c.view().row_major);
  EXPECT_FALSE(f.view().row_major);
  EXPECT_EQ(c32.view().type, ScalarType::float32);
  for (const MatrixFile* file : {&c, &f, &c32, &csv}) {
    EXPECT_EQ(file->view().rows, 2);
    EXPECT_EQ(file->view().cols, 3);
    EXPECT_EQ(to_matrix(file->view()), expected);
    EXPECT_EQ(file->view().at(1, 2), 6.5);
  }
  expect_error(
      [&] { MatrixFile(dir.write("short.npy", npy_bytes("<f8", "(3, 3)", false, c_order))); },
      "short.npy: NPY data is 48 bytes; expected 72");
  expect_error([&] { MatrixFile(dir.path() / "none.npy"); }, "none.npy: cannot open");
  expect_error([&] { MatrixFile(dir.path()); }, "is a directory; expected a file");
}

// Pipes cannot be mapped; they are read instead.
TEST(MatrixFile, ReadsFromAPipe) {
  ScratchDirectory dir;
  const std::filesystem::path fifo = dir.path() / "pipe.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo) << "1,2\n3,4\n"; });
  const MatrixFile file(fifo);
  writer.join();
  EXPECT_EQ(file.view().rows, 2);
  EXPECT_EQ(file.view().at(1, 0), 3);
}

}  // namespace
}  // namespace qdgen::metrics
