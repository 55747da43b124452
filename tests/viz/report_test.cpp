// The report folder (write_report) on real stores: index.html embeds every run, its elites and
// iterations as JSON that parses, references nothing outside the folder, and its shard files
// hold every elite and every stored ancestor; the folder rules (new, earlier report, foreign).
#include "qdgen/viz/report.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/report_page.hpp"
#include "scratch_directory.hpp"
#include "viz_stores.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"qdgen-data\">";
  const std::size_t begin = html.find(open);
  EXPECT_NE(begin, std::string::npos);
  const std::size_t end = html.find("</script>", begin);
  return json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

// Every candidate of a run's shard files, by id.
std::map<std::int64_t, json> shard_candidates(const fs::path& folder, const json& run) {
  std::map<std::int64_t, json> out;
  for (const json& shard : run["shards"]["present"]) {
    char name[16];
    std::snprintf(name, sizeof name, "%05d.js", shard.get<int>());
    const std::string text = read(folder / run["shards"]["dir"].get<std::string>() / name);
    const std::string head = "QDGEN_SHARD(\"" + run["run"]["id"].get<std::string>() + "\", " +
                             std::to_string(shard.get<int>()) + ", ";
    EXPECT_EQ(text.rfind(head, 0), 0u) << text.substr(0, 60);
    EXPECT_EQ(text.substr(text.size() - 3), ");\n");
    for (const json& c : json::parse(text.substr(head.size(), text.size() - head.size() - 3))) {
      // The page looks candidate c up in shard c.id / size.
      EXPECT_EQ(c["id"].get<std::int64_t>() / run["shards"]["size"].get<std::int64_t>(),
                shard.get<std::int64_t>());
      out[c["id"].get<std::int64_t>()] = c;
    }
  }
  return out;
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    grid_ = scratch_.path() / "grid.sqlite";
    cvt_ = scratch_.path() / "cvt.sqlite";
    qdgen_test::make_store(qdgen_test::sphere_config("grid", qdgen_test::grid_archive(), 8), grid_);
    qdgen_test::make_store(qdgen_test::sphere_config("cvt", qdgen_test::cvt_archive(), 4), cvt_);
  }
  qdgen::viz::ReportSummary report(const fs::path& folder, bool overwrite = false) {
    qdgen::viz::ReportOptions options;
    options.runs = {grid_, cvt_};
    options.folder = folder;
    options.overwrite = overwrite;
    options.shard_size = 16;  // several shards from a small run
    return qdgen::viz::write_report(options);
  }
  qdgen_test::ScratchDirectory scratch_;
  fs::path grid_, cvt_;
};

TEST_F(Report, EmbedsEveryRunAndItsElitesAndShardsTheirLineage) {
  const fs::path folder = scratch_.path() / "out";
  const auto summary = report(folder);
  for (const char* name :
       {"index.html", "archive.png", "archive.svg", "archive-1.png", "archive-1.svg", "curves.svg"})
    EXPECT_TRUE(fs::is_regular_file(folder / name)) << name;
  const std::string html = read(folder / "index.html");
  const json data = embedded_data(html);
  ASSERT_EQ(data["runs"].size(), 2u);
  EXPECT_EQ(data["generator"], "qdgen report");
  std::int64_t elites = 0, in_shards = 0, shards = 0;
  for (std::size_t r = 0; r < 2; ++r) {
    const json& run = data["runs"][r];
    const fs::path store = r == 0 ? grid_ : cvt_;
    EXPECT_EQ(run["run"]["file"], store.string());
    EXPECT_EQ(run["run"]["id"], std::to_string(r));
    const qdgen::store::RunReader reader(store);
    const auto stored = reader.elites();
    ASSERT_EQ(run["elites"]["elites"].size(), stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i)
      EXPECT_EQ(run["elites"]["elites"][i]["id"], stored[i].candidate.candidate.id);
    EXPECT_EQ(run["iterations"].size(), r == 0 ? 8u : 4u);
    // The shards: each elite and each of its stored ancestors, as the reader gives them.
    const auto candidates = shard_candidates(folder, run);
    std::set<std::int64_t> lineage;
    for (const auto& e : stored)
      for (const auto& a : reader.lineage(e.candidate.candidate.id))
        if (a.stored) lineage.insert(a.id);
    std::set<std::int64_t> shard_ids;
    for (const auto& [id, c] : candidates) shard_ids.insert(id);
    EXPECT_EQ(shard_ids, lineage);
    for (const auto& [id, c] : candidates) {
      EXPECT_EQ(c["solution"].size(), 4u);
      EXPECT_FALSE(c.contains("lineage"));
    }
    EXPECT_LT(candidates.size(), static_cast<std::size_t>(reader.candidate_count()))
        << "candidates outside every elite's lineage stay out";
    elites += static_cast<std::int64_t>(stored.size());
    in_shards += static_cast<std::int64_t>(candidates.size());
    shards += static_cast<std::int64_t>(run["shards"]["present"].size());
  }
  EXPECT_EQ(summary.elites, elites);
  EXPECT_EQ(summary.candidates, in_shards);
  EXPECT_EQ(summary.shard_files, shards);
  EXPECT_GT(shards, 2);
}

