// Reports of text runs on a tiny random Llama written here (as tests/apps/text_run_test.cpp
// does): a 1-D grid of non-uniform bins drawn to scale as a strip, texts and judge outputs in
// the page, and a 3-measure grid drawn as one panel per pair of measures.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "png_decode.hpp"
#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/figures.hpp"
#include "qdgen/viz/png_writer.hpp"
#include "qdgen/viz/report.hpp"
#include "qdgen/viz/run_json.hpp"
#include "qdgen/viz/svg_writer.hpp"
#include "random_llama.hpp"
#include "run_process.hpp"
#include "scratch_directory.hpp"
#include "svg_text.hpp"

#if QDGEN_TEST_WITH_TORCH

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
namespace viz = qdgen::viz;

const std::vector<double> kEdges = {0, .02, .05, .1, .2, .5, .8, .9, .95, .98, 1};

json label(const std::string& a, const std::string& b) {
  return {{"kind", "label"}, {"instruction", a + " or " + b + "?"}, {"labels", {" " + a, " " + b}}};
}

class TextReport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = qdgen::testing::tiny_llama_config();
    config.vocab_size = 32000;  // the Llama 2 tokenizer's
    config.max_position_embeddings = 512;
    model_ = qdgen::testing::write_random_llama(scratch_.path(), config, 5).hf_folder;
    fs::copy_file(fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json",
                  model_ / "tokenizer.json");
  }

  fs::path run(const std::string& name, const json& measures, const json& archive) {
    const json config = {
        {"name", name},
        {"domain",
         {{"kind", "text"},
          {"template", "Story:"},
          {"seeds", {"once upon a time", "the end came at last", "a dog ran home", "rain"}},
          {"generation", {{"max_tokens", 10}, {"stop", {"\n"}}}},
          {"init", {{"iterations", 1}, {"min_filled", 1}}},
          {"quality",
           {{"kind", "label"}, {"instruction", "Is it good?"}, {"labels", {" yes", " no"}}}},
          {"measures", measures},
          {"penalties", {{"min_words", 1}, {"max_words", 40}}}}},
        {"archive", archive},
        {"emitters",
         {{{"kind", "mutation"}, {"parents", 0}, {"batch", 6}, {"operators", {{"lmx_near", 1}}}}}},
        {"model", {{"threads", 1}}},
        {"iterations", 4},
        {"seed", 5}};
    const fs::path config_file = scratch_.write(name + ".json", config.dump());
    const fs::path store = scratch_.path() / (name + ".sqlite");
    const auto result = qdgen_test::qdgen("run " + config_file.string() + " --out " +
                                          store.string() + " --model " + model_.string());
    EXPECT_EQ(result.status, 0) << result.output;
    return store;
  }

  qdgen_test::ScratchDirectory scratch_;
  fs::path model_;
};

TEST_F(TextReport, AOneMeasureGridIsAStripOfCellsToScaleWithTextsAndJudges) {
  const fs::path store = run("strip", json::array({label("horror", "romance")}),
                             {{"type", "grid"}, {"dims", {{{"edges", kEdges}}}}});
  const qdgen::store::RunReader reader(store);
  const auto layout = viz::archive_layout(reader.info().config, store.string());
  const json run = viz::run_json(reader, layout, "0", store.string());
  const json elites = viz::elites_json(reader, layout);
  EXPECT_EQ(run["measure_names"], json({"horror ↔ romance"}));
  ASSERT_GE(elites["count"].get<int>(), 1);
  const viz::Canvas canvas = viz::archive_canvas(layout, run, elites);
  const auto png = qdgen_test::decode_png(viz::encode_png(viz::rasterize(canvas)));
  const viz::MapFrame f = viz::map_frame(layout);
  EXPECT_EQ(f.height, 56);
  const int row = static_cast<int>(f.top + f.height / 2);
  std::vector<viz::Rgb> expected(kEdges.size() - 1, viz::kEmptyColour);
  const double lo = elites["objective_range"][0], hi = elites["objective_range"][1];
  for (const json& e : elites["elites"])
    expected[e["index"][0].get<std::size_t>()] =
        viz::viridis(viz::colour_position(e["objective"], lo, hi));
  for (std::size_t i = 0; i + 1 < kEdges.size(); ++i) {
    const double x0 = f.left + f.width * kEdges[i], x1 = f.left + f.width * kEdges[i + 1];
    // The first and the last pixel column of each bin, to scale.
    EXPECT_EQ(png.at(static_cast<int>(std::ceil(x0 - 0.5)), row), expected[i]) << "bin " << i;
    EXPECT_EQ(png.at(static_cast<int>(std::ceil(x1 - 0.5)) - 1, row), expected[i]) << "bin " << i;
  }

  // The page: texts in the elites, judge outputs in the shard files.
  const fs::path folder = scratch_.path() / "report";
  viz::ReportOptions options;
  options.runs = {store};
  options.folder = folder;
  viz::write_report(options);
  std::ifstream in(folder / "index.html");
  const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  for (const auto& e : reader.elites()) {
    const std::string& text = std::get<std::string>(e.candidate.candidate.solution);
    EXPECT_NE(html.find(json(viz::solution_preview(text)).dump().substr(1, 20)), std::string::npos);
  }
  std::ifstream shard(folder / "candidates" / "0" / "00000.js");
  const std::string shards{std::istreambuf_iterator<char>(shard), std::istreambuf_iterator<char>()};
  EXPECT_NE(shards.find("\"judge\":{"), std::string::npos);
  EXPECT_NE(shards.find("\"text\":"), std::string::npos);
}

TEST_F(TextReport, ThreeMeasuresGiveOnePanelPerPair) {
  const json dim = {{"range", {0, 1}}, {"cells", 4}};
  const fs::path store = run(
      "cube", json::array({label("horror", "romance"), label("old", "new"), label("sad", "happy")}),
      {{"type", "grid"}, {"dims", {dim, dim, dim}}});
  const qdgen::store::RunReader reader(store);
  const auto layout = viz::archive_layout(reader.info().config, store.string());
  const json elites = viz::elites_json(reader, layout);
  const std::string svg = viz::to_svg(
      viz::archive_canvas(layout, viz::run_json(reader, layout, "0", store.string()), elites));
  EXPECT_EQ(qdgen_test::occurrences(svg, "class=\"frame\""), 3u);
  EXPECT_GE(qdgen_test::occurrences(svg, "class=\"projection\""), 3u);
  for (const char* name : {"horror ↔ romance", "old ↔ new", "sad ↔ happy"})
    EXPECT_NE(svg.find(name), std::string::npos) << name;
}

}  // namespace

#endif
