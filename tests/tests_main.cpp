// The test executables' main: doctest's own, plus one rule. CTest runs each
// test case alone, by name (doctest_discover_tests). A run whose filter
// matches no test case fails here instead of passing with nothing run: a
// name CTest cannot carry (a semicolon splits it in two, as a CMake list)
// would otherwise never run while CTest counts it as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

namespace {

unsigned matched_test_cases = 0;

struct match_counter : doctest::IReporter {
  explicit match_counter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    matched_test_cases = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

DOCTEST_REGISTER_LISTENER("match_counter", 1, match_counter);

bool filtered_by_name(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--test-case=", 0) == 0 || arg.rfind("-tc=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;  // --help, --list-test-cases and the like
  if (result == 0 && matched_test_cases == 0 && filtered_by_name(argc, argv)) {
    std::fprintf(stderr, "no test case matches the name given; a name with a semicolon cannot pass through CTest\n");
    return 1;
  }
  return result;
}
