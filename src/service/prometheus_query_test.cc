#include "service/prometheus_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "testing/local_process.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Vector(const std::string& samples) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + samples + "]}}";
}
std::string Sample(const std::string& value, const std::string& labels = "{}") {
  return R"({"metric":)" + labels + R"(,"value":[1700000000.123,")" + value + R"("]})";
}

TEST(ParsePrometheusResponse, OneSampleOrAScalarIsTheValue) {
  Result<double> one = ParsePrometheusResponse(Vector(Sample("24.75")));
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_DOUBLE_EQ(*one, 24.75);
  Result<double> labelled = ParsePrometheusResponse(Vector(Sample("1e-3", R"({"job":"demo"})")));
  ASSERT_TRUE(labelled.ok()) << labelled.error().ToString();
  EXPECT_DOUBLE_EQ(*labelled, 0.001);
  Result<double> scalar = ParsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"0"]}})");
  ASSERT_TRUE(scalar.ok()) << scalar.error().ToString();
  EXPECT_DOUBLE_EQ(*scalar, 0);
}

TEST(ParsePrometheusResponse, NoDataSeveralSamplesAndNonNumbersAreErrors) {
  Result<double> empty = ParsePrometheusResponse(Vector(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(empty.error().message(), HasSubstr("no data"));

  Result<double> three = ParsePrometheusResponse(Vector(Sample("1", R"({"i":"a"})") + "," +
                                                        Sample("2", R"({"i":"b"})") + "," +
                                                        Sample("3", R"({"i":"c"})")));
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(three.error().message(), HasSubstr("3 samples, one is needed"));

  for (const char* value : {"NaN", "+Inf", "-Inf"}) {
    Result<double> bad = ParsePrometheusResponse(Vector(Sample(value)));
    ASSERT_FALSE(bad.ok()) << value;
    EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(bad.error().message(), HasSubstr(std::string("value is ") + value));
  }
  Result<double> words = ParsePrometheusResponse(Vector(Sample("twelve")));
  ASSERT_FALSE(words.ok());
  EXPECT_THAT(words.error().message(), HasSubstr("'twelve' is not a number"));

  Result<double> matrix =
      ParsePrometheusResponse(R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  ASSERT_FALSE(matrix.ok());
  EXPECT_THAT(matrix.error().message(), HasSubstr("a matrix result"));

  for (const char* body : {"", "<html>", "[]", R"({"status":"success"})",
                           R"({"status":"success","data":{"resultType":"vector","result":{}}})",
                           R"({"status":"success","data":{"resultType":"vector","result":[{}]}})",
                           R"({"status":"success","data":{"resultType":"scalar","result":[1]}})"}) {
    Result<double> bad = ParsePrometheusResponse(body);
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument) << body;
  }

  Result<double> error = ParsePrometheusResponse(
      R"({"status":"error","errorType":"execution","error":"query timed out"})");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(error.error().message(), HasSubstr("execution: query timed out"));
}

// A stand-in for Prometheus's HTTP API on 127.0.0.1.
class FakePrometheus {
 public:
  FakePrometheus() {
    server_.Get("/api/v1/query", [this](const httplib::Request& request,
                                        httplib::Response& response) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queries_.push_back(request.get_param_value("query"));
      }
      const std::string& query = request.get_param_value("query");
      if (query == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      if (query == "down") {
        response.status = 503;
        response.set_content("Service Unavailable", "text/plain");
        return;
      }
      if (query == "sum(") {
        response.status = 400;
        response.set_content(
            R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})",
            "application/json");
        return;
      }
      response.set_content(Vector(Sample("25")), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~FakePrometheus() {
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> queries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return queries_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> queries_;
};

TEST(QueryPrometheus, SendsTheQueryEncodedAndReadsTheValue) {
  FakePrometheus prometheus;
  const std::string promql =
      R"(100 * sum(rate(demo_errors_total{job="demo",path=~"/api/.+"}[30s])) / sum(rate(demo_requests_total[30s])) & #?)";
  Result<double> value = QueryPrometheus(prometheus.base() + "/", promql, Seconds(5));
  ASSERT_TRUE(value.ok()) << value.error().ToString();
  EXPECT_DOUBLE_EQ(*value, 25);
  EXPECT_THAT(prometheus.queries(), ::testing::ElementsAre(promql));
}

TEST(QueryPrometheus, HttpErrorsAndTimeoutsAreUnavailableAndNameTheUrlWithoutSecrets) {
  FakePrometheus prometheus;
  const std::string with_password = "http://reader:s3cret@127.0.0.1:" +
                                    prometheus.base().substr(prometheus.base().rfind(':') + 1);
  Result<double> down = QueryPrometheus(with_password, "down", Seconds(5));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(down.error().message(), HasSubstr(prometheus.base() + "/api/v1/query: HTTP 503"));
  EXPECT_THAT(down.error().message(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(down.error().message(), Not(HasSubstr("query=")));

  Result<double> slow = QueryPrometheus(prometheus.base(), "slow", Seconds(1));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(slow.error().message(), HasSubstr("no answer within 1 s"));

  Result<double> invalid = QueryPrometheus(prometheus.base(), "sum(", Seconds(5));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.error().message(), HasSubstr("HTTP 400 (bad_data: 1:5: parse error"));

  int nothing = testing::FreeLoopbackPort();  // nothing listens there
  Result<double> refused =
      QueryPrometheus("http://127.0.0.1:" + std::to_string(nothing), "sum(up)", Seconds(5));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.error().message(),
              HasSubstr("http://127.0.0.1:" + std::to_string(nothing) + "/api/v1/query"));

  Result<double> not_http = QueryPrometheus("file:///etc/passwd", "up", Seconds(5));
  ASSERT_FALSE(not_http.ok());
  EXPECT_EQ(not_http.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(QueryPrometheus(prometheus.base(), "", Seconds(5)).ok());
}

}  // namespace
}  // namespace rollgate
