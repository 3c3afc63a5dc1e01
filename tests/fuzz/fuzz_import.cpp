// libFuzzer harness: the JSON Lines import (engine/transfer.cpp) into a
// real SQLite store, with the built-in workflows.
//
// Each input is imported twice: as it is, and with its event lines
// re-chained (seq, prev_hash and hash made right), so that mutations get
// past the hash chain to the checks behind it.
//
// Properties: a file is imported or refused as `invalid` (never `internal`:
// that would be a check missing before a write the database refuses);
// what is imported passes `audit verify`, and its export imports again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "engine/audit.h"
#include "engine/json_limits.h"
#include "engine/transfer.h"
#include "storage/sqlite_store.h"
#include "tests/fuzz/fuzz_env.h"
#include "workflows/registry.h"

using namespace plaint;
using engine::json;

namespace {

std::unique_ptr<storage::sqlite_store> fresh_store(const std::string& path) {
  fuzz::scratch_dir::remove_db(path);
  auto s = storage::sqlite_store::open(path);
  if (!s || !(*s)->migrate()) std::abort();
  return std::move(*s);
}

struct environment {
  fuzz::scratch_dir dir;
  std::unique_ptr<storage::sqlite_store> store = fresh_store(dir.file("import.db"));

  void import(const std::string& text) {
    std::istringstream in(text);
    auto n = engine::import_jsonl(*store, workflows::builtin_workflows(), in);
    if (!n) {
      if (n.error().code != engine::errc::invalid) std::abort();
      return;  // rolled back: the database is still empty
    }
    auto report = engine::verify_audit(*store);
    if (!report || !report->ok) std::abort();
    std::stringstream exported;
    if (!engine::export_jsonl(*store, exported)) std::abort();
    store.reset();
    {
      auto again = fresh_store(dir.file("again.db"));
      if (!engine::import_jsonl(*again, workflows::builtin_workflows(), exported)) std::abort();
    }
    store = fresh_store(dir.file("import.db"));
  }
};

// `text` with every event line given the next seq and a correct chain.
std::string rechained(std::string_view text) {
  std::string out, prev = engine::genesis_hash;
  std::int64_t seq = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    json j;
    if (engine::check_json_depth("line", line)) j = json::parse(line, nullptr, false);
    auto type = j.is_object() ? j.find("type") : j.end();
    if (j.is_object() && type != j.end() && *type == "event") {
      j["seq"] = ++seq;
      j["prev_hash"] = prev;
      if (auto e = engine::event_from_record(j)) {
        prev = engine::audit_hash(prev, *e);
        j["hash"] = prev;
        out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        continue;
      }
    }
    out.append(line.data(), line.size()).push_back('\n');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static environment env;
  const std::string text(reinterpret_cast<const char*>(data), size);
  env.import(text);
  env.import(rechained(text));
  return 0;
}
