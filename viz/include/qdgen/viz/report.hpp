#pragma once
// `qdgen report`: a folder that shows one or more runs with nothing but a browser:
//   index.html      the page (report_page.hpp) with every run, its elites and iterations inline
//   archive.png     the first run's archive map (figures.hpp), archive.svg the same as SVG;
//                   further runs get archive-1.png/.svg, archive-2..., in the order given
//   curves.svg      every run's curves overlaid
//   candidates/<run>/<shard>.js   the details of every elite and of its stored ancestors (the
//                   lineage the page walks), loaded by the page on demand
// Each file is written whole or not at all (io::AtomicFileWriter), index.html last. The folder
// may be new (it is created), empty, or hold an earlier qdgen report (its files are replaced,
// stale shard files removed); any other non-empty folder is refused unless `overwrite`, which
// writes the report's files into it and leaves everything else there alone.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qdgen::viz {

struct ReportOptions {
  std::vector<std::filesystem::path> runs;
  std::filesystem::path folder;
  bool overwrite = false;
  std::int64_t shard_size = 500;  // candidates (by id) per shard file
};

struct ReportFile {
  std::filesystem::path path;
  std::uintmax_t bytes = 0;
};

struct ReportSummary {
  std::vector<ReportFile> files;  // in the order written, shards summed into one entry
  std::int64_t elites = 0;        // over all runs
  std::int64_t candidates = 0;    // in shard files
  std::int64_t shard_files = 0;
  double seconds = 0;
};

// The default folder: beside the first run, named after it (runs/x.sqlite -> runs/x-report).
std::filesystem::path default_report_folder(const std::filesystem::path& first_run);

// Throws std::runtime_error, one line naming the file or folder at fault.
ReportSummary write_report(const ReportOptions& options);

}  // namespace qdgen::viz
