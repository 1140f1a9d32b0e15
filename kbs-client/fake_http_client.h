// FakeHttpClient: a scripted HttpClient for tests (a fake shipped as library code,
// ../shared/STYLE.md). Each Send pops the next scripted answer (a response or a status); when
// the script is empty it repeats the last one. Records every request (tests may inspect the
// headers, which a real client never logs). Thread-safe.
#ifndef CDH_KBS_CLIENT_FAKE_HTTP_CLIENT_H_
#define CDH_KBS_CLIENT_FAKE_HTTP_CLIENT_H_

#include <deque>
#include <mutex>
#include <vector>

#include "kbs-client/http_client.h"

namespace cdh::kbs {

class FakeHttpClient : public HttpClient {
 public:
  void Answer(absl::StatusOr<HttpResponse> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(answer));
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) return absl::InternalError("FakeHttpClient: nothing scripted");
    absl::StatusOr<HttpResponse> answer = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return answer;
  }

 private:
  mutable std::mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> script_;
  std::vector<HttpRequest> requests_;
};

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_FAKE_HTTP_CLIENT_H_
