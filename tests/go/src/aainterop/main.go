// aainterop: a ttrpc client built from Debian's containerd/ttrpc (Go) that calls every method of
// the attestation agent's API (attestation_agent.AttestationAgentService, guest-components
// protos/protos/attestation-agent/attestation-agent.proto) the way kata's agent, the data hub and
// api-server-rest do: one connection, a 50 s timeout per call. It checks codes and payloads and,
// with -kbs-url, presents the token GetToken("kbs") returned to the broker (GET of a resource
// with `Authorization: Bearer`), which must accept it. Exits non-zero on the first mismatch.
//
// Built offline in GOPATH mode against Debian's golang-github-containerd-ttrpc-dev, as
// tests/go/src/cdhinterop; messages are encoded by hand (tests/go/src/ttrpcwire).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"ttrpcwire"
)

const service = "attestation_agent.AttestationAgentService"

var failures []string

func fail(format string, a ...interface{}) { failures = append(failures, fmt.Sprintf(format, a...)) }

func call(client *ttrpc.Client, method string, req []byte) (map[int][]interface{}, error) {
	resp, err := ttrpcwire.Call(client, service, method, req)
	if err != nil {
		return nil, err
	}
	return ttrpcwire.Fields(resp)
}

func expectCode(err error, name string, want codes.Code) {
	if err == nil {
		fail("%s: want code %v, got OK", name, want)
		return
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != want {
		fail("%s: want code %v, got %v", name, want, err)
	}
}

func main() {
	sock := flag.String("sock", "", "attestation agent ttrpc socket path")
	tee := flag.String("tee", "sample", "the TEE GetTeeType must answer")
	kbsURL := flag.String("kbs-url", "", "broker to present the GetToken token to (empty: GetToken must be FAILED_PRECONDITION)")
	resource := flag.String("resource", "default/key/1", "a resource path the broker holds")
	measurement := flag.Uint64("measurement", 1, "the ExtendRuntimeMeasurement result expected (0 OK, 1 NOT_SUPPORTED, 2 NOT_ENABLED)")
	evidenceOut := flag.String("evidence-out", "", "write the evidence GetEvidence returned for the runtime data \"aainterop-runtime-data\" here, for the caller to verify")
	flag.Parse()
	if *sock == "" {
		fmt.Fprintln(os.Stderr, "usage: aainterop -sock S [-tee T] [-kbs-url U] [-measurement N]")
		os.Exit(2)
	}
	conn, err := net.Dial("unix", *sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "aainterop: dial: %v\n", err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	// GetTeeType
	if f, err := call(client, "GetTeeType", nil); err != nil {
		fail("GetTeeType: %v", err)
	} else if got := string(ttrpcwire.BytesOf(f, 1)); got != *tee {
		fail("GetTeeType: %q, want %q", got, *tee)
	}
	// GetAdditionalTees: none on this machine.
	if f, err := call(client, "GetAdditionalTees", nil); err != nil {
		fail("GetAdditionalTees: %v", err)
	} else if len(f[1]) != 0 {
		fail("GetAdditionalTees: %d entries, want none", len(f[1]))
	}
	// GetEvidence: the runtime data reaches the attester verbatim (the sample evidence carries it).
	runtimeData := []byte("aainterop-runtime-data")
	if f, err := call(client, "GetEvidence", ttrpcwire.BytesField(1, runtimeData)); err != nil {
		fail("GetEvidence: %v", err)
	} else {
		var ev map[string]interface{}
		if err := json.Unmarshal(ttrpcwire.BytesOf(f, 1), &ev); err != nil {
			fail("GetEvidence: evidence is not JSON: %v", err)
		} else if *tee == "sample" {
			want := "YWFpbnRlcm9wLXJ1bnRpbWUtZGF0YQ" // base64 of the runtime data, either padding
			if rd, _ := ev["report_data"].(string); !strings.HasPrefix(rd, want) {
				fail("GetEvidence: sample report_data %q does not carry the runtime data", rd)
			}
		}
		if *evidenceOut != "" {
			if err := os.WriteFile(*evidenceOut, ttrpcwire.BytesOf(f, 1), 0o600); err != nil {
				fail("GetEvidence: %v", err)
			}
		}
	}
	// GetEvidence with report data no TEE can carry.
	_, err = call(client, "GetEvidence", ttrpcwire.BytesField(1, make([]byte, 65)))
	expectCode(err, "GetEvidence(65 bytes)", codes.InvalidArgument)
	// GetAdditionalEvidence: empty without additional devices.
	if f, err := call(client, "GetAdditionalEvidence", ttrpcwire.BytesField(1, runtimeData)); err != nil {
		fail("GetAdditionalEvidence: %v", err)
	} else if len(ttrpcwire.BytesOf(f, 1)) != 0 {
		fail("GetAdditionalEvidence: %d bytes, want none", len(ttrpcwire.BytesOf(f, 1)))
	}
	// ExtendRuntimeMeasurement: upstream's result enum.
	req := append(append(ttrpcwire.BytesField(1, []byte("aainterop.example")), ttrpcwire.BytesField(2, []byte("Check"))...),
		ttrpcwire.BytesField(3, []byte(`{"k":"v"}`))...)
	if f, err := call(client, "ExtendRuntimeMeasurement", req); err != nil {
		fail("ExtendRuntimeMeasurement: %v", err)
	} else if got := ttrpcwire.VarintOf(f, 1); got != *measurement {
		fail("ExtendRuntimeMeasurement: result %d, want %d", got, *measurement)
	}
	if *measurement == 0 {
		bad := append(append(ttrpcwire.BytesField(1, []byte("two words")), ttrpcwire.BytesField(2, []byte("Op"))...), ttrpcwire.VarintField(4, 23)...)
		_, err = call(client, "ExtendRuntimeMeasurement", bad)
		expectCode(err, "ExtendRuntimeMeasurement(bad domain)", codes.InvalidArgument)
	}
	// BindInitData: the sample TEE has no binding, which upstream answers as success.
	if *tee == "sample" {
		if _, err := call(client, "BindInitData", ttrpcwire.BytesField(1, make([]byte, 32))); err != nil {
			fail("BindInitData: %v", err)
		}
	}
	// GetToken
	_, err = call(client, "GetToken", ttrpcwire.BytesField(1, []byte("no-such-type")))
	expectCode(err, "GetToken(no-such-type)", codes.InvalidArgument)
	f, err := call(client, "GetToken", ttrpcwire.BytesField(1, []byte("kbs")))
	if *kbsURL == "" {
		expectCode(err, "GetToken(kbs) without a broker", codes.FailedPrecondition)
	} else if err != nil {
		fail("GetToken(kbs): %v", err)
	} else {
		var tok struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(ttrpcwire.BytesOf(f, 1), &tok); err != nil || strings.Count(tok.Token, ".") != 2 {
			fail("GetToken(kbs): reply is not {\"token\":\"<JWT>\"}")
		} else {
			// The broker accepts the token as a bearer credential.
			for _, c := range []struct {
				token string
				want  int
			}{{tok.Token, 200}, {tok.Token + "x", 401}} {
				r, _ := http.NewRequest("GET", *kbsURL+"/kbs/v0/resource/"+*resource, nil)
				r.Header.Set("Authorization", "Bearer "+c.token)
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					fail("broker GET: %v", err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.want {
					fail("broker GET with the token (tampered=%v): HTTP %d, want %d", c.want != 200, resp.StatusCode, c.want)
				}
			}
		}
	}
	// Unknown method: ttrpc's UNIMPLEMENTED.
	_, err = call(client, "NoSuchMethod", nil)
	expectCode(err, "NoSuchMethod", codes.Unimplemented)

	if len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "aainterop: FAIL:", f)
		}
		os.Exit(1)
	}
	fmt.Println("aainterop: all attestation agent methods answered as expected")
}
