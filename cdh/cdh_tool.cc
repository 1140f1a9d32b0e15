// cdh-tool: a client for people debugging a guest — calls the data hub's API the way the kata
// agent does. Secrets are read from files or stdin, never from argv, and plaintexts go to
// stdout or a 0600 file.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <iostream>
#include <iterator>

#include "absl/status/status.h"
#include "common/file_util.h"
#include "proto/api.grpc.pb.h"

namespace {

constexpr char kDefaultSocket[] = "unix:///run/confidential-containers/cdh-grpc.sock";

int Fail(std::string_view what, const grpc::Status& status) {
  std::cerr << "cdh-tool: " << what << " failed: "
            << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
            << status.error_message() << std::endl;
  return 1;
}

int Output(const std::string& bytes, const std::string& out_path) {
  if (out_path.empty() || out_path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return 0;
  }
  if (auto s = cdh::WriteFileAtomic(out_path, bytes, 0600); !s.ok()) {
    std::cerr << "cdh-tool: " << s.message() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Call the Confidential Data Hub API (gRPC)", "cdh-tool"};
  std::string socket = kDefaultSocket;
  int timeout_s = 50;
  app.add_option("--socket", socket, "Data hub address, unix:///path")->capture_default_str();
  app.add_option("--timeout", timeout_s, "Per-call timeout in seconds (the kata agent uses 50)")->capture_default_str();
  app.require_subcommand(1);

  auto* unseal = app.add_subcommand("unseal", "UnsealSecret: unseal a sealed secret read from a file or stdin");
  std::string in_path = "-", out_path = "-";
  unseal->add_option("-f,--file", in_path, "File holding the sealed secret (- for stdin)")->capture_default_str();
  unseal->add_option("-o,--output", out_path, "Where to write the plaintext (- for stdout; files get mode 0600)")
      ->capture_default_str();

  auto* get = app.add_subcommand("get-resource", "GetResource: fetch a resource by KBS resource URI");
  std::string uri;
  get->add_option("uri", uri, "Resource URI, e.g. kbs:///default/key/1")->required();
  get->add_option("-o,--output", out_path, "Where to write the resource (- for stdout)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  std::string target = socket.rfind("unix://", 0) == 0 ? "unix:" + socket.substr(7) : socket;
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  // Wait for the socket to appear (a client started before the daemon, field case R4).
  ctx.set_wait_for_ready(true);

  if (unseal->parsed()) {
    std::string sealed;
    if (in_path == "-") {
      sealed.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto text = cdh::ReadFileBounded(in_path, 4 << 20);
      if (!text.ok()) {
        std::cerr << "cdh-tool: " << text.status().message() << std::endl;
        return 1;
      }
      sealed = *text;
    }
    api::UnsealSecretInput req;
    req.set_secret(sealed);
    api::UnsealSecretOutput resp;
    grpc::Status st = api::SealedSecretService::NewStub(channel)->UnsealSecret(&ctx, req, &resp);
    if (!st.ok()) return Fail("UnsealSecret", st);
    return Output(resp.plaintext(), out_path);
  }
  if (get->parsed()) {
    api::GetResourceRequest req;
    req.set_resourcepath(uri);
    api::GetResourceResponse resp;
    grpc::Status st = api::GetResourceService::NewStub(channel)->GetResource(&ctx, req, &resp);
    if (!st.ok()) return Fail("GetResource", st);
    return Output(resp.resource(), out_path);
  }
  return 0;
}
