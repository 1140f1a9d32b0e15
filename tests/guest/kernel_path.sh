# Guest side, first boot of kernel_path_test.py: SecureMount on the kernel (dm-crypt,
# dm-integrity) data path of a real guest kernel, through the build tree's daemon and cdh-tool.
# Disks (env): IMG512 IMG4096 (cryptsetup-made: 512-byte sectors/pbkdf2, 4096/argon2id),
# HOSTILE_* (copies with hostile headers), EMPTY_PLAIN, EMPTY_INTEGRITY, TAMPER (blank disks),
# CARRY (carries TAMPER's detached header to the second boot). CDH_DATA: keys, expected hashes.
set -u
source "$CDH_GUEST_RIG/lib.sh"
load_modules
start_daemon || { fail daemon_start "see the console"; exit 1; }
grep -q "uses the kernel data path" "$CDH_RUN/daemon.log" && pass daemon_kernel_path "logged at start" ||
  fail daemon_kernel_path "$(grep 'data path' "$CDH_RUN/daemon.log")"
D=$CDH_DATA
mkdir -p /run/mnt

# --- cryptsetup-made images (512/pbkdf2, 4096/argon2id), both at once, read back exactly ----------
mount_vol /run/mnt/v512 devicePath="$IMG512" sourceType=encrypted targetType=device key="file://$D/k512"
rc1=$?
mount_vol /run/mnt/v4096 devicePath="$IMG4096" sourceType=encrypted targetType=device key="file://$D/k4096" \
  mapperName=guest-named
rc2=$?
n=$(dm_names | wc -l)
check two_volumes_at_once "mounts rc $rc1/$rc2, $n mappings: $(dm_names | tr '\n' ' ')" \
  test $rc1 -eq 0 -a $rc2 -eq 0 -a "$n" -eq 2
s512=$(device_sha /run/mnt/v512 "$(cat $D/plain_bytes)")
check cryptsetup_512_pbkdf2_reads_back "sha $s512" test "$s512" = "$(cat $D/plain512.sha)"
s4096=$(device_sha /run/mnt/v4096 "$(cat $D/plain_bytes)")
check cryptsetup_4096_argon2id_reads_back "sha $s4096" test "$s4096" = "$(cat $D/plain4096.sha)"
check mapper_name_honoured "$(readlink /run/mnt/v4096)" \
  test "$(readlink /run/mnt/v4096)" = /dev/mapper/guest-named -a -b /dev/mapper/guest-named
check sector_size_4096_in_table "$(dmsetup table guest-named 2>&1)" \
  bash -c "dmsetup table guest-named | grep -q 'sector_size:4096'"
unmount_vol /run/mnt/v512 && unmount_vol /run/mnt/v4096
rc=$?
check unmount_removes_mapping "rc $rc, left: $(dm_names | tr '\n' ' ')" \
  test $rc -eq 0 -a -z "$(dm_names)" -a ! -e /run/mnt/v512

# --- refusals leave no mapping ------------------------------------------------------------------
mkdir -p /run/mnt/fs
mount_vol /run/mnt/fs devicePath="$IMG512" sourceType=encrypted targetType=fileSystem key="file://$D/k512"
rc=$?
left=$(dm_names | tr '\n' ' ')
is_mounted /run/mnt/fs && mounted=yes || mounted=no
# The plaintext is no ext4: the mount fails after dm-crypt was activated, which is rolled back.
check failed_mount_leaves_no_mapping "rc $rc ($(last_code)), mounted $mounted, left: [$left]" \
  test $rc -ne 0 -a -z "$left" -a $mounted = no
mount_vol /run/mnt/fs devicePath="$IMG512" sourceType=encrypted targetType=device key="file://$D/k4096"
check wrong_key_refused "$(last_code)" test "$(last_code)" = PERMISSION_DENIED -a -z "$(dm_names)"
mount_vol /run/mnt/v512 devicePath="$IMG512" sourceType=encrypted targetType=device key="file://$D/k512" \
  dataIntegrity=true
check integrity_asked_on_plain_volume_refused "$(last_code)" \
  test "$(last_code)" = FAILED_PRECONDITION -a -z "$(dm_names)" -a ! -e /run/mnt/v512
for h in $HOSTILE_NAMES; do
  dev_var="HOSTILE_$h"
  mount_vol /run/mnt/v512 devicePath="${!dev_var}" sourceType=encrypted targetType=device key="file://$D/k512"
  msg=$(head -c 200 "$CDH_RUN/last.err")
  # Refused by our allow-list ("LUKS2 header: <field>"), before libcryptsetup saw the header.
  [[ "$msg" == *"LUKS2 header: "* ]] && ours=yes || ours=no
  check "hostile_header_refused_$h" "$(last_code), by the allow-list: $ours: $msg" \
    test "$(last_code)" = INVALID_ARGUMENT -a $ours = yes -a -z "$(dm_names)" -a ! -e /run/mnt/v512
done

