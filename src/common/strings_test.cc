#include "common/strings.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

TEST(StringsTest, SplitJoinTrim) {
  EXPECT_EQ(Split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(Join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(Trim("  x y \n"), "x y");
}

TEST(StringsTest, DidYouMean) {
  std::vector<std::string> keys = {"environments", "systems", "people"};
  EXPECT_EQ(DidYouMean("enviroments", keys), "environments");
  EXPECT_EQ(DidYouMean("peple", keys), "people");
  EXPECT_EQ(DidYouMean("zzzzzz", keys), "");
}

TEST(StringsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(StringsTest, EscapesControlAndBidiCharacters) {
  EXPECT_EQ(EscapeForDisplay("a\nb\x01"), "a\\nb\\x01");
  EXPECT_EQ(EscapeForDisplay("x\xe2\x80\xaey"), "x\\u202Ey");
  EXPECT_EQ(EscapeForDisplay("a\xc2\x9b"
                             "b"),
            "a\\u009Bb");                                     // C1 CSI
  EXPECT_EQ(EscapeForDisplay("\xe2\x80\x8f"), "\\u200F");     // right-to-left mark
  EXPECT_EQ(EscapeForDisplay("\xe2\x80\xa8"), "\\u2028");     // line separator
  EXPECT_EQ(EscapeForDisplay("\xd8\x9c"), "\\u061C");         // Arabic letter mark
  EXPECT_EQ(EscapeForDisplay("caf\xc3\xa9"), "caf\xc3\xa9");  // ordinary text untouched
}

}  // namespace
}  // namespace rollgate
