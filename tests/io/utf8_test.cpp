// The one UTF-8 rule (qdgen/io/utf8.hpp): valid text passes through untouched, each maximal
// invalid subpart becomes one U+FFFD (WHATWG), and JSON built from such text never aborts.
#include "qdgen/io/utf8.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "qdgen/io/json_text.hpp"

namespace {

using qdgen::io::is_valid_utf8;
using qdgen::io::valid_utf8;

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(ValidUtf8, LeavesValidTextAsItIs) {
  for (const std::string text : {"", "plain ascii, longer than eight bytes", "caf\xC3\xA9",
                                 "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD"}) {
    EXPECT_TRUE(is_valid_utf8(text)) << text;
    EXPECT_EQ(valid_utf8(text), text);
  }
}

TEST(ValidUtf8, ReplacesEachMaximalInvalidSubpartWithOneReplacementCharacter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xFF", kReplacement},
      {"ab\xFF", "ab" + kReplacement},
      {"Once upon\xE2", "Once upon" + kReplacement},                 // a character cut short
      {"\xE2\x82", kReplacement},                                    // two bytes of three
      {"\xE2\xE2\x82\xAC", kReplacement + "\xE2\x82\xAC"},           // then a whole one
      {"\xF0\x9F\x98", kReplacement},                                // three bytes of four
      {"\xC0\x80", kReplacement + kReplacement},                     // overlong: no lead
      {"\xED\xA0\x80", kReplacement + kReplacement + kReplacement},  // a surrogate
      {"\x80\x80", kReplacement + kReplacement},                     // lone continuations
      {"12345678\xF4\x90\x80\x80",
       "12345678" + kReplacement + kReplacement + kReplacement + kReplacement}};  // beyond U+10FFFF
  for (const auto& [text, expected] : cases) {
    EXPECT_FALSE(is_valid_utf8(text));
    EXPECT_EQ(valid_utf8(text), expected) << text;
    EXPECT_TRUE(is_valid_utf8(valid_utf8(text)));
  }
}

TEST(DumpJson, RepairsStringsAndKeysWhereAStrictDumpThrows) {
  nlohmann::json value = {
      {"text", "ok\xFF"}, {"list", {"\xE2\x82", 1, nullptr}}, {"k\xC3", {{"inner", "fine"}}}};
  EXPECT_THROW(value.dump(), nlohmann::json::type_error);
  const std::string dumped = qdgen::io::dump_json(value);
  const nlohmann::json back = nlohmann::json::parse(dumped);
  EXPECT_EQ(back["text"], "ok" + kReplacement);
  EXPECT_EQ(back["list"][0], kReplacement);
  EXPECT_EQ(back["list"][1], 1);
  EXPECT_EQ(back["k" + kReplacement]["inner"], "fine");
  // Valid values are dumped exactly as nlohmann dumps them.
  const nlohmann::json valid = {{"a", 1.5}, {"b", "caf\xC3\xA9"}};
  EXPECT_EQ(qdgen::io::dump_json(valid), valid.dump());
  EXPECT_EQ(qdgen::io::dump_json(valid, 2), valid.dump(2));
}

TEST(ParseJson, ReadsTextWhoseStringsAreNotUtf8) {
  const auto strict = [](const char* text) { return nlohmann::json::parse(text); };
  EXPECT_THROW(strict("{\"a\": \"x\xFF\"}"), nlohmann::json::parse_error);
  EXPECT_EQ(qdgen::io::parse_json("{\"a\": \"x\xFF\"}")["a"], "x" + kReplacement);
  EXPECT_THROW(qdgen::io::parse_json("{\"a\": "), nlohmann::json::parse_error);
}

}  // namespace
