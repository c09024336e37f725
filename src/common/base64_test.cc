#include "common/base64.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

TEST(Base64Test, RoundTripsEveryLengthAndEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n <= bytes.size(); n += 1) {
    std::string part = bytes.substr(0, n);
    std::string encoded = EncodeBase64(part);
    EXPECT_EQ(encoded.size() % 4, 0u);
    std::optional<std::string> decoded = DecodeBase64(encoded);
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, part) << n;
  }
}

TEST(Base64Test, KnownValuesFromRfc4648) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(DecodeBase64("Zm9vYg=="), "foob");
  EXPECT_EQ(DecodeBase64("Zm9v\r\nYmE=\n"), "fooba");  // line breaks as MIME writes them
}

TEST(Base64Test, RefusesWhatIsNotBase64) {
  for (const char* bad : {"Zm9", "Zm9v!", "Z===", "Zg==Zg==", "Zm=v", "Zh==", "Zm9=", "é"}) {
    EXPECT_FALSE(DecodeBase64(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace rollgate
