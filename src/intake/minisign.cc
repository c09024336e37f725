#include "intake/minisign.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/strings.h"

namespace rollgate {
namespace {

constexpr std::string_view kUntrustedPrefix = "untrusted comment: ";
constexpr std::string_view kTrustedPrefix = "trusted comment: ";
constexpr size_t kMaxSignatureFileBytes = size_t{64} * 1024;
constexpr size_t kMaxKeyFileBytes = size_t{64} * 1024;
constexpr uintmax_t kMaxLegacyFileBytes = uintmax_t{256} << 20;
constexpr size_t kAlgorithmBytes = 2;
constexpr size_t kKeyNumberBytes = 8;
constexpr size_t kSignatureBytes = crypto_sign_BYTES;           // 64
constexpr size_t kPublicKeyBytes = crypto_sign_PUBLICKEYBYTES;  // 32

Status InitialiseSodium() {
  // sodium_init is thread-safe and idempotent; a negative result means it cannot work at all.
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  return Status::Ok();
}

// The file's contents, up to `max_bytes`; InvalidArgument if larger.
Result<std::string> ReadBoundedFile(const std::filesystem::path& path, size_t max_bytes,
                                    std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    if (error == ENOENT) return NotFound(fmt::format("{} {}: no such file", what, path.string()));
    return Unavailable(fmt::format("{} {}: {}", what, path.string(), std::strerror(error)));
  }
  std::string text;
  std::string buffer(1 << 16, '\0');
  while (in && text.size() <= max_bytes) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    text.append(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Unavailable(fmt::format("{} {}: read error", what, path.string()));
  if (text.size() > max_bytes) {
    return InvalidArgument(
        fmt::format("{} {}: larger than {} bytes", what, path.string(), max_bytes));
  }
  return text;
}

// Strict base64 (original alphabet, padding) of exactly `size` bytes.
std::optional<std::string> DecodeBase64(std::string_view text, size_t size) {
  std::string out(size + 3, '\0');
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || decoded != size) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

// As minisign prints key ids: the bytes as a little-endian integer, upper-case hex, no leading
// zeros (minisign uses "%" PRIX64).
std::string KeyIdHex(std::string_view key_number) {
  uint64_t value = 0;
  for (size_t i = key_number.size(); i-- > 0;) {
    value = (value << 8) | static_cast<unsigned char>(key_number[i]);
  }
  return fmt::format("{:X}", value);
}

// Lines without their "\n" or "\r\n"; a final empty line is dropped.
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines = Split(text, '\n');
  for (std::string& line : lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

struct ParsedSignature {
  bool prehashed = false;
  std::string key_number;  // 8 bytes
  std::string signature;   // 64 bytes
  std::string untrusted_comment;
  std::string trusted_comment;
  std::string global_signature;  // 64 bytes
};

Result<ParsedSignature> ParseSignature(std::string_view text) {
  auto malformed = [](std::string_view why) {
    return InvalidArgument(fmt::format("malformed signature file: {}", why));
  };
  std::vector<std::string> lines = Lines(text);
  if (lines.size() != 4) {
    return malformed(fmt::format("expected 4 lines, found {}", lines.size()));
  }
  if (!StartsWith(lines[0], kUntrustedPrefix)) {
    return malformed("the first line is not an untrusted comment");
  }
  if (!StartsWith(lines[2], kTrustedPrefix)) {
    return malformed("the third line is not a trusted comment");
  }
  ParsedSignature parsed;
  std::optional<std::string> blob =
      DecodeBase64(Trim(lines[1]), kAlgorithmBytes + kKeyNumberBytes + kSignatureBytes);
  if (!blob) return malformed("the signature line is not base64 of 74 bytes");
  std::string_view algorithm = std::string_view(*blob).substr(0, kAlgorithmBytes);
  if (algorithm == "ED") {
    parsed.prehashed = true;
  } else if (algorithm != "Ed") {
    return malformed(
        fmt::format("unsupported signature algorithm \"{}\"", EscapeForDisplay(algorithm)));
  }
  parsed.key_number = blob->substr(kAlgorithmBytes, kKeyNumberBytes);
  parsed.signature = blob->substr(kAlgorithmBytes + kKeyNumberBytes, kSignatureBytes);
  std::optional<std::string> global = DecodeBase64(Trim(lines[3]), kSignatureBytes);
  if (!global) return malformed("the trusted comment signature is not base64 of 64 bytes");
  parsed.global_signature = std::move(*global);
  parsed.untrusted_comment = lines[0].substr(kUntrustedPrefix.size());
  parsed.trusted_comment = lines[2].substr(kTrustedPrefix.size());
  return parsed;
}

// BLAKE2b-512 of the file, read in blocks.
Result<std::string> Blake2bFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    if (error == ENOENT) return NotFound(fmt::format("{}: no such file", path.string()));
    return Unavailable(fmt::format("{}: {}", path.string(), std::strerror(error)));
  }
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES_MAX);
  std::string buffer(1 << 16, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  if (in.bad()) return Unavailable(fmt::format("{}: read error", path.string()));
  std::string digest(crypto_generichash_BYTES_MAX, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(digest.data()), digest.size());
  return digest;
}

bool VerifyDetached(std::string_view signature, std::string_view message,
                    const std::array<unsigned char, 32>& key) {
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

}  // namespace

Result<TrustedKey> ParseTrustedKey(std::string_view text) {
  TrustedKey key;
  std::vector<std::string> lines;
  for (const std::string& line : Lines(text)) {
    if (!Trim(line).empty()) lines.push_back(line);
  }
  std::string_view encoded;
  if (lines.size() == 1) {
    encoded = Trim(lines[0]);
  } else if (lines.size() == 2 && StartsWith(lines[0], kUntrustedPrefix)) {
    key.comment = lines[0].substr(kUntrustedPrefix.size());
    encoded = Trim(lines[1]);
  } else {
    return InvalidArgument(
        "not a minisign public key: expected a base64 line, optionally after an untrusted "
        "comment line");
  }
  std::optional<std::string> blob =
      DecodeBase64(encoded, kAlgorithmBytes + kKeyNumberBytes + kPublicKeyBytes);
  if (!blob) {
    return InvalidArgument(
        fmt::format("not a minisign public key: \"{}\" is not base64 of 42 bytes",
                    EscapeForDisplay(encoded.substr(0, 80))));
  }
  if (blob->substr(0, kAlgorithmBytes) != "Ed") {
    return InvalidArgument("not a minisign public key: the algorithm is not Ed25519 (\"Ed\")");
  }
  std::memcpy(key.key_number.data(), blob->data() + kAlgorithmBytes, kKeyNumberBytes);
  std::memcpy(key.public_key.data(), blob->data() + kAlgorithmBytes + kKeyNumberBytes,
              kPublicKeyBytes);
  key.key_id = KeyIdHex(blob->substr(kAlgorithmBytes, kKeyNumberBytes));
  return key;
}

Result<TrustedKey> LoadTrustedKeyFile(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(std::string text, ReadBoundedFile(path, kMaxKeyFileBytes, "public key file"));
  Result<TrustedKey> key = ParseTrustedKey(text);
  if (!key.ok()) return key.error().WithContext(path.string());
  return key;
}

Result<SignatureCheck> VerifyMinisign(const std::filesystem::path& file,
                                      const std::filesystem::path& signature,
                                      const std::vector<TrustedKey>& keys) {
  RETURN_IF_ERROR(InitialiseSodium());
  ASSIGN_OR_RETURN(std::string text,
                   ReadBoundedFile(signature, kMaxSignatureFileBytes, "signature file"));
  Result<ParsedSignature> parsed_or = ParseSignature(text);
  if (!parsed_or.ok()) return parsed_or.error().WithContext(signature.string());
  ParsedSignature parsed = std::move(parsed_or).value();

  const std::string key_id = KeyIdHex(parsed.key_number);
  auto key = std::find_if(keys.begin(), keys.end(), [&](const TrustedKey& candidate) {
    return std::memcmp(candidate.key_number.data(), parsed.key_number.data(), kKeyNumberBytes) == 0;
  });
  if (key == keys.end()) {
    std::vector<std::string> known;
    known.reserve(keys.size());
    for (const TrustedKey& trusted : keys) known.push_back(trusted.key_id);
    return PermissionDenied(fmt::format("{}: signed by unknown key {} (trusted keys: {})",
                                        signature.string(), key_id,
                                        known.empty() ? "none" : Join(known, ", ")));
  }

  std::string message;
  if (parsed.prehashed) {
    ASSIGN_OR_RETURN(message, Blake2bFile(file));
  } else {
    std::error_code error;
    uintmax_t size = std::filesystem::file_size(file, error);
    if (!error && size > kMaxLegacyFileBytes) {
      return InvalidArgument(fmt::format(
          "{}: legacy (non-prehashed) signatures are accepted only for files up to {} bytes; "
          "sign with a current minisign",
          signature.string(), kMaxLegacyFileBytes));
    }
    ASSIGN_OR_RETURN(message, ReadBoundedFile(file, kMaxLegacyFileBytes, "file"));
  }
  if (!VerifyDetached(parsed.signature, message, key->public_key)) {
    return PermissionDenied(fmt::format("signature does not match the file {} (key {}, {})",
                                        file.string(), key_id, signature.string()));
  }
  if (!VerifyDetached(parsed.global_signature, parsed.signature + parsed.trusted_comment,
                      key->public_key)) {
    return PermissionDenied(
        fmt::format("{}: trusted comment signature invalid (key {})", signature.string(), key_id));
  }
  SignatureCheck check;
  check.key_id = key_id;
  check.trusted_comment = std::move(parsed.trusted_comment);
  check.untrusted_comment = std::move(parsed.untrusted_comment);
  check.prehashed = parsed.prehashed;
  return check;
}

}  // namespace rollgate
