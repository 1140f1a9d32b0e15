// SecureMount's options (storage/block_device_options.h): the string map the kata agent passes
// for a block-device volume (sourceType, targetType, key, deviceId, mkfsOpts, ...), then the
// mkfs.ext4 argv built from it. Input: up to 12 key/value pairs, each key from the known set or
// arbitrary (FuzzedDataProvider). Properties: the device is the argv's last element, and no
// option becomes an argv element before `-F -q` (mkfs.ext4's own flags come first).
#include <map>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz/fuzz_util.h"
#include "storage/block_device_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kKeys[] = {"sourceType", "targetType", "encryptionType", "key",           "deviceId",
                                      "devicePath", "mkfsOpts",   "filesystemType", "dataIntegrity", "mapperName"};
  FuzzedDataProvider in(data, size);
  std::map<std::string, std::string> options;
  const int pairs = in.ConsumeIntegralInRange<int>(0, 12);
  for (int i = 0; i < pairs; ++i) {
    std::string key = in.ConsumeBool() ? std::string(kKeys[in.ConsumeIntegralInRange<size_t>(0, 9)])
                                       : in.ConsumeRandomLengthString(24);
    options[std::move(key)] = in.ConsumeRandomLengthString(128);
  }
  absl::StatusOr<cdh::storage::BlockDeviceOptions> parsed = cdh::storage::ParseBlockDeviceOptions(options);
  if (!parsed.ok()) return 0;
  const std::string device = "/dev/mapper/fuzz";
  std::vector<std::string> argv = cdh::storage::Ext4MkfsArgv(parsed->mkfs_opts, parsed->data_integrity, device);
  FUZZ_CHECK(argv.size() >= 4);
  FUZZ_CHECK(argv.back() == device);
  FUZZ_CHECK(argv[1] == "-F" && argv[2] == "-q");
  return 0;
}
