// Package ttrpcwire: what the Go interop clients (cdhinterop, aainterop) share to call our daemon
// through Debian's containerd/ttrpc without generated code: protobuf fields encoded and decoded by
// hand from the protos' field numbers, carried through ttrpc's codec as raw bytes, and one call
// with the kata agent's timeout.
package ttrpcwire

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/containerd/ttrpc"
)

// RawMsg carries already-serialized protobuf bytes through ttrpc's codec.
type RawMsg struct{ B []byte }

func (m *RawMsg) Reset()                   { m.B = nil }
func (m *RawMsg) String() string           { return hex.EncodeToString(m.B) }
func (m *RawMsg) ProtoMessage()            {}
func (m *RawMsg) Marshal() ([]byte, error) { return m.B, nil }
func (m *RawMsg) Unmarshal(p []byte) error { m.B = append([]byte(nil), p...); return nil }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
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

// BytesField encodes one length-delimited field.
func BytesField(num int, v []byte) []byte {
	b := appendVarint(nil, uint64(num<<3|2))
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// VarintField encodes one varint field.
func VarintField(num int, v uint64) []byte {
	return appendVarint(appendVarint(nil, uint64(num<<3)), v)
}

// Fields decodes a message into field number -> values (varints as uint64, bytes as []byte).
func Fields(msg []byte) (map[int][]interface{}, error) {
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

// BytesOf is the last length-delimited value of field `num`, or nil.
func BytesOf(f map[int][]interface{}, num int) []byte {
	if v, ok := f[num]; ok && len(v) > 0 {
		if b, ok := v[len(v)-1].([]byte); ok {
			return b
		}
	}
	return nil
}

// VarintOf is the last varint value of field `num`, or 0.
func VarintOf(f map[int][]interface{}, num int) uint64 {
	if v, ok := f[num]; ok && len(v) > 0 {
		if u, ok := v[len(v)-1].(uint64); ok {
			return u
		}
	}
	return 0
}

// AgentTimeout is the kata agent's per-call timeout towards the guest components
// (agent.cdh_api_timeout's default).
const AgentTimeout = 50 * time.Second

// Call makes one call with AgentTimeout and returns the reply's bytes.
func Call(client *ttrpc.Client, service, method string, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), AgentTimeout)
	defer cancel()
	resp := &RawMsg{}
	err := client.Call(ctx, service, method, &RawMsg{B: req}, resp)
	return resp.B, err
}
