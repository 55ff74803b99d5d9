// Every file in malformed/ is a broken graph that states, in its leading comment lines, the
// diagnostics the loader must produce: "# expect: LINE:COL: substring of the message". The
// loader must report exactly those, no more, in source order.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "graph/loader.hpp"

namespace sg {
namespace {

namespace fs = std::filesystem;

struct expectation {
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
};

const fs::path malformed_dir = fs::path(SG_GRAPH_TEST_DIR) / "malformed";

std::vector<std::string> malformed_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(malformed_dir))
    if (e.path().extension() == ".yaml")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// The "# expect:" lines of the leading comment block.
std::vector<expectation> read_expectations(const std::string& path) {
  static const std::regex expect_line(R"(^# expect: (\d+):(\d+): (.+)$)");
  std::vector<expectation> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && line.starts_with("#")) {
    std::smatch m;
    if (std::regex_match(line, m, expect_line))
      out.push_back({static_cast<uint32_t>(std::stoul(m[1])),
                     static_cast<uint32_t>(std::stoul(m[2])), m[3]});
  }
  return out;
}

std::string all_diagnostics(const graph_load_result& r) {
  std::string s;
  for (const auto& d : r.errors)
    s += "  " + format_diagnostic(d) + "\n";
  return s;
}

class malformed_graph : public ::testing::TestWithParam<std::string> {};

TEST_P(malformed_graph, reports_exactly_the_expected_errors) {
  const auto expected = read_expectations(GetParam());
  ASSERT_FALSE(expected.empty()) << GetParam() << " has no '# expect: LINE:COL: text' line";
  const auto result = load_graph_file(GetParam());
  ASSERT_EQ(result.errors.size(), expected.size()) << "got:\n" << all_diagnostics(result);
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& d = result.errors[i];
    SCOPED_TRACE("expectation " + std::to_string(i + 1) + ": " + expected[i].message);
    EXPECT_EQ(d.file(), GetParam());
    EXPECT_EQ(d.line(), expected[i].line) << all_diagnostics(result);
    EXPECT_EQ(d.column(), expected[i].column) << all_diagnostics(result);
    EXPECT_NE(d.message().find(expected[i].message), std::string::npos)
      << "message: " << d.message();
  }
}

INSTANTIATE_TEST_SUITE_P(files, malformed_graph, ::testing::ValuesIn(malformed_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           auto name = fs::path(info.param).stem().string();
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

TEST(malformed_folder, holds_enough_well_named_cases) {
  static const std::regex name(R"(^\d\d-[a-z0-9-]+\.yaml$)");
  const auto files = malformed_files();
  EXPECT_GE(files.size(), 24u);
  for (const auto& f : files)
    EXPECT_TRUE(std::regex_match(fs::path(f).filename().string(), name)) << f;
}

TEST(malformed_folder, some_case_reports_three_independent_errors_together) {
  size_t most = 0;
  for (const auto& f : malformed_files())
    most = std::max(most, load_graph_file(f).errors.size());
  EXPECT_GE(most, 3u);
}

} // namespace
} // namespace sg
