// Known-answer vectors of the KBS protocol (Trustee: confidential-containers/trustee
// kbs/docs/kbs_attestation_protocol.md, and the Rust client's tests in guest-components
// attestation-agent/kbs_protocol/), shared by the crypto, kbs-client and kbs-dev tests. Test keys only: they are
// public.
#ifndef CDH_TESTS_KBS_KAT_VECTORS_H_
#define CDH_TESTS_KBS_KAT_VECTORS_H_

namespace cdh::kat {

// §2.5: TEE key d = SHA-256("kbs-kat tee key"), nonce = base64(0x00..0x1f).
inline constexpr char kTeeJwk[] =
    R"({"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x":"OyWymcN15Jx3ZLYFXK3BJhycILN_Zy5HEOYW7o1Urvc","y":"g7rP1SDvHYqatF9tvKiKxo9f84G93qY8I_rDE0Otgjk"})";
inline constexpr char kTeeD[] = "0b2f6da117e18e535ae00d0469d9093e05ce29e8843002e9daec1c208829861a";
inline constexpr char kNonce[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
inline constexpr char kCanonicalRuntimeData[] =
    R"({"additional-evidence":"","nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"OyWymcN15Jx3ZLYFXK3BJhycILN_Zy5HEOYW7o1Urvc","y":"g7rP1SDvHYqatF9tvKiKxo9f84G93qY8I_rDE0Otgjk"}})";
inline constexpr char kRuntimeDataSha384Hex[] =
    "11e9a89b245ad292f26013972c254d300a5b939f0d176ddaf76ceef53614e5c24fef04ba21f29eb4d3d5d5860d86e8e3";
inline constexpr char kSampleReportData[] = "EemomyRa0pLyYBOXLCVNMApbk58NF23a92zu9TYU5cJP7wS6IfKetNPV1YYNhujj";
inline constexpr char kCanonicalDeviceRuntimeData[] =
    R"({"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"OyWymcN15Jx3ZLYFXK3BJhycILN_Zy5HEOYW7o1Urvc","y":"g7rP1SDvHYqatF9tvKiKxo9f84G93qY8I_rDE0Otgjk"}})";
inline constexpr char kDeviceReportData[] = "Tc2AlqRWJt6Dc01RFOruq2SqCpsLUdtwD4hrt8RYdvDLDVY2Dlsvrw51ULLHT6LU";
inline constexpr char kAttestBody[] =
    R"({"init-data":null,"runtime-data":{"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","tee-pubkey":{"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x":"OyWymcN15Jx3ZLYFXK3BJhycILN_Zy5HEOYW7o1Urvc","y":"g7rP1SDvHYqatF9tvKiKxo9f84G93qY8I_rDE0Otgjk"}},"tee-evidence":{"primary_evidence":{"svn":"1","report_data":"EemomyRa0pLyYBOXLCVNMApbk58NF23a92zu9TYU5cJP7wS6IfKetNPV1YYNhujj"},"additional_evidence":""}})";

// §3.6: plaintext "hello, kbs", CEK = 0x00..0x1f, IV = 0xa0..0xab.
inline constexpr char kPlaintext[] = "hello, kbs";
inline constexpr char kEcTeePem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCy9toRfhjlNa4A0E
adkJPgXOKeiEMALp2uwcIIgphhqhRANCAAQ7JbKZw3XknHdktgVcrcEmHJwgs39n
LkcQ5hbujVSu94O6z9Ug7x2KmrRfbbyoisaPX/OBvd6mPCP6wxNDrYI5
-----END PRIVATE KEY-----
)";
inline constexpr char kKbsEphemeralD[] = "7731ecbd88feb9fac1f8e0041d82f929fcc156a816eafeb5c1481e48c73002b0";
inline constexpr char kEcProtectedHeader[] =
    R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv":"P-256","kty":"EC","x":"6Vy4XDSbqb0-rv9_hSvTIyc5oZ133CWibCBqHSvxzgA","y":"nhogQ99KfU7kyyZOAqDwXuC7qa08UcmqkLkqlu4Qhh8"}})";
