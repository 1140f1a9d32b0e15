// Test vectors of upstream CDH (confidential-containers/guest-components, the sealed-secret
// fixtures of confidential-data-hub/hub/src/secret/ and kata's CI,
// kata-containers/kata-containers tests/integration/kubernetes/), shared by every test that needs them.
#ifndef CDH_TESTS_SPEC_VECTORS_H_
#define CDH_TESTS_SPEC_VECTORS_H_

namespace cdh::testing {

// Vector 1: the kata CI fixture (signed vault secret, KBS-URI kid) and its public key, stored at
// kbs:///default/signing-key/sealed-secret; the secret is at default/sealed-secret/test.
inline constexpr char kKataSealed[] =
    "sealed.eyJiNjQiOnRydWUsImFsZyI6IkVTMjU2Iiwia2lkIjoia2JzOi8vL2RlZmF1bHQvc2lnbmluZy1rZXkvc2VhbGVkLXNlY3JldCJ9."
    "eyJ2ZXJzaW9uIjoiMC4xLjAiLCJ0eXBlIjoidmF1bHQiLCJuYW1lIjoia2JzOi8vL2RlZmF1bHQvc2VhbGVkLXNlY3JldC90ZXN0Iiwic"
    "HJvdmlkZXIiOiJrYnMiLCJwcm92aWRlcl9zZXR0aW5ncyI6e30sImFubm90YXRpb25zIjp7fX0."
    "ZI2fTv5ramHqHQa9DKBFD5hlJ_Mjf6cEIcpsNGshpyhEiKklML0abfH600TD7LAFHf53oDIJmEcVsDtJ20UafQ";
inline constexpr char kKataPublicJwk[] =
    R"({"alg":"ES256","crv":"P-256","kid":"sealed-secret-test-key","kty":"EC","use":"sig",)"
    R"("x":"4jH376AuwTUCIx65AJ_56D7SZzWf7sGcEA7_Csq21UM","y":"rjdceysnSa5ZfzWOPGCURMUuHndxBAGUu4ISTIVN0yA"})";

// Vector 2: signed vault secret with the local kid "test-key" (guest-components' unit-test key);
// the secret is at one/2/trois.
inline constexpr char kLocalSealed[] =
    "sealed.eyJiNjQiOnRydWUsImFsZyI6IkVTMjU2Iiwia2lkIjoidGVzdC1rZXkifQ."
    "eyJ2ZXJzaW9uIjoiMC4xLjAiLCJ0eXBlIjoidmF1bHQiLCJuYW1lIjoia2JzOi8vL29uZS8yL3Ryb2lzIiwicHJvdmlkZXIiOiJrYnMi"
    "LCJwcm92aWRlcl9zZXR0aW5ncyI6e30sImFubm90YXRpb25zIjp7fX0."
    "Yktcx2fRWHvD9cV-2OqbwtaALJgaEfdLjGMkkeqvmAAR-pyqdPPnuIbeicCjnMRJRPIXGSl1IpUr-GRD5ZNbeg";
inline constexpr char kTestPrivateJwk[] =
    R"({"kty":"EC","crv":"P-256","d":"7baJLiTk68NcLgYPv05jJvElqoAhbzi1ZWx4OyILUtA",)"
    R"("x":"QT3_slJmispaOwnAo6hxebXGLRuiveFuRCLpS4j4S4k","y":"jcDn4N4nRBQ-a7_D3qjqtb6hwOAXh_ve1wvibPSi1G0"})";
inline constexpr char kTestPublicJwk[] =
    R"({"kty":"EC","crv":"P-256","x":"QT3_slJmispaOwnAo6hxebXGLRuiveFuRCLpS4j4S4k","y":"jcDn4N4nRBQ-a7_D3qjqtb6hwOAXh_ve1wvibPSi1G0"})";

// Vector 3: signed envelope secret (kid "test-key"); a mock KMS returning DEK = 0x00..0x1f for
// key id "key-test" and wrapped key "opaque-kms-ciphertext" opens it to "hello-cdh".
inline constexpr char kEnvelopeSealed[] =
    "sealed.eyJiNjQiOnRydWUsImFsZyI6IkVTMjU2Iiwia2lkIjoidGVzdC1rZXkifQ."
    "eyJ2ZXJzaW9uIjoiMC4xLjAiLCJ0eXBlIjoiZW52ZWxvcGUiLCJrZXlfaWQiOiJrZXktdGVzdCIsImVuY3J5cHRlZF9rZXkiOiJiM0JoY1hWb"
    "ExXdHRjeTFqYVhCb1pYSjBaWGgwIiwiZW5jcnlwdGVkX2RhdGEiOiJMMmU2ZDZySW9YL2xNVDFqUEJFUXgzY3djdkQvaFpuSFpnPT0iLCJ3cm"
    "FwX3R5cGUiOiJBMjU2R0NNIiwiaXYiOiJBQUVDQXdRRkJnY0lDUW9MIiwicHJvdmlkZXIiOiJhbGl5dW4iLCJwcm92aWRlcl9zZXR0aW5ncyI6"
    "eyJjbGllbnRfdHlwZSI6ImNsaWVudF9rZXkiLCJjbGllbnRfa2V5X2lkIjoiS0FBUC50ZXN0Iiwia21zX2luc3RhbmNlX2lkIjoia3N0LXRlc3"
    "QifSwiYW5ub3RhdGlvbnMiOnsiaXYiOiJhMjF6TFhOcFpHVXRhWFloIn19."
    "ZsDWjgLcN3OMOQ7rVQYWBZrXeFFyNVyjKKLrv_LRUxp2D0aRLr45DZv48ylL04Ua7U-VOd8ovTmFTgYuhwLaOA";

// Vector 4: the legacy unsigned string (only with skip_sealed_secret_verification = true).
inline constexpr char kLegacySealed[] =
    "sealed.fakejwsheader.eyJ2ZXJzaW9uIjoiMC4xLjAiLCJ0eXBlIjoidmF1bHQiLCJuYW1lIjoia2JzOi8vL2RlZmF1bHQvc2VhbGVkLXNl"
    "Y3JldC90ZXN0IiwicHJvdmlkZXIiOiJrYnMiLCJwcm92aWRlcl9zZXR0aW5ncyI6e30sImFubm90YXRpb25zIjp7fX0.fakesignature";

}  // namespace cdh::testing

#endif  // CDH_TESTS_SPEC_VECTORS_H_
