// The engine includes nothing from the other folders (STYLE §1), and only
// workflows/*.cpp may see Boost.MSM.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {
std::vector<std::string> includes_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("#include", 0) == 0) out.push_back(entry.path().filename().string() + ": " + line);
  }
  return out;
}
}  // namespace

TEST_CASE("the engine includes nothing from cli, server, storage or workflows") {
  const auto includes = includes_in(fs::path(PLAINT_SOURCE_DIR) / "engine");
  CHECK(!includes.empty());
  for (const auto& inc : includes)
    for (const char* banned : {"\"cli/", "\"server/", "\"storage/", "\"workflows/", "sqlite3.h", "msm/"})
      CHECK_MESSAGE(inc.find(banned) == std::string::npos, inc);
}

TEST_CASE("Boost.MSM is included only inside workflows") {
  for (const char* dir : {"engine", "storage", "cli"})
    for (const auto& inc : includes_in(fs::path(PLAINT_SOURCE_DIR) / dir))
      CHECK_MESSAGE(inc.find("boost/msm") == std::string::npos, inc);
  for (const auto& entry : fs::directory_iterator(fs::path(PLAINT_SOURCE_DIR) / "workflows")) {
    if (entry.path().extension() != ".h" || entry.path().filename() == "machine.h") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_MESSAGE(text.find("boost/msm") == std::string::npos, entry.path().string());
  }
}