TEST_F(Report, ThePageReferencesNothingOutsideItsFolder) {
  const fs::path folder = scratch_.path() / "out";
  report(folder);
  const std::string html = read(folder / "index.html");
  // The only URL in the page is the SVG namespace name, which is never fetched.
  std::size_t urls = 0;
  for (std::size_t at = html.find("//"); at != std::string::npos; at = html.find("//", at + 1)) {
    // "//" also starts the script's comments; a URL is "//" right after "http:" or "https:"
    // or a quote (a scheme-relative URL).
    std::size_t start = std::string::npos;
    if (at >= 5 && html.compare(at - 5, 5, "http:") == 0) start = at - 5;
    if (at >= 6 && html.compare(at - 6, 6, "https:") == 0) start = at - 6;
    if (at >= 1 && (html[at - 1] == '"' || html[at - 1] == '\'')) start = at;
    if (start == std::string::npos) continue;
    ++urls;
    EXPECT_EQ(html.compare(start, 26, "http://www.w3.org/2000/svg"), 0) << html.substr(start, 80);
  }
  EXPECT_EQ(urls, 1u) << "the SVG namespace, once, in the script";
  for (const char* external :
       {"src=\"http", "href=\"http", "url(http", "@import", "<link", "src=\"//"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  // Style and script are inline: the page opens with no other file but the shards.
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("function staticSource"), std::string::npos);
  EXPECT_NE(html.find("<meta name=\"generator\" content=\"qdgen report\">"), std::string::npos);
  // The page's own files never close a script element early.
  const std::size_t script = html.find("@QDGEN");
  EXPECT_EQ(script, std::string::npos) << "every template mark is filled";
}

TEST_F(Report, ReplacesAnEarlierReportAndRefusesAForeignFolder) {
  const fs::path folder = scratch_.path() / "out";
  report(folder);
  // A stale shard of an earlier report goes; a user's own file stays.
  std::ofstream(folder / "candidates" / "0" / "09999.js") << "stale";
  std::ofstream(folder / "notes.txt") << "mine";
  report(folder);
  EXPECT_FALSE(fs::exists(folder / "candidates" / "0" / "09999.js"));
  EXPECT_EQ(read(folder / "notes.txt"), "mine");

  const fs::path foreign = scratch_.path() / "foreign";
  fs::create_directories(foreign);
  std::ofstream(foreign / "thesis.tex") << "x";
  try {
    report(foreign);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              foreign.string() +
                  ": not empty and not a qdgen report (no index.html written by qdgen report); "
                  "name a new or empty folder, or add --overwrite");
  }
  EXPECT_FALSE(fs::exists(foreign / "index.html"));
  report(foreign, true);
  EXPECT_TRUE(fs::exists(foreign / "index.html"));
  EXPECT_EQ(read(foreign / "thesis.tex"), "x");

  const fs::path file = scratch_.path() / "a-file";
  std::ofstream(file) << "x";
  try {
    report(file);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              file.string() + ": exists and is not a folder; the report is a folder of files");
  }
}

TEST(ReportPage, ScriptSafeJsonCannotEndItsScriptElement) {
  const json value = {{"text", "</script><script>alert(1)</script><!--"}};
  const std::string safe = qdgen::viz::script_safe_json(value);
  EXPECT_EQ(safe.find('<'), std::string::npos);
  EXPECT_EQ(json::parse(safe), value);
}

TEST(ReportPage, TheLivePageSetsTheApiAndEmbedsNoData) {
  const std::string html = qdgen::viz::live_page("live", "/api");
  EXPECT_NE(html.find("window.QDGEN_API = \"/api\";"), std::string::npos);
  EXPECT_NE(html.find("<script type=\"application/json\" id=\"qdgen-data\">null</script>"),
            std::string::npos);
  EXPECT_EQ(qdgen::viz::static_page("s", json::object()).find("QDGEN_API ="), std::string::npos);
}

TEST(ReportFolder, DefaultsToAFolderBesideTheFirstRun) {
  EXPECT_EQ(qdgen::viz::default_report_folder("runs/fortunes.sqlite"),
            fs::path("runs/fortunes-report"));
  EXPECT_EQ(qdgen::viz::default_report_folder("x.sqlite"), fs::path("x-report"));
}

}  // namespace
