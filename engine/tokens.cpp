// Issuing and checking API tokens. The secret exists only in the text handed
// back once by issue_token and in what a client presents; storage holds a
// salted SHA-256 of it, compared in constant time.
#include "engine/tokens.h"

#include <iterator>
#include <string>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "engine/audit.h"
#include "engine/executor.h"

namespace plaint::engine {

namespace {

constexpr std::string_view token_prefix = "plt_";
constexpr std::size_t id_bytes = 8;
constexpr std::size_t secret_bytes = 32;
constexpr std::size_t salt_bytes = 16;
// "plt_" + id + "_" + secret, all hex: the only shape issue_token makes.
constexpr std::size_t token_length = token_prefix.size() + 2 * id_bytes + 1 + 2 * secret_bytes;

constexpr std::string_view roles[] = {"agent", "supervisor", "admin"};  // weakest first

}  // namespace

Result<std::string> random_hex(std::size_t n) {
  unsigned char buf[64];
  if (n > sizeof buf || RAND_bytes(buf, static_cast<int>(n)) != 1)
    return make_error(errc::internal, "the random number generator failed; nothing was made");
  static const char hex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = hex[buf[i] >> 4];
    out[2 * i + 1] = hex[buf[i] & 15];
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return out;
}

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// One answer for every way a token can be wrong, so callers cannot probe.
Error not_valid() { return make_error(errc::not_found, "the token is not valid"); }

int rank(std::string_view role) {
  for (std::size_t i = 0; i < std::size(roles); ++i)
    if (roles[i] == role) return static_cast<int>(i);
  return -1;
}

}  // namespace

bool is_role(std::string_view role) { return rank(role) >= 0; }

bool role_at_least(std::string_view have, std::string_view need) {
  const int h = rank(have), n = rank(need);
  return h >= 0 && n >= 0 && h >= n;
}

Result<issued_token> issue_token(std::string_view name, std::string_view role, timestamp now) {
  PLAINT_TRY(check_required("token name", name, max_id_bytes));
  PLAINT_TRY(check_required("role", role, max_id_bytes));
  if (!is_role(role))
    return make_error(errc::invalid, fmt::format("role '{}' is not one of: {}", role, join(roles)));
  auto id = random_hex(id_bytes);
  PLAINT_TRY(id);
  auto secret = random_hex(secret_bytes);
  PLAINT_TRY(secret);
  auto salt = random_hex(salt_bytes);
  PLAINT_TRY(salt);

  issued_token t;
  t.record.id = std::move(*id);
  t.record.name = std::string(name);
  t.record.role = std::string(role);
  t.record.hash = sha256_hex(*salt + *secret);
  t.record.salt = std::move(*salt);
  t.record.created_at = now;
  t.text = fmt::format("{}{}_{}", token_prefix, t.record.id, *secret);
  OPENSSL_cleanse(secret->data(), secret->size());
  return t;
}

Result<token_identity> check_token(store& s, std::string_view presented) {
  // The exact length also bounds what is parsed and hashed, whatever was sent.
  if (presented.size() != token_length) return not_valid();
  if (presented.substr(0, token_prefix.size()) != token_prefix) return not_valid();
  const std::string_view id = presented.substr(token_prefix.size(), 2 * id_bytes);
  const std::size_t sep = token_prefix.size() + 2 * id_bytes;
  const std::string_view secret = presented.substr(sep + 1);
  if (presented[sep] != '_' || !is_lower_hex(id) || !is_lower_hex(secret)) return not_valid();

  auto found = s.find_token(id);
  PLAINT_TRY(found);
  if (!*found || (*found)->revoked_at) return not_valid();
  const api_token& t = **found;
  std::string salted = t.salt;
  salted.append(secret);
  const std::string hash = sha256_hex(salted);
  OPENSSL_cleanse(salted.data(), salted.size());
  if (hash.size() != t.hash.size() || CRYPTO_memcmp(hash.data(), t.hash.data(), hash.size()) != 0)
    return not_valid();
  return token_identity{t.name, t.role, {}};
}

}  // namespace plaint::engine