inline constexpr char kEcJwe[] =
    R"({"protected":"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJlcGsiOnsiY3J2IjoiUC0yNTYiLCJrdHkiOiJFQyIsIngiOiI2Vnk0WERTYnFiMC1ydjlfaFN2VEl5YzVvWjEzM0NXaWJDQnFIU3Z4emdBIiwieSI6Im5ob2dROTlLZlU3a3l5Wk9BcUR3WHVDN3FhMDhVY21xa0xrcWx1NFFoaDgifX0","encrypted_key":"7fqqXSfF_s4iw1nQkoSsmQTAEyYNxeFRoS_6fNf6iGeYjlxZLUBhJg","iv":"oKGio6Slpqeoqaqr","ciphertext":"jn0QQSrnItQAFg","tag":"-Zhp-KfG392TeFQeL_4PyQ"})";
inline constexpr char kRsaTeePem[] = R"(-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA2RnKfm6Gu9WEEE8zpiZZmUdgrh8IrYqQEm7/yWjeYZoeQjdE
ax0tE8JpJalYSQIrdIiH4ILYlzqoShYhZ3LnQ3i0JkpJdQb+DT9dIG+b1K+ohm3m
gk8jlvdrdgqt9+OMm0mLw7xWQNJlMkSVyFLjJr3vAyIvUgV/4mLY5g9tl+AQqi5/
mFgchgDFGCChcZrVu+MSHHsiZFTSWlDV22MxgfkIY+z5yNp27K4mSGbuW1rpUVQ/
xqwRhDmSJM+Yjb+37A3PdLm5AAkcJV8tIAQ1+YHpPAmode09XYxguHie302DwSKj
LxgrRNH/mYa6uwlbIEdCGv6UpRve1PRsrCspWQIDAQABAoIBAAYEJBOGHFN49qKN
kVK3whigbN5SY5cMjZLHMu0py+zUPKWs2qdlvPWs1+VYaKcISXw+mtZWxeoF8Psx
mw4e9eftoL9lZFz6+0ASexIOqbi2f/LuuXovt36j311bbSf/DSrR+k6rqc+8zNtc
YXK2Uk9k6MpTUJCjMKCtSNGySIESgk55Jm2XLn3aQl0Z1esVvhRKp9eUvpn7PmeF
apqJLZ1yxEPS15TkFk7Ipr5UU+Px39F3oYpCsrFvH0ozanjWJ7CmMhdJmEEpx9JE
OifFh40Jf7CuurQ0makRb44arj9+H3ZjCYU1YHA017aOSMdYkzcdIxsWKGxViIl6
SvxWAIECgYEA7wO5OlFPXHkULX2lVF7NLWWoJE0VdlwzDSBhQQ1k+1qKem8ZqcWw
DbQWk+geAJqPiSbtZk1xy+hIjv3xp08fyFpH0beoApxfb57T2CfLi8ICQXm1bIuP
qa8PZf+PzeFPSA/aqZI3jXbNIUBUkaWCGFV79tH+fSJQ/HSoU2RquYECgYEA6Idm
d1ZHD3DqzLrJP7qOxDlw/FSyhaQtoIodPArLf2rhSHfeDnNzinzyEFyBEfD3G0I/
qWdu5D2K0gRkGAIVFkXUeeQWumxTrFe9J4usk4NPakZ0Y4jHWcI+hFiQztp0SwU9
fJUWFwAks5TgASOTDsBiSJfP+G4zcQaMNImra9kCgYEAmje+1iAMotAE8u01NeEN
ZhNHkFSkWoBW+EtCNSUdWQksfJ8e4eoKFG10e+6zHRSdNJOHbhDeMgEogAreV2O4
UB/gYzKrFzQqZ+0FJ11V+lEt/202YFkUUxn/R4LEGMUd0JNaNTuA2Kgk5yWI64jt
DiJqH/GS0M7Jjnr++P+71QECgYEAyS91cWU9wFdjX9VwkGoaYh6M6lVhzI07SP6W
wr9YSJsx5iCICRrM6hKm4Y8XwW0qb/RG3ox2fpXcyU8xRzBuDEJIz1mQbKWTU7bq
GxAXNd5T1NC2nPPX/4o3ywxR5hdOrSYQh/z6CtZ96r6xfWrJLuc3YjWvo/O9IFqY
7k/6+CkCgYBMglAh1cSxquLZUC7gUOcPPCwtZRZcv6VKszWAg2tiFVtDNCwp2qPZ
mG8as0W1rgyIKf3v1Vt0Yh89ItPKjtGAcW4Zgxv0SrLmN4DjQW0WSDZt0yx5PNUJ
v+c90UgvHaHrj+1ruiXqbxfKY+zYysVGW2vz7yZWQBFvecDCyJMMlw==
-----END RSA PRIVATE KEY-----
)";
inline constexpr char kRsaTeeJwk[] =
    R"({"kty":"RSA","alg":"RSA-OAEP-256","n":"2RnKfm6Gu9WEEE8zpiZZmUdgrh8IrYqQEm7_yWjeYZoeQjdEax0tE8JpJalYSQIrdIiH4ILYlzqoShYhZ3LnQ3i0JkpJdQb-DT9dIG-b1K-ohm3mgk8jlvdrdgqt9-OMm0mLw7xWQNJlMkSVyFLjJr3vAyIvUgV_4mLY5g9tl-AQqi5_mFgchgDFGCChcZrVu-MSHHsiZFTSWlDV22MxgfkIY-z5yNp27K4mSGbuW1rpUVQ_xqwRhDmSJM-Yjb-37A3PdLm5AAkcJV8tIAQ1-YHpPAmode09XYxguHie302DwSKjLxgrRNH_mYa6uwlbIEdCGv6UpRve1PRsrCspWQ","e":"AQAB"})";
