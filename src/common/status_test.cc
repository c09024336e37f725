#include "common/status.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

Result<int> Half(int n) {
  if (n % 2) return InvalidArgument("odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = NotFound("CR-9");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: CR-9");
  EXPECT_EQ(s.WithContext("cr show").message(), "cr show: CR-9");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
  EXPECT_EQ(Half(3).value_or(-1), -1);
}

}  // namespace
}  // namespace rollgate
