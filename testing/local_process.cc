#include "testing/local_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace rollgate::testing {

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

std::string Tail(const std::filesystem::path& file, size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

bool WaitForLoopbackPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address = Loopback(port);
    bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

ScratchDir::ScratchDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Status ChildProcess::Start(const std::vector<std::string>& argv,
                           const std::filesystem::path& log_file) {
  if (argv.empty()) return InvalidArgument("no program to start");
  Stop();
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::string log = log_file.string();
  pid_t pid = fork();
  if (pid < 0) return Internal(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
  return Status::Ok();
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

DemoServiceProcess::DemoServiceProcess(std::string binary) : binary_(std::move(binary)) {
  std::filesystem::create_directories(dir_.path() / "app");
  std::filesystem::create_directories(dir_.path() / "config");
  std::ofstream(dir_.path() / "app" / "VERSION") << "1.0.0\n";
  SetKnobs("");
}

Status DemoServiceProcess::Start() {
  const std::filesystem::path log = dir_.path() / "service.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    if (port_ == 0) continue;
    RETURN_IF_ERROR(process_.Start(
        {binary_, "--listen", fmt::format("127.0.0.1:{}", port_), "--app-dir",
         (dir_.path() / "app").string(), "--config-dir", (dir_.path() / "config").string(),
         "--log-file", (dir_.path() / "requests.log").string()},
        log));
    if (WaitForLoopbackPort(port_, std::chrono::seconds(10)) && process_.Running()) {
      return Status::Ok();
    }
    process_.Stop();
  }
  return Unavailable(fmt::format("{} did not start: {}", binary_, Tail(log, 2000)));
}

void DemoServiceProcess::SetKnobs(const std::string& knobs) {
  // Written beside and renamed: the service never reads half a file.
  std::filesystem::path knobs_file = dir_.path() / "config" / "knobs";
  std::filesystem::path temporary = knobs_file;
  temporary += ".tmp";
  std::ofstream(temporary, std::ios::trunc) << knobs;
  std::filesystem::rename(temporary, knobs_file);
}

std::string DemoServiceProcess::Url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

}  // namespace rollgate::testing