# --- sourceType=empty without and with integrity: format, write, unmount, reopen ------------------
roundtrip() {  # NAME DEVICE EXTRA_OPTION...
  local name=$1 dev=$2
  shift 2
  mkdir -p /run/mnt/$name
  local before
  before=$(dm_names | tr '\n' ' ')
  mount_vol /run/mnt/$name devicePath="$dev" sourceType=empty targetType=fileSystem key="file://$D/kempty" "$@" ||
    { fail "${name}_format_write_reopen" "format: $(cat $CDH_RUN/last.err)"; return; }
  head -c 3000000 "$D/pattern" >/run/mnt/$name/data.bin && echo "hello $name" >/run/mnt/$name/hello.txt && sync
  local table
  table=$(dmsetup table 2>&1 | tr '\n' ';')
  unmount_vol /run/mnt/$name || { fail "${name}_format_write_reopen" "unmount failed"; return; }
  local left
  left=$(dm_names | tr '\n' ' ')
  mount_vol /run/mnt/$name devicePath="$dev" sourceType=encrypted targetType=fileSystem key="file://$D/kempty" "$@" ||
    { fail "${name}_format_write_reopen" "reopen: $(cat $CDH_RUN/last.err)"; return; }
  local got want
  got=$(sha_of </run/mnt/$name/data.bin)
  want=$(head -c 3000000 "$D/pattern" | sha_of)
  check "${name}_format_write_reopen" "devices before [$before], after unmount [$left]; table: $table" \
    test "$got" = "$want" -a "$(cat /run/mnt/$name/hello.txt)" = "hello $name" -a "$left" = "$before"
  TABLE_OF_LAST=$table
}
TABLE_OF_LAST=""
roundtrip empty_plain "$EMPTY_PLAIN"
case "$TABLE_OF_LAST" in *integrity*) fail empty_plain_has_no_integrity "$TABLE_OF_LAST" ;;
  *) pass empty_plain_has_no_integrity "" ;; esac
roundtrip empty_integrity "$EMPTY_INTEGRITY" dataIntegrity=true
if [[ "$TABLE_OF_LAST" == *" integrity "* && "$TABLE_OF_LAST" == *"hmac(sha256)"* ]]; then
  pass empty_integrity_uses_dm_integrity ""
else
  fail empty_integrity_uses_dm_integrity "$TABLE_OF_LAST"
fi
# ext4 made without lazy inode-table init (upstream's lazy_itable_init=0 with integrity): every
# group's inode table is zeroed at mkfs, so no unwritten (tag-less) block is read later.
src=$(findmnt -n -o SOURCE /run/mnt/empty_integrity)
groups=$(dumpe2fs "$src" 2>/dev/null | grep -c '^Group ')
zeroed=$(dumpe2fs "$src" 2>/dev/null | grep '^Group ' | grep -c ITABLE_ZEROED)
check integrity_ext4_without_lazy_init "$zeroed of $groups groups ITABLE_ZEROED ($src)" \
  test "$groups" -gt 0 -a "$zeroed" = "$groups"

# --- integrity volume for the tamper test: wiped on format, pattern written, header carried -------
mount_vol /run/mnt/tamper devicePath="$TAMPER" sourceType=empty targetType=device key="file://$D/kempty" \
  dataIntegrity=true
rc=$?
size=$(blockdev --getsize64 /run/mnt/tamper 2>/dev/null || echo 0)
check integrity_format_target_device "rc $rc, plaintext $size bytes" test $rc -eq 0 -a "$size" -gt 0
# Every sector reads (no tag failure on never-written sectors): the device was wiped.
dd if=/run/mnt/tamper of=/dev/null bs=1M iflag=direct 2>"$CDH_RUN/dd.err"
rc=$?
check integrity_unwritten_sectors_read "dd rc $rc $(tail -1 $CDH_RUN/dd.err)" test $rc -eq 0
head -c "$size" "$D/pattern" | dd of=/run/mnt/tamper bs=1M iflag=fullblock oflag=direct 2>/dev/null
check integrity_pattern_written "" test "$(device_sha /run/mnt/tamper "$size")" = "$(head -c "$size" "$D/pattern" | sha_of)"
echo "$size" >"$CDH_RUN/tamper_size"
unmount_vol /run/mnt/tamper
hdr="$CDH_RUN/base/luks-headers/$(printf '%s' "$TAMPER" | base64 -w0 | tr '+/' '-_' | tr -d '=').header"
# CARRY: the detached header (16 MiB) at 0, the plaintext size at 20 MiB (the header lives in
# guest tmpfs as upstream keeps it; the test carries it to the second boot).
dd if="$hdr" of="$CARRY" bs=1M conv=fsync 2>/dev/null
printf '%016d' "$size" | dd of="$CARRY" bs=1 seek=$((20 << 20)) conv=notrunc,fsync 2>/dev/null
check header_carried "$(stat -c %s "$hdr" 2>&1)" test "$(stat -c %s "$hdr" 2>/dev/null)" = 16777216

# --- shutdown tears every volume down -------------------------------------------------------------
mount_vol /run/mnt/v512 devicePath="$IMG512" sourceType=encrypted targetType=device key="file://$D/k512"
mount_vol /run/mnt/empty_integrity devicePath="$EMPTY_INTEGRITY" sourceType=encrypted targetType=fileSystem \
  key="file://$D/kempty" dataIntegrity=true
before=$(dm_names | tr '\n' ' ')
stop_daemon
rc=$?
left=$(dm_names | tr '\n' ' ')
grep -q ' /run/mnt/' /proc/self/mountinfo && mounted=yes || mounted=no
check shutdown_tears_down "daemon rc $rc; before [$before] after [$left], mounts left: $mounted" \
  test $rc -eq 0 -a -z "$left" -a $mounted = no -a ! -e /run/mnt/v512
exit 0
