// gostd runs the Go standard library calls behind confpy's extended template
// functions (regexp, encoding/json, strings, net, crypto/sha256) on a JSON list of
// cases read from stdin, and prints their results as JSON. Standard library only.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

type testCase struct {
	Name string   `json:"name"`
	Fn   string   `json:"fn"`
	Args []string `json:"args"`
}

type result struct {
	Name   string  `json:"name"`
	Output *string `json:"output"`
	Error  *string `json:"error"`
}

func quote(s string) string {
	if strconv.CanBackquote(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

func run(c testCase) (string, error) {
	a := c.Args
	switch c.Fn {
	case "regexMatch": // sprig: regexp.MatchString(regex, s)
		ok, err := regexp.MatchString(a[0], a[1])
		return strconv.FormatBool(ok), err
	case "regexReplaceAll": // sprig: regexp.MustCompile(regex).ReplaceAllString(s, repl)
		r, err := regexp.Compile(a[0])
		if err != nil {
			return "", fmt.Errorf("regexp: Compile(%s): %v", quote(a[0]), err)
		}
		return r.ReplaceAllString(a[1], a[2]), nil
	case "toJson": // the argument is JSON decoded as confd's json does (float64 numbers)
		var v interface{}
		if err := json.Unmarshal([]byte(a[0]), &v); err != nil {
			return "", fmt.Errorf("bad case: %v", err)
		}
		out, err := json.Marshal(v)
		return string(out), err
	case "fromJson": // the value json.Unmarshal gives, shown as json.Marshal writes it
		var v interface{}
		if err := json.Unmarshal([]byte(a[0]), &v); err != nil {
			return "", err
		}
		out, err := json.Marshal(v)
		return string(out), err
	case "trimSpace":
		return strings.TrimSpace(a[0]), nil
	case "trimPrefix": // sprig's order: prefix, then the string
		return strings.TrimPrefix(a[1], a[0]), nil
	case "sha256sum":
		sum := sha256.Sum256([]byte(a[0]))
		return hex.EncodeToString(sum[:]), nil
	case "splitHostPort":
		host, port, err := net.SplitHostPort(a[0])
		return host + "|" + port, err
	}
	return "", fmt.Errorf("bad case: unknown fn %q", c.Fn)
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		out, err := run(c)
		r := result{Name: c.Name}
		if err != nil {
			text := err.Error()
			r.Error = &text
		} else {
			r.Output = &out
		}
		results = append(results, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