inline constexpr char kRsaJwe[] =
    R"({"protected":"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0","encrypted_key":"NVGqCZL0F9t_Mgl5ZusLkLPmx8lf2FZp1njB-oH8LB8Q9C5weAg9noh9ySyeDn604Nlb6S_1KXrS-wl1uRf5-XnCDkxt6DX_P2EgoRgug39vL8KXvBKQzZGWBpGbE_-VZm4WMvMVrybm9jmQOHaZjerI9ctErlhoVQnkkMHPWJr41NFhEeflM0hMNJWkQ01KdbfkoYI_x9ti94KM82Ig6pAhuOtJ2nidk3UXaGBMzzY3hnbpmBMUwh7N3n_MeWY40IVWf9iBTshMQqHP-lE3TEzJ8VY4rwDwibcIIgj9RmI-hVE4JVTlFJD-Xs0_7kKPFtIPLZ1fg1Y95sCTTYRDOQ","iv":"oKGio6Slpqeoqaqr","ciphertext":"jn0QQSrnItQAFg","tag":"NfU9VHi9rMZYDOc5R4ffgg"})";

// §8.1: admin token (Ed25519, exp 2082758400) and its public key.
inline constexpr char kAdminPublicKeyPem[] =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6aEJ0l2VkvgzDIirJsj2LgXCEEaxETmBbTK5Ka5c0v8=\n-----END PUBLIC "
    "KEY-----\n";
inline constexpr char kAdminToken[] =
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJUcnVzdGVlSW5Eb2NrZXIiLCJzdWIiOiJhZG1pbiIsImF1ZCI6WyJLQlMiXSwicm9sZSI6ImFkbWluIiwiaWF0IjoxNzY3MjI1NjAwLC"
    "JleHAiOjIwODI3NTg0MDB9.lvYOOGfpJKiVyN2EiBPJ2NLHWFq129b1tro99hI6hQYZw4dLIGsfozT3LAEgotAJtB8Pd0bk0-8tplgmR0dJDA";

}  // namespace cdh::kat

#endif  // CDH_TESTS_KBS_KAT_VECTORS_H_
