// What the Key Broker Service sends back during the RCAR handshake and on errors (KBS protocol
// 0.4.0, kbs-client/kbs_protocol.h): the /auth challenge, the /attest answer, the token's claims
// and problem bodies (a challenge's nonce is also carried into the runtime data), plus the depth-checked JSON reader
// they share. Every parser sees every input. Property: a parsed problem's detail stays within its documented bound.
#include "fuzz/fuzz_util.h"
#include "kbs-client/kbs_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = cdh::fuzz::AsView(data, size);
  (void)cdh::kbs::ParseProtocolJson(input, "fuzz input");
  // A challenge's nonce goes into the runtime data the evidence binds (§2), as the client does.
  absl::StatusOr<cdh::kbs::Challenge> challenge = cdh::kbs::ParseChallenge(input);
  if (challenge.ok()) {
    static const nlohmann::json jwk = {
        {"kty", "EC"}, {"crv", "P-256"}, {"alg", "ECDH-ES+A256KW"}, {"x", "AA"}, {"y", "AA"}};
    (void)cdh::kbs::RuntimeDataDigest(challenge->hash, challenge->nonce, jwk, "");
  }
  absl::StatusOr<cdh::SecretBytes> token = cdh::kbs::ParseAttestResponse(input);
  if (token.ok()) (void)cdh::kbs::ParseTokenClaims(token->RevealString());
  (void)cdh::kbs::ParseTokenClaims(input);
  std::optional<cdh::kbs::Problem> problem = cdh::kbs::ParseProblem(input);
  if (problem.has_value()) FUZZ_CHECK(problem->detail.size() <= cdh::kbs::kMaxProblemDetail);
  return 0;
}
