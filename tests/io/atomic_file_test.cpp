// io::AtomicFileWriter: a file appears whole or not at all, with the umask's permissions;
// devices are streams; a write that fails names the file and the reason.
#include "qdgen/io/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using qdgen::io::AtomicFileWriter;
using qdgen_test::ScratchDirectory;

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_mode & 0777;
}

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Sets the umask for one test and puts the old one back.
class Umask {
 public:
  explicit Umask(mode_t mask) : previous_(::umask(mask)) {}
  ~Umask() { ::umask(previous_); }

 private:
  mode_t previous_;
};

std::size_t entries_in(const fs::path& folder) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++n;
  return n;
}

TEST(AtomicFileWriter, ReplacesTheFileOnlyOnCommit) {
  ScratchDirectory dir;
  const fs::path file = dir.write("out.csv", "old contents");
  {
    AtomicFileWriter writer(file);
    writer.write("new");
    writer.stream() << " contents " << 42;
    EXPECT_EQ(dir.read(file), "old contents");  // nothing visible before commit
    writer.commit();
  }
  EXPECT_EQ(dir.read(file), "new contents 42");
  {
    AtomicFileWriter abandoned(file);
    abandoned.write("half of a file");
  }  // an error before commit: the old file stays, the temporary file goes
  EXPECT_EQ(dir.read(file), "new contents 42");
  EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(AtomicFileWriter, NewFilesHonourTheUmaskAndReplacedFilesKeepTheirMode) {
  ScratchDirectory dir;
  for (const auto& [mask, expected] :
       {std::pair<mode_t, unsigned>{022, 0644}, {027, 0640}, {077, 0600}, {002, 0664}}) {
    const Umask umask(mask);
    const fs::path file = dir.path() / ("new-" + std::to_string(mask));
    AtomicFileWriter writer(file);
    writer.write("x");
    writer.commit();
    EXPECT_EQ(mode_of(file), expected) << "umask " << mask;
  }
  const Umask umask(022);
  const fs::path secret = dir.write("secret", "old");
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  AtomicFileWriter writer(secret);
  writer.write("new");
  writer.commit();
  EXPECT_EQ(mode_of(secret), 0600u);
}

TEST(AtomicFileWriter, FollowsASymlinkAndKeepsIt) {
  ScratchDirectory dir;
  const fs::path target = dir.write("target.txt", "old");
  const fs::path link = dir.path() / "link.txt";
  fs::create_symlink(target, link);
  AtomicFileWriter writer(link);
  writer.write("new");
  writer.commit();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(dir.read(target), "new");
}

TEST(AtomicFileWriter, RefusesFoldersAndMissingFoldersWithTheirName) {
  ScratchDirectory dir;
  EXPECT_EQ(error_of([&] { AtomicFileWriter writer(dir.path()); }),
            dir.path().string() + ": is a folder (expected a file to write)");
  const fs::path nowhere = dir.path() / "no" / "out.csv";
  EXPECT_EQ(
      error_of([&] { AtomicFileWriter writer(nowhere); }),
      nowhere.string() + ": cannot create it (no folder " + (dir.path() / "no").string() + ")");
}

TEST(AtomicFileWriter, WritesDevicesDirectlyAndReportsAFullDevice) {
  {
    AtomicFileWriter null("/dev/null");
    null.write("discarded");
    null.commit();
  }
  EXPECT_TRUE(fs::is_character_file("/dev/null"));  // written to, never replaced
  AtomicFileWriter full("/dev/full");
  full.write("a line\n");
  EXPECT_EQ(error_of([&] { full.commit(); }), "/dev/full: cannot write (No space left on device)");
  EXPECT_TRUE(fs::is_character_file("/dev/full"));
}

TEST(AtomicFileWriter, LargeWritesFailAsTheyHappen) {
  AtomicFileWriter full("/dev/full");
  const std::string block(1 << 20, 'x');
  EXPECT_EQ(error_of([&] { full.write(block); }),
            "/dev/full: cannot write (No space left on device)");
}

}  // namespace
