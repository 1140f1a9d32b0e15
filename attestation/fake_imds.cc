#include "attestation/fake_imds.h"

#include <httplib.h>

#include "attestation/fake_tee_reports.h"
#include "attestation/hcl_report.h"
#include "common/base64.h"
#include "common/json.h"

namespace cdh::attestation {

FakeImds::FakeImds() : server_(std::make_unique<httplib::Server>()) {
  server_->Post("/acc/tdquote", [this](const httplib::Request& req, httplib::Response& res) {
    {
      absl::MutexLock lock(&mu_);
      ++td_quote_calls_;
    }
    if (req.get_header_value("Metadata") != "true") {
      res.status = 400;
      return;
    }
    auto body = ParseJson(req.body, "request");
    auto report = Base64StdDecode(body.ok() && body->is_object() ? body->value("report", "") : "");
    if (!report.ok() || report->size() != kTdReportSize) {
      res.status = 400;
      return;
    }
    std::string quote = FakeTdxQuoteV4(report->substr(kTdReportReportDataOffset, 64), std::string(48, '\0'));
    res.set_content(nlohmann::json{{"quote", Base64StdEncode(quote)}}.dump(), "application/json");
  });
  server_->Get("/metadata/THIM/amd/certification", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Metadata") != "true") {
      res.status = 400;
      return;
    }
    res.set_content(nlohmann::json{{"vcekCert", kVcekPem}, {"certificateChain", ""}}.dump(), "application/json");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::yield();  // stop() must not race the start
}

FakeImds::~FakeImds() {
  server_->stop();
  thread_.join();
}

}  // namespace cdh::attestation
