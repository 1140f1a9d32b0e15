// aainterop: a ttrpc client built from Debian's containerd/ttrpc (Go) that calls every method of
// the attestation agent's API (attestation_agent.AttestationAgentService, guest-components
// protos/protos/attestation-agent/attestation-agent.proto) the way kata's agent, the data hub and
// api-server-rest do: one connection, a 50 s timeout per call. It checks codes and payloads and,
// with -kbs-url, presents the token GetToken("kbs") returned to the broker (GET of a resource
// with `Authorization: Bearer`), which must accept it. Exits non-zero on the first mismatch.
//
// Built offline in GOPATH mode against Debian's golang-github-containerd-ttrpc-dev, as
// tests/go/src/cdhinterop. Messages are encoded by hand from the proto's field numbers.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type rawMsg struct{ b []byte }

func (m *rawMsg) Reset()                   { m.b = nil }
func (m *rawMsg) String() string           { return hex.EncodeToString(m.b) }
func (m *rawMsg) ProtoMessage()            {}
func (m *rawMsg) Marshal() ([]byte, error) { return m.b, nil }
func (m *rawMsg) Unmarshal(p []byte) error { m.b = append([]byte(nil), p...); return nil }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func bytesField(num int, v []byte) []byte {
	b := appendVarint(nil, uint64(num<<3|2))
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func varintField(num int, v uint64) []byte {
	return appendVarint(appendVarint(nil, uint64(num<<3)), v)
}

func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// fields decodes a message into field number -> values (varints as uint64, bytes as []byte).
func fields(msg []byte) (map[int][]interface{}, error) {
	out := map[int][]interface{}{}
	for i := 0; i < len(msg); {
		key, n := readVarint(msg[i:])
		if n == 0 {
			return nil, fmt.Errorf("bad varint")
		}
		i += n
		num := int(key >> 3)
		switch key & 7 {
		case 0:
			v, n := readVarint(msg[i:])
			if n == 0 {
				return nil, fmt.Errorf("bad varint")
			}
			i += n
			out[num] = append(out[num], v)
		case 2:
			l, n := readVarint(msg[i:])
			if n == 0 || i+n+int(l) > len(msg) {
				return nil, fmt.Errorf("bad length")
			}
			i += n
			out[num] = append(out[num], msg[i:i+int(l)])
			i += int(l)
		default:
			return nil, fmt.Errorf("unexpected wire type %d", key&7)
		}
	}
	return out, nil
}

const service = "attestation_agent.AttestationAgentService"

var failures []string

func fail(format string, a ...interface{}) { failures = append(failures, fmt.Sprintf(format, a...)) }

func call(client *ttrpc.Client, method string, req []byte) (map[int][]interface{}, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	resp := &rawMsg{}
	if err := client.Call(ctx, service, method, &rawMsg{b: req}, resp); err != nil {
		return nil, err
	}
	return fields(resp.b)
}

func bytesOf(f map[int][]interface{}, num int) []byte {
	if v, ok := f[num]; ok && len(v) > 0 {
		if b, ok := v[len(v)-1].([]byte); ok {
			return b
		}
	}
	return nil
}

func varintOf(f map[int][]interface{}, num int) uint64 {
	if v, ok := f[num]; ok && len(v) > 0 {
		if u, ok := v[len(v)-1].(uint64); ok {
			return u
		}
	}
	return 0
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
	} else if got := string(bytesOf(f, 1)); got != *tee {
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
	if f, err := call(client, "GetEvidence", bytesField(1, runtimeData)); err != nil {
		fail("GetEvidence: %v", err)
	} else {
		var ev map[string]interface{}
		if err := json.Unmarshal(bytesOf(f, 1), &ev); err != nil {
			fail("GetEvidence: evidence is not JSON: %v", err)
		} else if *tee == "sample" {
			want := "YWFpbnRlcm9wLXJ1bnRpbWUtZGF0YQ" // base64 of the runtime data, either padding
			if rd, _ := ev["report_data"].(string); !strings.HasPrefix(rd, want) {
				fail("GetEvidence: sample report_data %q does not carry the runtime data", rd)
			}
		}
	}
	// GetEvidence with report data no TEE can carry.
	_, err = call(client, "GetEvidence", bytesField(1, make([]byte, 65)))
	expectCode(err, "GetEvidence(65 bytes)", codes.InvalidArgument)
	// GetAdditionalEvidence: empty without additional devices.
	if f, err := call(client, "GetAdditionalEvidence", bytesField(1, runtimeData)); err != nil {
		fail("GetAdditionalEvidence: %v", err)
	} else if len(bytesOf(f, 1)) != 0 {
		fail("GetAdditionalEvidence: %d bytes, want none", len(bytesOf(f, 1)))
	}
	// ExtendRuntimeMeasurement: upstream's result enum.
	req := append(append(bytesField(1, []byte("aainterop.example")), bytesField(2, []byte("Check"))...),
		bytesField(3, []byte(`{"k":"v"}`))...)
	if f, err := call(client, "ExtendRuntimeMeasurement", req); err != nil {
		fail("ExtendRuntimeMeasurement: %v", err)
	} else if got := varintOf(f, 1); got != *measurement {
		fail("ExtendRuntimeMeasurement: result %d, want %d", got, *measurement)
	}
	if *measurement == 0 {
		bad := append(append(bytesField(1, []byte("two words")), bytesField(2, []byte("Op"))...), varintField(4, 23)...)
		_, err = call(client, "ExtendRuntimeMeasurement", bad)
		expectCode(err, "ExtendRuntimeMeasurement(bad domain)", codes.InvalidArgument)
	}
	// BindInitData: the sample TEE has no binding, which upstream answers as success.
	if *tee == "sample" {
		if _, err := call(client, "BindInitData", bytesField(1, make([]byte, 32))); err != nil {
			fail("BindInitData: %v", err)
		}
	}
	// GetToken
	_, err = call(client, "GetToken", bytesField(1, []byte("no-such-type")))
	expectCode(err, "GetToken(no-such-type)", codes.InvalidArgument)
	f, err := call(client, "GetToken", bytesField(1, []byte("kbs")))
	if *kbsURL == "" {
		expectCode(err, "GetToken(kbs) without a broker", codes.FailedPrecondition)
	} else if err != nil {
		fail("GetToken(kbs): %v", err)
	} else {
		var tok struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(bytesOf(f, 1), &tok); err != nil || strings.Count(tok.Token, ".") != 2 {
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
