// FakeHttpClient: a scripted HttpClient for tests, shipped as library code (as tink ships
// FakeKmsClient). Each Send pops the next scripted answer (a response or a status); when
// the script is empty it repeats the last one. Records every request (tests may inspect the
// headers, which a real client never logs). Thread-safe.
#ifndef CDH_HTTP_FAKE_HTTP_CLIENT_H_
#define CDH_HTTP_FAKE_HTTP_CLIENT_H_

#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "http/http_client.h"

namespace cdh::http {

class FakeHttpClient : public HttpClient {
 public:
  void Answer(absl::StatusOr<HttpResponse> answer) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(answer));
  }
  // Clones of the requests sent so far, in order.
  std::vector<HttpRequest> requests() const {
    absl::MutexLock lock(&mu_);
    std::vector<HttpRequest> out;
    for (const HttpRequest& r : requests_) out.push_back(r.Clone());
    return out;
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request.Clone());
    if (script_.empty()) return absl::InternalError("FakeHttpClient: nothing scripted");
    absl::StatusOr<HttpResponse> answer = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return answer;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdh::http

#endif  // CDH_HTTP_FAKE_HTTP_CLIENT_H_
