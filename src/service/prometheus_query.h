// One figure from Prometheus (playbook §6.1 "critical defects affecting >= 5 % of users" read
// from a metrics query, System::MetricsSource::prometheus_query): an instant query through the
// HTTP API, GET <base>/api/v1/query?query=<PromQL, URL-encoded>, evaluated at "now".
//
// The answer must be one number: a scalar, or an instant vector with exactly one sample (write
// the query with sum(...) so it is one). Errors:
//   NotFound         an empty vector: "no data" (nothing scraped yet, or no such series);
//   InvalidArgument  a vector with several samples (naming how many), a matrix or string
//                    result, a value that is NaN or infinite (a 0/0 ratio: no requests in the
//                    range), an answer that is not the API's JSON, a base URL that is not
//                    http(s)://, or a query Prometheus refuses as invalid (HTTP 400 bad_data,
//                    with its message: retrying cannot help);
//   Unavailable      Prometheus cannot be reached, does not answer within `timeout`, or answers
//                    with any other HTTP error (its error message included).
// Messages name the URL "<base>/api/v1/query" without any user:password part and without the
// query string.
//
// Thread-safe: no shared state (libcurl's global initialisation happens once).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

Result<double> QueryPrometheus(const std::string& base_url, const std::string& promql,
                               Seconds timeout);

// The value of an API answer's body (the JSON of /api/v1/query), as QueryPrometheus judges it;
// an answer with status "error" gives Unavailable with its errorType and error.
Result<double> ParsePrometheusResponse(std::string_view body);

}  // namespace rollgate
