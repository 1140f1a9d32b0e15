// cdh-tool: a client for people debugging a guest — calls the data hub's API the way the kata
// agent does, over ttrpc (--ttrpc, the agent's transport) or gRPC. Secrets are read from files
// or stdin, never from argv, and plaintexts go to stdout or a 0600 file.
//
// unseal-dir DIR does to a directory what the kata agent does to a pod's secret volume
// (tools/unseal_dir.h), so the README's main job can be reproduced without Kubernetes.
#include <unistd.h>

#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>

#include "common/file_util.h"
#include "common/strings.h"
#include "daemon/config.h"
#include "tools/cdh_client.h"
#include "tools/unseal_dir.h"

namespace {

constexpr char kDefaultGrpcSocket[] = "unix:///run/confidential-containers/cdh-grpc.sock";

int Fail(std::string_view what, const absl::Status& status) {
  std::cerr << "cdh-tool: " << what << " failed: " << absl::StatusCodeToString(status.code()) << ": "
            << cdh::ToStd(status.message()) << std::endl;
  return 1;
}

int Output(std::string_view bytes, const std::string& out_path) {
  if (out_path.empty() || out_path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return 0;
  }
  if (auto s = cdh::WriteFileAtomic(out_path, bytes, 0600); !s.ok()) return Fail("writing the output", s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Call the Confidential Data Hub API over ttrpc (as the kata agent) or gRPC", "cdh-tool"};
  std::string socket;
  bool use_ttrpc = false;
  int timeout_s = 50;
  app.add_flag("--ttrpc", use_ttrpc,
               "Speak ttrpc, the kata agent's protocol (default socket " + std::string(cdh::kDefaultTtrpcSocket) + ")");
  app.add_option("--socket", socket,
                 "Data hub address, unix:///path or /path (default: the gRPC socket " +
                     std::string(kDefaultGrpcSocket) + ", or the ttrpc one with --ttrpc)");
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

  auto* mount = app.add_subcommand("secure-mount", "SecureMount: ask the hub to mount an encrypted volume");
  std::string volume_type, mount_point;
  std::vector<std::string> mount_options, mount_flags;
  mount->add_option("--volume-type", volume_type, "Volume type, e.g. block-device or alibaba-cloud-oss")->required();
  mount->add_option("--option", mount_options, "Driver option KEY=VALUE (repeatable; cdh-api.md §11)");
  mount->add_option("--flag", mount_flags, "Mount flag (repeatable)");
  mount->add_option("--mount-point", mount_point, "Where to mount")->required();

  auto* unmount = app.add_subcommand("unmount", "Unmount (cdh.ext.SecureMountExtService): undo a SecureMount");
  unmount->add_option("--mount-point", mount_point, "The mount point given to secure-mount")->required();

  auto* unseal_dir =
      app.add_subcommand("unseal-dir",
                         "Do what the kata agent does to a secret volume: replace each file whose content starts with "
                         "`sealed.` by a link to its plaintext (<target>.unsealed)");
  std::string dir;
  unseal_dir->add_option("dir", dir, "The secret volume directory")->required();

  auto* pull = app.add_subcommand("pull-image",
                                  "PullImage: pull an image into BUNDLE/rootfs (prints the manifest "
                                  "digest; use --timeout 1200 as the kata agent does)");
  std::string image_url, bundle_path;
  pull->add_option("image", image_url, "Image reference, e.g. registry.example/app:v1")->required();
  pull->add_option("bundle", bundle_path, "Bundle directory (absolute); the rootfs is BUNDLE/rootfs")->required();

  CLI11_PARSE(app, argc, argv);
  if (socket.empty()) socket = use_ttrpc ? cdh::kDefaultTtrpcSocket : kDefaultGrpcSocket;
  if (socket.starts_with('/')) socket = "unix://" + socket;  // a bare absolute path is accepted too
  auto address = cdh::UnixSocketAddress::Parse(socket);
  if (!address.ok()) return Fail("--socket", address.status());
  absl::Duration timeout = absl::Seconds(timeout_s);
  // Both wait (within the timeout) for a daemon that is not listening yet.
  auto client =
      use_ttrpc ? cdh::tool::NewTtrpcCdhClient(*address, timeout) : cdh::tool::NewGrpcCdhClient(*address, timeout);
  if (!client.ok()) return Fail("connecting to the data hub", client.status());

  if (unseal->parsed()) {
    std::string sealed;
    if (in_path == "-") {
      sealed.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto text = cdh::ReadFileBounded(in_path, 4 << 20);
      if (!text.ok()) return Fail("reading the sealed secret", text.status());
      sealed = *text;
    }
    auto plaintext = (*client)->UnsealSecret(sealed, timeout);
    if (!plaintext.ok()) return Fail("UnsealSecret", plaintext.status());
    return Output(plaintext->RevealString(), out_path);
  }
  if (get->parsed()) {
    auto resource = (*client)->GetResource(uri, timeout);
    if (!resource.ok()) return Fail("GetResource", resource.status());
    return Output(resource->RevealString(), out_path);
  }
  if (mount->parsed()) {
    api::SecureMountRequest req;
    req.set_volume_type(volume_type);
    for (const std::string& kv : mount_options) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) return Fail("parsing --option", absl::InvalidArgumentError("want KEY=VALUE"));
      (*req.mutable_options())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const std::string& f : mount_flags) req.add_flags(f);
    req.set_mount_point(mount_point);
    absl::Status s = (*client)->SecureMount(req, timeout);
    if (!s.ok()) return Fail("SecureMount", s);
    std::cout << "mounted " << mount_point << std::endl;
    return 0;
  }
  if (pull->parsed()) {
    auto digest = (*client)->PullImage(image_url, bundle_path, timeout);
    if (!digest.ok()) return Fail("PullImage", digest.status());
    std::cout << *digest << std::endl;
    return 0;
  }
  if (unmount->parsed()) {
    absl::Status s = (*client)->Unmount(mount_point, timeout);
    if (!s.ok()) return Fail("Unmount", s);
    std::cout << "unmounted " << mount_point << std::endl;
    return 0;
  }
  if (unseal_dir->parsed()) {
    auto report =
        cdh::tool::UnsealDir(dir, [&](std::string_view sealed) { return (*client)->UnsealSecret(sealed, timeout); });
    if (!report.ok()) return Fail("unseal-dir", report.status());
    for (const auto& e : report->entries) {
      if (e.status.ok()) {
        std::cout << "unsealed " << e.name << " -> " << e.unsealed_path << std::endl;
      } else {
        Fail(cdh::StrCat("unsealing ", e.name), e.status);
      }
    }
    if (report->entries.empty()) std::cout << "no sealed secrets in " << dir << std::endl;
    return report->AllOk() ? 0 : 1;
  }
  return 0;
}
