// cdhinterop: a ttrpc client built from Debian's containerd/ttrpc (Go), behaving like the kata
// agent towards the Confidential Data Hub (cdh-api.md §3.3, §14): ONE connection, several calls
// in flight on it at once, a 50 s timeout on each call (agent.cdh_api_timeout). It checks the
// codes and payloads of UnsealSecret, GetResource, a bad SecureMount and unknown
// methods/services, and exits non-zero on the first mismatch.
//
// Built offline in GOPATH mode (GO111MODULE=off, GOPATH=<this dir's parent>:/usr/share/gocode), with tests/go/src/ttrpcwire,
// against Debian's golang-github-containerd-ttrpc-dev (tests/ttrpc/CMakeLists.txt). Messages are encoded by hand (field numbers of
// cdh-api.md §2.1) and passed through ttrpc's gogo codec as raw bytes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"ttrpcwire"
)

// field1 returns the bytes of field 1 (length-delimited) of a message, or nil.
func field1(msg []byte) ([]byte, error) {
	f, err := ttrpcwire.Fields(msg)
	if err != nil {
		return nil, err
	}
	return ttrpcwire.BytesOf(f, 1), nil
}

type checker struct {
	mu       sync.Mutex
	failures []string
}

func (c *checker) fail(format string, a ...interface{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, a...))
}

func call(client *ttrpc.Client, service, method string, req []byte) ([]byte, error) {
	return ttrpcwire.Call(client, service, method, req)
}

// expectOK calls and compares field 1 of the reply with want.
func (c *checker) expectOK(client *ttrpc.Client, name, service, method string, req, want []byte) {
	resp, err := call(client, service, method, req)
	if err != nil {
		c.fail("%s: want OK, got %v", name, err)
		return
	}
	got, err := field1(resp)
	if err != nil {
		c.fail("%s: reply does not decode: %v", name, err)
		return
	}
	if !bytes.Equal(got, want) {
		c.fail("%s: payload mismatch (%d bytes, want %d)", name, len(got), len(want))
	}
}

func (c *checker) expectCode(client *ttrpc.Client, name, service, method string, req []byte, want codes.Code, msgPart string) {
	_, err := call(client, service, method, req)
	if err == nil {
		c.fail("%s: want code %v, got OK", name, want)
		return
	}
	st, ok := status.FromError(err)
	if !ok {
		c.fail("%s: want a status error, got %v", name, err)
		return
	}
	if st.Code() != want {
		c.fail("%s: want code %v, got %v (%q)", name, want, st.Code(), st.Message())
	}
	if msgPart != "" && !strings.Contains(st.Message(), msgPart) {
		c.fail("%s: message %q does not contain %q", name, st.Message(), msgPart)
	}
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cdhinterop: %v\n", err)
		os.Exit(2)
	}
	return b
}

func main() {
	sock := flag.String("sock", "", "CDH ttrpc socket path")
	sealedFile := flag.String("sealed", "", "file holding a sealed secret")
	plaintextFile := flag.String("plaintext", "", "file holding the sealed secret's plaintext")
	resourceURI := flag.String("resource-uri", "", "a resource URI the daemon serves")
	resourceFile := flag.String("resource", "", "file holding that resource's bytes")
	missingURI := flag.String("missing-uri", "", "a resource URI the daemon does not have")
	// Codes of failed CDH calls. Upstream answers every handler failure with INTERNAL (cdh-api.md
	// §3.4); this daemon keeps the precise code and the same top-level text, so the defaults are
	// its codes and the messages are checked for upstream's texts.
	badMountCode := flag.Int("bad-mount-code", int(codes.Unimplemented), "code of SecureMount with an unknown volume type")
	badUnsealCode := flag.Int("bad-unseal-code", int(codes.InvalidArgument), "code of UnsealSecret of a malformed secret")
	missingCode := flag.Int("missing-code", int(codes.NotFound), "code of GetResource of a missing resource")
	rounds := flag.Int("rounds", 8, "concurrent rounds of the whole check set")
	flag.Parse()
	if *sock == "" || *sealedFile == "" || *plaintextFile == "" || *resourceURI == "" || *resourceFile == "" {
		fmt.Fprintln(os.Stderr, "usage: cdhinterop -sock S -sealed F -plaintext F -resource-uri U -resource F [-missing-uri U]")
		os.Exit(2)
	}
	sealed, plaintext, resource := readFile(*sealedFile), readFile(*plaintextFile), readFile(*resourceFile)

	conn, err := net.Dial("unix", *sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cdhinterop: dial: %v\n", err)
		os.Exit(1)
	}
	// One connection for everything, as the kata agent holds.
	client := ttrpc.NewClient(conn)
	defer client.Close()

	c := &checker{}
	var wg sync.WaitGroup
	for r := 0; r < *rounds; r++ {
		checks := []func(){
			func() {
				c.expectOK(client, "UnsealSecret", "api.SealedSecretService", "UnsealSecret",
					ttrpcwire.BytesField(1, sealed), plaintext)
			},
			func() {
				c.expectOK(client, "GetResource", "api.GetResourceService", "GetResource",
					ttrpcwire.BytesField(1, []byte(*resourceURI)), resource)
			},
			func() {
				// A bad SecureMount: a volume type nobody implements.
				req := append(ttrpcwire.BytesField(1, []byte("no-such-volume-type")), ttrpcwire.BytesField(4, []byte("/tmp/cdhinterop-never-mounted"))...)
				c.expectCode(client, "SecureMount(bad)", "api.SecureMountService", "SecureMount", req,
					codes.Code(*badMountCode), "Secure Mount failed")
			},
			func() {
				c.expectCode(client, "UnsealSecret(junk)", "api.SealedSecretService", "UnsealSecret",
					ttrpcwire.BytesField(1, []byte("sealed.not-a-jws")), codes.Code(*badUnsealCode), "Unseal Secret failed")
			},
			func() {
				c.expectCode(client, "unknown method", "api.GetResourceService", "NoSuchMethod", nil, codes.Unimplemented, "NoSuchMethod")
			},
			func() {
				c.expectCode(client, "unknown service", "api.NoSuchService", "GetResource", nil, codes.InvalidArgument, "api.NoSuchService")
			},
		}
		if *missingURI != "" {
			checks = append(checks, func() {
				c.expectCode(client, "GetResource(missing)", "api.GetResourceService", "GetResource",
					ttrpcwire.BytesField(1, []byte(*missingURI)), codes.Code(*missingCode), "Get Resource failed")
			})
		}
		for _, f := range checks {
			wg.Add(1)
			go func(f func()) { defer wg.Done(); f() }(f)
		}
	}
	wg.Wait()
	if len(c.failures) > 0 {
		for _, f := range c.failures {
			fmt.Fprintln(os.Stderr, "FAIL:", f)
		}
		os.Exit(1)
	}
	fmt.Printf("cdhinterop: all checks passed (%d rounds, one connection)\n", *rounds)
}
