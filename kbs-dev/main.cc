// kbs-dev: a development Key Broker Service (see kbs-dev/kbs_dev_server.h). DEVELOPMENT ONLY.
#include <signal.h>

#include <cstdio>
#include <fstream>

#include "CLI/CLI.hpp"
#include "common/file_util.h"
#include "common/strings.h"
#include "kbs-dev/kbs_dev_server.h"

namespace {

constexpr char kBanner[] =
    "**********************************************************************\n"
    "*  kbs-dev: DEVELOPMENT ONLY.                                        *\n"
    "*  It trusts `sample` attestation evidence, which ANY process can    *\n"
    "*  forge. Every secret it holds is available to whoever asks.        *\n"
    "*  Never put real secrets in it; use Trustee's KBS in production.    *\n"
    "**********************************************************************\n";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kbs-dev: development KBS speaking Trustee's KBS protocol 0.4.0 (trusts sample evidence)"};
  cdh::kbsdev::KbsDevOptions options;
  int64_t token_lifetime = 300;
  int64_t session_lifetime = 300;
  std::string admin_key_file;
  std::string port_file;
  app.add_option("--resource-dir", options.resource_dir, "Directory of resources (Trustee LocalFs layout)")->required();
  app.add_option("--host", options.host, "Address to bind (default 127.0.0.1)");
  app.add_option("--port", options.port, "Port (0: any free port)");
  app.add_option("--port-file", port_file, "Write the bound port to this file");
  app.add_option("--token-lifetime", token_lifetime, "Token lifetime, seconds (default 300)");
  app.add_option("--session-lifetime", session_lifetime, "Session (cookie) lifetime, seconds (default 300)");
  app.add_flag("--insecure-admin", options.insecure_admin, "No authentication on admin endpoints (local use)");
  app.add_option("--admin-public-key", admin_key_file, "Ed25519 public key PEM verifying admin bearer JWTs");
  app.add_option("--tls-cert", options.tls_cert_file, "Serve HTTPS with this certificate (PEM)");
  app.add_option("--tls-key", options.tls_key_file, "Private key for --tls-cert (PEM)");
  app.add_flag("--strict-not-found", options.strict_not_found, "404 for a missing resource (Trustee answers 401)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  options.verifiers = cdh::attestation::DevelopmentVerifiers();  // tpm, az-*-vtpm
  options.token_lifetime = absl::Seconds(token_lifetime);
  options.session_lifetime = absl::Seconds(session_lifetime);
  if (!admin_key_file.empty()) {
    auto pem = cdh::ReadFileBounded(admin_key_file, 64 << 10);
    if (!pem.ok()) {
      std::fprintf(stderr, "kbs-dev: %s\n", std::string(cdh::ToStd(pem.status().message())).c_str());
      return 2;
    }
    options.admin_public_key_pem = *pem;
  }
  std::fputs(kBanner, stderr);

  // Block the stop signals before starting threads, then wait for one.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto server = cdh::kbsdev::KbsDevServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "kbs-dev: %s\n", std::string(cdh::ToStd(server.status().message())).c_str());
    return 1;
  }
  if (!port_file.empty()) {
    auto s = cdh::WriteFileAtomic(port_file, std::to_string((*server)->port()), 0644);
    if (!s.ok()) {
      std::fprintf(stderr, "kbs-dev: cannot write the port file\n");
      return 1;
    }
  }
  std::printf("kbs-dev listening on %s (admin auth %s)\n", (*server)->url().c_str(),
              options.insecure_admin ? "OFF" : "on");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "kbs-dev: stopping (stats %s)\n", (*server)->stats().ToJson().dump().c_str());
  (*server)->Stop();
  return 0;
}
