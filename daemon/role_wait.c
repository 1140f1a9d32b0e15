/* cdh-role-wait: what a joined entry point becomes once the daemon serves its role
 * (daemon/role_control.h). The entry point (attestation-agent, api-server-rest or a second
 * confidential-data-hub) hands its role to the running daemon, puts its control connection on
 * file descriptor 3 and execs this program with its own argv, so the process the kata agent
 * started keeps its pid and its command line but maps a few pages instead of the whole daemon
 * binary and its libraries.
 *
 * It waits for the daemon to end the connection and exits with the status the daemon sent (one
 * byte; 0 after an orderly stop), or 1 when the connection ends without one (the daemon died).
 * SIGTERM/SIGINT/SIGHUP keep their default action and end this process only (role_control.h
 * says what the daemon does then).
 *
 * No C library: two system calls, made directly, on the architectures kata guests run (x86_64,
 * aarch64); elsewhere the build links it statically against libc instead (CMakeLists.txt). A
 * statically linked glibc program takes about 0.7 MiB resident, this one a few pages. */

enum { kControlFd = 3, kEintr = 4 };

#if defined(CDH_ROLE_WAIT_NOLIBC) && defined(__x86_64__)
enum { kSysRead = 0, kSysExit = 60 };
static long Syscall3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(CDH_ROLE_WAIT_NOLIBC) && defined(__aarch64__)
enum { kSysRead = 63, kSysExit = 93 };
static long Syscall3(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#endif

#if defined(CDH_ROLE_WAIT_NOLIBC)
/* read(2) and exit(2): -errno on failure, as the kernel returns them. */
static long ReadByte(unsigned char* byte) { return Syscall3(kSysRead, kControlFd, (long)byte, 1); }
static void __attribute__((noreturn)) Exit(int status) {
  for (;;) Syscall3(kSysExit, status, 0, 0);
}
#else
#include <errno.h>
#include <unistd.h>
static long ReadByte(unsigned char* byte) {
  long n = read(kControlFd, byte, 1);
  return n < 0 ? -errno : n;
}
static void __attribute__((noreturn)) Exit(int status) { _exit(status); }
#endif

static int Wait(void) {
  unsigned char status = 0;
  for (;;) {
    long n = ReadByte(&status);
    if (n == -kEintr) continue;
    return n == 1 ? status : 1;
  }
}

#if defined(CDH_ROLE_WAIT_NOLIBC)
void __attribute__((noreturn, used)) _start(void) { Exit(Wait()); }
#else
int main(void) { return Wait(); }
#endif
