// HTTP answers' headers the client keeps state from (http/cookie_jar.h): Set-Cookie lines from
// the broker (the KBS session cookie) with their attributes and paths, then the Cookie header
// sent for a few request paths. Input: up to 8 Set-Cookie values and a request path
// (FuzzedDataProvider). Property: the Cookie header never carries a line break.
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz/fuzz_util.h"
#include "http/cookie_jar.h"
#include "http/http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  cdh::http::CookieJar jar;
  const int rounds = in.ConsumeIntegralInRange<int>(1, 3);
  for (int round = 0; round < rounds; ++round) {
    cdh::http::HttpResponse response;
    response.status = 200;
    const int cookies = in.ConsumeIntegralInRange<int>(0, 8);
    for (int i = 0; i < cookies; ++i) {
      // One header line per value, as libcurl delivers them: no "\n" inside.
      std::string value = in.ConsumeRandomLengthString(200);
      std::erase(value, '\n');
      response.headers.emplace_back(in.ConsumeBool() ? "set-cookie" : "x-other", std::move(value));
    }
    const std::string request_path = in.ConsumeRandomLengthString(64);
    jar.Update(response, request_path);
    for (std::string_view path : {std::string_view("/kbs/v0/resource/a/b/c"), std::string_view("/kbs/v0/attest"),
                                  std::string_view(request_path)}) {
      const cdh::SecretBytes header = jar.HeaderFor(path);
      FUZZ_CHECK(header.RevealString().find_first_of("\r\n") == std::string_view::npos);
      (void)cdh::http::CookiePathMatches(path, request_path);
    }
    (void)jar.Has("kbs-session-id");
  }
  return 0;
}
