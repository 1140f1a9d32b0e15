// KbsDevProcess: a running `kbs-dev` (the development Key Broker Service) child process on
// 127.0.0.1, port 0 (read back from --port-file), for the end-to-end tests. Neither copyable nor
// movable; not thread-safe (one test thread drives it).
#ifndef CDH_TESTS_KBS_DEV_PROCESS_H_
#define CDH_TESTS_KBS_DEV_PROCESS_H_

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/json.h"
#include "common/testing/process.h"
#include "http/curl_http_client.h"
#include "tests/test_util.h"

namespace cdh::testing {

// A running `kbs-dev` child process on 127.0.0.1, port 0 (read back from --port-file).
class KbsDevProcess {
 public:
  // Resources live in <dir>/kbs-resources; the log is <dir>/kbs-dev.log.
  KbsDevProcess(const std::string& dir, std::vector<std::string> extra) {
    port_file_ = dir + "/kbs-dev.port";
    log_ = dir + "/kbs-dev.log";
    std::vector<std::string> argv = {BinaryPath("kbs-dev/kbs-dev"),
                                     "--resource-dir",
                                     dir + "/kbs-resources",
                                     "--port-file",
                                     port_file_,
                                     "--insecure-admin"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = ChildProcess::Start(argv, {.log_path = log_});
    if (!child.ok()) return;
    child_ = std::move(child).value();
    // The port file appears when kbs-dev listens (an event in another process: polled in short steps).
    for (int i = 0; i < 2000 && child_->Running(); ++i) {  // up to 20 s
      std::string port = ReadFile(port_file_);
      if (!port.empty()) {
        url_ = "http://127.0.0.1:" + port;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~KbsDevProcess() {
    if (child_ != nullptr) child_->Stop(absl::Seconds(10));
  }
  const std::string& url() const { return url_; }
  std::string log() const { return ReadFile(log_); }

  int Post(const std::string& path, const std::string& body) {
    auto http = std::move(http::CurlHttpClient::New({})).value();
    auto r = http->Send({"POST", url_ + path, {{"Content-Type", "application/octet-stream"}}, body},
                        absl::Now() + absl::Seconds(10));
    return r.ok() ? r->status : -1;
  }
  nlohmann::json Stats() {
    auto http = std::move(http::CurlHttpClient::New({})).value();
    auto r = http->Send({"GET", url_ + "/kbs-dev/v0/stats", {}, ""}, absl::Now() + absl::Seconds(10));
    if (!r.ok()) return {};
    return ParseJson(r->body, "stats").value_or(nlohmann::json());
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string port_file_, log_, url_;
};

}  // namespace cdh::testing

#endif  // CDH_TESTS_KBS_DEV_PROCESS_H_
