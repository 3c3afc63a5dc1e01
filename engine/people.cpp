// People, passwords and web sessions (engine/people.h).
#include "engine/people.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sodium.h>

#include "engine/audit.h"
#include "engine/executor.h"
#include "engine/utf8.h"

namespace plaint::engine {

namespace {

// t = 2, m = 19 MiB, one lane: OWASP's minimum for Argon2id.
constexpr unsigned long long password_ops = 2;
constexpr std::size_t password_mem = 19u * 1024u * 1024u;
constexpr std::size_t session_secret_bytes = 32;
constexpr std::size_t csrf_bytes = 16;

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '@';
}

Error not_valid() { return make_error(errc::not_found, "the session is not valid"); }

}  // namespace

Status check_person(const person& p) {
  if (p.id.empty() || p.id.size() > max_person_id_bytes)
    return make_error(errc::invalid, fmt::format("a person's id must be 1 to {} characters", max_person_id_bytes));
  for (char c : p.id)
    if (!id_char(c))
      return make_error(errc::invalid, "a person's id may hold only letters, digits and . _ - @");
  PLAINT_TRY(check_required("name", p.name, max_id_bytes));
  PLAINT_TRY(check_text("email", p.email, 254));
  if (!p.email.empty() && (p.email.find('@') == std::string::npos || p.email.find_first_of(" \t\r\n<>,;") != std::string::npos))
    return make_error(errc::invalid, fmt::format("email '{}' is not an e-mail address", p.email));
  if (!is_role(p.role)) return make_error(errc::invalid, fmt::format("role '{}' is not one of: agent, supervisor, admin", p.role));
  if (!p.team.empty() && p.team != "L1" && p.team != "L2" && p.team != "L3")
    return make_error(errc::invalid, fmt::format("team '{}' is not one of: L1, L2, L3", p.team));
  if (!p.lang.empty() && p.lang != "en" && p.lang != "zh")
    return make_error(errc::invalid, fmt::format("language '{}' is not one of: en, zh", p.lang));
  return {};
}

json to_json(const person& p) {
  return json{{"id", p.id},       {"name", p.name},         {"email", p.email},
              {"role", p.role},   {"team", p.team},         {"lang", p.lang.empty() ? "en" : p.lang},
              {"disabled", p.disabled},
              {"created_at", format_iso(p.created_at)}, {"updated_at", format_iso(p.updated_at)}};
}

Result<std::string> hash_password(std::string_view password) {
  if (password.size() < min_password_bytes)
    return make_error(errc::invalid, fmt::format("a password needs at least {} characters", min_password_bytes));
  if (password.size() > max_password_bytes)
    return make_error(errc::invalid, fmt::format("a password may have at most {} bytes", max_password_bytes));
  if (!valid_utf8(password)) return make_error(errc::invalid, "the password is not valid UTF-8");
  char out[crypto_pwhash_STRBYTES];
  if (!sodium_ready() || crypto_pwhash_str_alg(out, password.data(), password.size(), password_ops, password_mem,
                                               crypto_pwhash_ALG_ARGON2ID13) != 0)
    return make_error(errc::internal, "the password could not be hashed (out of memory?)");
  return std::string(out);
}

bool verify_password(std::string_view hash, std::string_view password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || password.size() > max_password_bytes) return false;
  if (!sodium_ready()) return false;
  const std::string h(hash);  // NUL-terminated for libsodium
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string session_id_of(std::string_view cookie) { return sha256_hex(cookie); }

Result<issued_session> issue_session(std::string_view person_id, timestamp now, std::int64_t lifetime_seconds) {
  auto secret = random_hex(session_secret_bytes);
  PLAINT_TRY(secret);
  auto csrf = random_hex(csrf_bytes);
  PLAINT_TRY(csrf);
  issued_session s;
  s.record.id = session_id_of(*secret);
  s.record.person = std::string(person_id);
  s.record.csrf = std::move(*csrf);
  s.record.created_at = now;
  s.record.expires_at = now + lifetime_seconds;
  s.cookie = std::move(*secret);
  return s;
}

Result<token_identity> check_session(store& s, std::string_view cookie, timestamp now) {
  // Only the shape issue_session makes is hashed and looked up.
  if (cookie.size() != 2 * session_secret_bytes) return not_valid();
  for (char c : cookie)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return not_valid();
  auto found = s.find_session(session_id_of(cookie));
  PLAINT_TRY(found);
  if (!*found || (*found)->expires_at <= now) return not_valid();
  auto who = s.find_person((*found)->person);
  PLAINT_TRY(who);
  if (!*who || (*who)->disabled) return not_valid();
  return token_identity{(*who)->id, (*who)->role, (*found)->csrf};
}

Result<int> disable_person(store_transaction& tx, person& p, timestamp now) {
  p.disabled = true;
  p.updated_at = now;
  PLAINT_TRY(tx.put_person(p));
  PLAINT_TRY(tx.revoke_tokens(p.id, now));
  return tx.delete_sessions_of(p.id);
}

Status check_owner(store_transaction& tx, std::string_view owner) {
  if (owner.empty()) return {};
  auto any = tx.has_people();
  PLAINT_TRY(any);
  if (!*any) return {};
  auto p = tx.find_person(owner);
  PLAINT_TRY(p);
  if (!*p) return make_error(errc::not_allowed, fmt::format("owner '{}' is not a person in the directory", owner));
  if ((*p)->disabled) return make_error(errc::not_allowed, fmt::format("owner '{}' is disabled", owner));
  return {};
}

}  // namespace plaint::engine
