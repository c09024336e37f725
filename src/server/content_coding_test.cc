#include "server/content_coding.h"

#include <gtest/gtest.h>

#include <string>

namespace rollgate::server {
namespace {

TEST(AcceptsGzipTest, NamedGzipWithAPositiveQvalue) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("deflate , x-gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip; Q = 0.001"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("identity;q=0.5, *;q=0.1"));
}

TEST(AcceptsGzipTest, RefusedOrNotNamed) {
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0"));  // named beats the wildcard
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

TEST(AcceptsGzipTest, AMalformedQvalueRefuses) {
  EXPECT_FALSE(AcceptsGzip("gzip;q=high"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=2"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=-1"));
  EXPECT_FALSE(AcceptsGzip("gzip;q="));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.5x"));
  // Other parameters are not qvalues.
  EXPECT_TRUE(AcceptsGzip("gzip;level=9"));
  EXPECT_TRUE(AcceptsGzip("gzip;q"));
  EXPECT_TRUE(AcceptsGzip(";;,,gzip;;"));
}

TEST(CompressibleTypeTest, TextAndJsonButNotStreamsOrCompressedFormats) {
  EXPECT_TRUE(CompressibleType("application/json"));
  EXPECT_TRUE(CompressibleType("text/html; charset=utf-8"));
  EXPECT_TRUE(CompressibleType("Text/CSS"));
  EXPECT_TRUE(CompressibleType("text/plain; version=0.0.4"));
  EXPECT_TRUE(CompressibleType("image/svg+xml"));
  EXPECT_TRUE(CompressibleType("application/problem+json"));
  EXPECT_FALSE(CompressibleType("text/event-stream"));
  EXPECT_FALSE(CompressibleType("image/png"));
  EXPECT_FALSE(CompressibleType("application/gzip"));
  EXPECT_FALSE(CompressibleType("application/octet-stream"));
  EXPECT_FALSE(CompressibleType(""));
}

TEST(GzipTest, RoundTripsAndShrinksRepetitiveText) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text += R"({"step":"install","host":"h)" + std::to_string(i) +
            R"(","state":"succeeded","exit_code":0,"attempt":1},)";
  }
  for (int level : {1, 6, 9}) {
    std::optional<std::string> gzip = Gzip(text, level);
    ASSERT_TRUE(gzip.has_value()) << level;
    ASSERT_GE(gzip->size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>((*gzip)[0]), 0x1f);  // the gzip magic
    EXPECT_EQ(static_cast<unsigned char>((*gzip)[1]), 0x8b);
    EXPECT_LT(gzip->size() * 5, text.size()) << level;
    EXPECT_EQ(Gunzip(*gzip), text) << level;
  }
}

TEST(GzipTest, EmptyAndBinaryInput) {
  std::optional<std::string> empty = Gzip("", 6);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(Gunzip(*empty), "");
  std::string binary;
  for (int i = 0; i < 5000; ++i) binary += static_cast<char>((i * 7919) % 256);
  std::optional<std::string> gzip = Gzip(binary, 1);
  ASSERT_TRUE(gzip.has_value());
  EXPECT_EQ(Gunzip(*gzip), binary);
}

TEST(GunzipTest, RefusesWhatIsNotOneWholeMember) {
  std::string gzip = *Gzip("a run document", 6);
  EXPECT_EQ(Gunzip(gzip.substr(0, gzip.size() - 3)), std::nullopt);  // truncated
  EXPECT_EQ(Gunzip(gzip + "x"), std::nullopt);                       // trailing bytes
  EXPECT_EQ(Gunzip("not gzip at all"), std::nullopt);
  EXPECT_EQ(Gunzip(""), std::nullopt);
  std::string corrupt = gzip;
  corrupt[corrupt.size() - 6] ^= 0x55;  // the CRC-32 no longer matches
  EXPECT_EQ(Gunzip(corrupt), std::nullopt);
}

}  // namespace
}  // namespace rollgate::server
