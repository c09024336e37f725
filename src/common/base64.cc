#include "common/base64.h"

#include <openssl/evp.h>

namespace rollgate {

std::string EncodeBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  // EVP_DecodeBlock takes whole groups of four without white space, and counts the padding as
  // zero bytes: both are handled here.
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    compact += c;
  }
  if (compact.size() % 4 != 0) return std::nullopt;
  if (compact.empty()) return std::string();
  size_t padding = 0;
  while (padding < 2 && compact[compact.size() - 1 - padding] == '=') ++padding;
  // '=' only as the last one or two characters.
  if (compact.find('=') < compact.size() - padding) return std::nullopt;
  std::string out(compact.size() / 4 * 3, '\0');
  int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (decoded < 0 || static_cast<size_t>(decoded) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  // The bits the padding stands for must be zero, so that every text decodes to one value.
  if (EncodeBase64(out) != compact) return std::nullopt;
  return out;
}

}  // namespace rollgate
