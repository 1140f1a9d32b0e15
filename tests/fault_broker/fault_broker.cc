#include "tests/fault_broker/fault_broker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/time/clock.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "http/curl_http_client.h"
#include "tests/test_util.h"

namespace cdh::testing {

absl::StatusOr<std::unique_ptr<FaultBroker>> FaultBroker::Start() {
  std::unique_ptr<FaultBroker> b(new FaultBroker());
  auto child =
      ChildProcess::Start({"/usr/bin/python3", SourcePath("tests/fault_broker/fault_broker.py"), b->dir_.path()},
                          {.log_path = b->dir_.File("broker.log")});
  if (!child.ok()) return child.status();
  b->child_ = std::move(child).value();
  // The ports file appears when the broker listens (an event in another process: polled).
  for (absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end && b->child_->Running();) {
    std::string text = ReadFile(b->dir_.File("ports.json"));
    if (!text.empty()) {
      b->ports_ = nlohmann::json::parse(text, nullptr, false);
      if (b->ports_.is_object()) return b;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::UnavailableError(StrCat("fault broker did not start: ", b->Log()));
}

FaultBroker::~FaultBroker() {
  if (child_ != nullptr) child_->Stop(absl::Seconds(5));
}

std::string FaultBroker::url() const { return StrCat("http://127.0.0.1:", ports_.value("plain", 0)); }
std::string FaultBroker::tls_url(const std::string& which) const {
  return StrCat("https://127.0.0.1:", ports_.value("tls_" + which, 0));
}
std::string FaultBroker::ca_pem() const { return ReadFile(dir_.File("ca.pem")); }
std::string FaultBroker::other_ca_pem() const { return ReadFile(dir_.File("other_ca.pem")); }
std::string FaultBroker::Log() const { return ReadFile(dir_.File("broker.log")); }

void FaultBroker::SetMode(const std::string& mode) {
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto r = http->Send({"POST", url() + "/control/mode", {}, mode}, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(r.ok() && r->status == 200) << "fault broker: mode " << mode << " not set";
}

nlohmann::json FaultBroker::Stats() {
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto r = http->Send({"GET", url() + "/control/stats", {}, ""}, absl::Now() + absl::Seconds(10));
  if (!r.ok() || r->status != 200) return nlohmann::json::object();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::string RefusingUrl() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);  // bound, never listened: connects are refused
  return StrCat("http://127.0.0.1:", port);
}

}  // namespace cdh::testing
