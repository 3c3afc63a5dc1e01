// What the harnesses share: a scratch directory for SQLite files, on tmpfs
// when there is one (the store fsyncs every commit), removed at exit.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace plaint::fuzz {

class scratch_dir {
 public:
  scratch_dir() {
    const bool shm = ::access("/dev/shm", W_OK) == 0;
    std::string tmpl = (shm ? std::string("/dev/shm") : std::filesystem::temp_directory_path().string()) +
                       "/plaint-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

  // Removes a SQLite database with its -wal and -shm files.
  static void remove_db(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace plaint::fuzz
