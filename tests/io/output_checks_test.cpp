// An output is never one of its inputs, however it is spelled; a failed write says why.
#include "qdgen/io/output_checks.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "qdgen/io/fd_output.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using qdgen_test::ScratchDirectory;

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(SameFile, SeesThroughSymlinksHardLinksAndSpellings) {
  ScratchDirectory dir;
  const fs::path run = dir.write("run.sqlite", "x");
  fs::create_symlink(run, dir.path() / "link.sqlite");
  fs::create_hard_link(run, dir.path() / "hard.sqlite");
  fs::create_directories(dir.path() / "sub");
  for (const fs::path& other : {dir.path() / "link.sqlite", dir.path() / "hard.sqlite",
                                dir.path() / "sub/../run.sqlite", dir.path() / "./run.sqlite"})
    EXPECT_TRUE(qdgen::io::same_file(run, other)) << other;
  EXPECT_FALSE(qdgen::io::same_file(run, dir.path() / "other.sqlite"));
  EXPECT_TRUE(qdgen::io::same_file(dir.path() / "new.csv", dir.path() / "sub/../new.csv"));
}

TEST(RefuseOutputOverInput, NamesBothWhenSpelledDifferently) {
  ScratchDirectory dir;
  const fs::path run = dir.write("run.sqlite", "x");
  const fs::path link = dir.path() / "link.sqlite";
  fs::create_symlink(run, link);
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_output_over_input(run, run); }),
            run.string() + ": is also the input; write the output to another file");
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_output_over_input(link, run); }),
            link.string() + ": is also the input (" + run.string() +
                "); write the output to another file");
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_output_over_input(dir.path() / "out.csv", run); }),
            "");
}

TEST(RefuseFolderOverInput, RefusesAFolderThatHoldsTheInput) {
  ScratchDirectory dir;
  fs::create_directories(dir.path() / "models/base");
  const fs::path base = dir.path() / "models/base";
  EXPECT_NE(error_of([&] { qdgen::io::refuse_folder_over_input(base, base); }), "");
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_folder_over_input(dir.path() / "models", base); }),
            (dir.path() / "models").string() + ": holds the input " + base.string() +
                "; write the output to another folder");
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_folder_over_input(dir.path() / "merged", base); }),
            "");
  EXPECT_EQ(error_of([&] { qdgen::io::refuse_folder_over_input(base / "merged", base); }), "");
}

TEST(CheckWritten, ReportsTheReasonTheBufferKept) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    qdgen::io::FdOutputBuffer buffer(fd, 16);
    std::ostream out(&buffer);
    out << "more than sixteen bytes of output";
    errno = 0;  // whatever happened since, the buffer remembers
    EXPECT_EQ(error_of([&] { qdgen::io::check_written(out, "standard output"); }),
              "cannot write standard output (No space left on device)");
  }
  ::close(fd);
}

}  // namespace
