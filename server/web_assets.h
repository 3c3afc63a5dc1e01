// The web desk's static files: compiled in (server/web/ at build time), or
// read from a directory (`plaint serve --web-dir`, for working on them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plaint::server {

struct web_file {
  std::string_view name;  // "app.js"
  std::string_view text;
};

const std::vector<web_file>& builtin_web_files();
// A hash of every built-in file together (16 hex digits).
std::string_view builtin_web_hash();

}  // namespace plaint::server
