// Expected failures cross module boundaries as values, never as exceptions.
//
// `errc` values are the exit codes of the `plaint` program (SPEC §5; see
// `exit_code`) and map to one HTTP status each. Exceptions remain for bugs
// and exhaustion only.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace plaint::engine {

enum class errc {
  internal = 1,
  invalid = 2,
  not_found = 3,
  not_allowed = 4,
  conflict = 5,
  // Nothing was written and a retry may succeed: the database stayed locked
  // by another writer past the busy timeout, or the server is shutting
  // down. HTTP 503 with Retry-After; exit code 1, as SPEC has no code of its own.
  unavailable = 6,
  // The actor's role does not permit this (an agent taking a ticket owned
  // by someone else, say); decided inside the write transaction, nothing
  // written. HTTP 403; exit code 4, as for any other refusal.
  forbidden = 7,
};

// The `plaint` program's exit code for a failure with this code.
constexpr int exit_code(errc code) {
  return code == errc::unavailable ? 1 : code == errc::forbidden ? 4 : static_cast<int>(code);
}

// The stable machine-readable name of a code: "invalid", "not_found", ...
std::string_view errc_name(errc code);

struct Error {
  errc code = errc::internal;
  std::string message;  // one sentence that names the thing
};

inline Error make_error(errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace plaint::engine

// Returns the error of a failed Result/Status expression from the enclosing
// function; the enclosing function returns a Result<...> or a Status.
#define PLAINT_TRY(expr)                              \
  do {                                                \
    auto&& plaint_try_ = (expr);                      \
    if (!plaint_try_.ok()) return plaint_try_.error(); \
  } while (0)
