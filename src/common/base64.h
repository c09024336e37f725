// Base64 (RFC 4648, the standard alphabet with padding), through OpenSSL. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rollgate {

// `bytes` as one line of base64, padded.
std::string EncodeBase64(std::string_view bytes);

// The bytes of `text`: base64 with padding, line breaks and spaces between the groups allowed.
// nullopt for anything else (a character outside the alphabet, a wrong length, data after the
// padding).
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace rollgate
