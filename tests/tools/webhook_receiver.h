// An HTTP receiver on 127.0.0.1 for the notification tests: records every request (path,
// headers, body) and answers with the status set by `set_status` (200 by default; 500 to test
// retries). Started in the constructor on a free port, stopped in the destructor.
// Thread-safe: requests are served on the server's threads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rollgate::testing {

class WebhookReceiver {
 public:
  struct Request {
    std::string path;
    std::map<std::string, std::string> headers;
    std::string body;
  };

  WebhookReceiver() {
    server_.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      Request r{request.path, {}, request.body};
      for (const auto& [key, value] : request.headers) r.headers[key] = value;
      requests_.push_back(std::move(r));
      response.status = status_;
      response.set_content(answer_, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  void set_status(int status, std::string answer = "ok") {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
    answer_ = std::move(answer);
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  int status_ = 200;
  std::string answer_ = "ok";
  std::vector<Request> requests_;
};

}  // namespace rollgate::testing
