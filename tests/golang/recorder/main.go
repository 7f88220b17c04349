// Command recorder prints what Go's strconv, time, path and strings packages answer for
// a list of inputs, hostile ones included, as the JSON files in ../recorded that the
// tests of confpy.golang compare against.
//
// Re-record (Go 1.19, the version confpy follows; standard library only):
//
//	cd tests/golang/recorder
//	HOME=/tmp GOCACHE=/tmp/gocache GOFLAGS=-mod=mod go run . -out ../recorded
//
// Every case is a JSON array: the inputs, then the outputs. A string that is not valid
// UTF-8 is written as {"hex": "<its bytes>"}; a float64 as the 16 hex digits of its
// bits; an error as its text, or null.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// str keeps a Go string byte for byte through JSON.
func str(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]string{"hex": hex.EncodeToString([]byte(s))}
}

func errText(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

func bits(f float64) string { return fmt.Sprintf("%016x", math.Float64bits(f)) }

// outcome is the end of a case: [value, null] or [null, error].
func outcome(value any, err error) []any {
	if err != nil {
		return []any{nil, err.Error()}
	}
	return []any{value, nil}
}

// record appends a case: the inputs, then the outcome.
func record(s *section, outcome []any, inputs ...any) {
	s.cases = append(s.cases, append(inputs, outcome...))
}

type section struct {
	name  string
	cases [][]any
}

// write puts one case a line, so that a re-recording diffs case by case.
func write(dir, name, about string, sections []section) {
	var out bytes.Buffer
	out.WriteString("{\n")
	fmt.Fprintf(&out, "%q: %q", "about", about)
	for _, s := range sections {
		fmt.Fprintf(&out, ",\n%q: [\n", s.name)
		for i, c := range s.cases {
			var line bytes.Buffer
			enc := json.NewEncoder(&line)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(c); err != nil {
				panic(err)
			}
			out.Write(bytes.TrimRight(line.Bytes(), "\n"))
			if i < len(s.cases)-1 {
				out.WriteString(",")
			}
			out.WriteString("\n")
		}
		out.WriteString("]")
	}
	out.WriteString("\n}\n")
	if err := os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o644); err != nil {
		panic(err)
	}
}

// --- strconv --------------------------------------------------------------------------

var intInputs = []string{
	"", "0", "-0", "+0", "00", "000", "1", "-1", "+1", "7", "8", "9", "10", "123", "-123",
	"017", "08", "09", "0_17", "0o17", "0O17", "0o8", "0o", "0o_7", "0b101", "0B101", "0b2",
	"0b", "0b_1", "0b1_0", "0x1F", "0X1f", "0xff", "0xFF", "0x", "0xg", "0x_1f", "0x1_f",
	"0x1__f", "0_x1", "-0x10", "+0x10", "0x-1", "1_000", "1__000", "_1000", "1000_", "_",
	"0_", "0__1", "1_", "-_1", "-1_0", "+_1", "--1", "+-1", "-+1", "++1", "-", "+", " 1",
	"1 ", "\t1", "1\n", "1,000", "1.0", "1e3", "0x1p4", "z", "Z", "zz", "ZZ", "ff", "FF",
	"36", "az", "Hello", "127", "128", "-128", "-129", "255", "256", "32767", "32768",
	"-32768", "65535", "65536", "2147483647", "2147483648", "-2147483648", "-2147483649",
	"4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "-9223372036854775809", "18446744073709551615",
	"18446744073709551616", "-18446744073709551616", "99999999999999999999",
	"99999999999999999999x", "x99999999999999999999", "1x", "99999999999999999999_",
	"1_99999999999999999999", "0x7fffffffffffffff", "0x8000000000000000",
	"-0x8000000000000000", "-0x8000000000000001", "0xffffffffffffffff",
	"0x10000000000000000", "0b" + strings.Repeat("1", 64), "0b" + strings.Repeat("1", 65),
	"0o1777777777777777777777", "0o2000000000000000000000", "0777",
	"01777777777777777777777", "02000000000000000000000", "zzzzzzzzzzzz", "zzzzzzzzzzzzz",
	"3w5e11264sgsf", "3w5e11264sgsg", "٣", "1٣", "١٢٣", "１２", "½", "²", "\x00", "\xff",
	"1\xff", "\xff1", "é", "1é", "\u00a01", "0\u0661", "0x1_2_3", "0_0", "-0_1", "0o_17",
	"0b_1_0", "1_2_3", "0x_", "0_x", "00x1", "0x0x1", "1__", "0x__1",
}

// Very long inputs, read in base 0 only to keep the file small; and longer than Python's
// int() takes (4,300 digits), in base 10.
var hugeInputs = []string{
	strings.Repeat("1", 400), "-" + strings.Repeat("9", 400), strings.Repeat("0", 400) + "1",
	"0x" + strings.Repeat("0", 300) + "1", strings.Repeat("9", 400) + "x",
	"1" + strings.Repeat("_0", 30),
}
var hugerInputs = []string{strings.Repeat("1", 5000), strings.Repeat("0", 5000) + "7"}

// Inputs of Atoi beyond intInputs: its fast path takes up to 18 characters.
var atoiInputs = []string{
	"a\tb", "日本", "\u200b", "\x7f", "\ufffd", "\u2028", "😀", "a\"b", "a\\b", "\x1b[0m",
	"123456789012345678", "1234567890123456789", "999999999999999999", "-999999999999999999",
	"+99999999999999999", "-99999999999999999", "+999999999999999999", "12345678901234567x",
	"-1234567890123456x", "00000000000000000000001", "-00000000000000000000001", "007",
}

var boolInputs = []string{
	"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False", "tRUE",
	"yes", "no", "", "é", " true", "true ", "on", "off", "y", "n", "2", "-1", "TrUe",
	"fAlSe", "\x00", "\xff", "01", "tr", "truee",
}

var floatInputs = []string{
	"", "0", "-0", "+0", "00", "1", "-1", "1.5", ".5", "5.", ".", "-.5", "+.5", "1e10",
	"1E10", "1e", "1e+", "1e-", "1e-5", "1e+5", "1e_5", "1e5_0", "1_0e5", "1_000.5",
	"1__0", "_1", "1_", "1._5", "1_.5", "0_1", "0x1p4", "0x1P-4", "0x1.8p1", "0x.8p1",
	"0x1", "0x1.8", "0xp1", "0x_1p4", "0x1_0p4", "0X1P4", "0x1p", "0x1p+", "0x1e4",
	"0x1.p1", "0x.p1", "0x1.", "0x", "0x0p0", "-0x0p0", "0xfp0", "0xFp0", "0x1p1_0",
	"inf", "Inf", "INF", "+inf", "-inf", "infinity", "Infinity", "-Infinity", "+Infinity",
	"-InFiNiTy", "infinit", "infx", "inf ", "infinityy", "in", "nan", "NaN", "NAN", "nAn",
	"+nan", "-nan", "nanx", "na", "1e308", "1e309", "-1e309", "1.7976931348623157e308",
	"1.7976931348623158e308", "1.7976931348623159e308", "4.9e-324", "2.4703282292062327e-324",
	"2.4703282292062328e-324", "2e-324", "1e-400", "-1e-400", "0e99999", "1e99999",
	"1e-99999", "0x1p1024", "0x1p1023", "0x1.fffffffffffff8p1023", "0x1.fffffffffffff7p1023",
	"0x1p-1074", "0x1p-1075", "0x1.8p-1075", "0x1p-1076", " 1", "1 ", "1\n", "٣", "1٣", "１",
	"0.1", "0.2", "0.30000000000000004", "9007199254740993", "9007199254740993.0000000001",
	"1" + strings.Repeat("0", 400), "0." + strings.Repeat("0", 400) + "1",
	strings.Repeat("1", 800) + "e-800", "+-1", "--1", "1e+-5", "1i", "0x1p4i", "true", "\x00",
	"é", "\xff", "1.5e3.5", "1..5", "00.5", "0b101", "0o17", "017", "08", "1,5", "1.5e",
	"123456789012345678901234567890", "0.000001", "1e-7", "1e21", "1e22", "1e23",
	"2.5", "0x1.0000000000000p0", "0x1.00000000000008p0", "0x1.00000000000018p0",
	"0x123456789abcdef0123p0", "1e1_0", "1_e10", "1e_10", "0x_p1", "0x1_p1", "0x1p_1",
	"0x_1.8p1", "1.e5", ".e5", "-.e5", "0.", "-0.0e-0",
}

var floatValues = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 0.5, 1.5, 2.5, -2.5, 0.125, 1.0 / 3, 2.0 / 3, 10, 100,
	123456789, 1e6, 999999.5, 1e20, 1e21, 1e23, 1e-4, 1e-5, 1e-7, 0.000123456, 1234.5678,
	math.Pi, math.E, 5e-324, 2.2250738585072014e-308, math.MaxFloat64, 9007199254740993,
	123.456, 1e100, math.NaN(), math.Inf(1), math.Inf(-1), 0.3, 1.0000000000000002,
	4503599627370496.5, 1.96875, 1.99999, 0.05, 0.15, 0.25, 0.35, 12345.678e-10, 5e-8,
}

var formatVerbs = []byte{'b', 'e', 'E', 'f', 'g', 'G', 'x', 'X'}
var formatPrecs = []int{-1, 0, 1, 3, 6, 17, 20}

var quoteInputs = []string{
	"", "abc", "a\"b", "a\\b", "a'b", "a`b", "\x00", "\a\b\f\n\r\t\v", "\x7f", "\u00a0",
	"\u00ad", "é", "日本語", "\u200b", "\u2028", "\ufeff", "😀", "\U000e0001", "\U0010ffff",
	"\xff", "a\xffb", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\u0378", "\u08ce", "\u1ac9",
	"\u061c", "\ufffd", "\x1b[0m", "\t", "tab\there", "\u3000", "\U0001f3f4\U000e0067",
	"\xc3", "\xe2\x82", "\u00e9\u0301",
}

var quoteRunes = []rune{
	'a', '\'', '"', '\\', 0, 7, '\n', 0x7f, 0xa0, 0xe9, 0x1f600, 0xd800, 0xdfff, 0x110000,
	-1, 0xfffd, 0x2028, 0x10ffff, 0xe0001, 0x8ce, '`', ' ', 0x3000,
}

var unquoteInputs = []string{
	`""`, `"abc"`, `"a\"b"`, `'a'`, `'ab'`, `''`, "`abc`", "`a\rb`", "`a`b`", "``",
	`"\x41"`, `"\xff"`, `"\u00e9"`, `"\U0001F600"`, `"\ud800"`, `"\U00110000"`, `"\400"`,
	`"\377"`, `"\101"`, `"\1"`, `"\18"`, `"\q"`, `"\'"`, `'\"'`, `'\''`, "\"a\nb\"", `"abc`,
	`abc"`, `"`, ``, `'\x80'`, `'é'`, `'\u00e9'`, `"\a\b\f\n\r\t\v\\"`, `"é"`,
	"\"\xed\xa0\x80\"", "\"\xff\"", "'\xff'", `"\x4"`, `"\xg0"`, `"\u12"`, `"\U0010FFFF"`,
	`'\U0010FFFF'`, `'\ud800'`, "'\n'", "`a\nb`", `"a'b"`, `'"'`, `"\"`, `"a\"`,
}

type charCase struct {
	s     string
	quote byte
}

var unquoteCharInputs = []charCase{
	{`a`, '"'}, {`\n`, '"'}, {`\x41rest`, '"'}, {`\u00e9x`, '"'}, {`\U0001F600`, '"'},
	{`\101`, '"'}, {`\'`, '"'}, {`\'`, '\''}, {`\"`, '"'}, {`\"`, '\''}, {`"`, '"'},
	{`'`, '\''}, {`'`, '"'}, {``, '"'}, {`\`, '"'}, {`\q`, '"'}, {`\xff`, '"'},
	{`\400`, '"'}, {`\ud800`, '"'}, {`é!`, '"'}, {"\xff", '"'}, {`\x4`, '"'},
	{"`", '`'}, {`\z`, 0}, {`\'`, 0},
}

func recordStrconv(dir string) {
	var parseInt, parseUint, atoi, parseBool, parseFloat, format section
	parseInt.name, parseUint.name, atoi.name = "ParseInt", "ParseUint", "Atoi"
	parseBool.name, parseFloat.name, format.name = "ParseBool", "ParseFloat", "FormatFloat"
	addInt := func(s string, base, bitSize int) {
		i, err := strconv.ParseInt(s, base, bitSize)
		record(&parseInt, outcome(i, err), str(s), base, bitSize)
		u, err := strconv.ParseUint(s, base, bitSize)
		record(&parseUint, outcome(u, err), str(s), base, bitSize)
	}
	for _, s := range intInputs {
		for _, base := range []int{0, 2, 8, 10, 16, 36} {
			addInt(s, base, 64)
		}
		for _, bitSize := range []int{8, 32} {
			addInt(s, 0, bitSize)
		}
	}
	for _, s := range hugeInputs {
		addInt(s, 0, 64)
	}
	for _, s := range hugerInputs {
		addInt(s, 10, 64)
	}
	for _, s := range []string{"1", "", "-1", "z", "-2", "2", "0", "+"} {
		for _, bb := range [][2]int{{1, 64}, {37, 64}, {-1, 64}, {10, 65}, {10, -1}, {0, 128}, {1, 65}, {0, 0}, {10, 16}, {10, 1}} {
			addInt(s, bb[0], bb[1])
		}
	}
	for _, s := range append(append([]string{}, intInputs...), append(append(atoiInputs, hugeInputs...), hugerInputs...)...) {
		i, err := strconv.Atoi(s)
		record(&atoi, outcome(i, err), str(s))
	}
	for _, s := range boolInputs {
		b, err := strconv.ParseBool(s)
		record(&parseBool, outcome(b, err), str(s))
	}
	for _, s := range floatInputs {
		f, err := strconv.ParseFloat(s, 64)
		record(&parseFloat, outcome(bits(f), err), str(s))
	}
	for _, f := range floatValues {
		for _, verb := range formatVerbs {
			for _, prec := range formatPrecs {
				format.cases = append(format.cases, []any{bits(f), string(verb), prec, strconv.FormatFloat(f, verb, prec, 64)})
			}
		}
	}
	quote := section{name: "Quote"}
	for _, s := range quoteInputs {
		quote.cases = append(quote.cases, []any{str(s), strconv.Quote(s), strconv.QuoteToASCII(s), strconv.CanBackquote(s)})
	}
	quoteRune := section{name: "QuoteRune"}
	for _, r := range quoteRunes {
		quoteRune.cases = append(quoteRune.cases, []any{r, strconv.QuoteRune(r), strconv.QuoteRuneToASCII(r)})
	}
	unquote := section{name: "Unquote"}
	for _, s := range unquoteInputs {
		u, err := strconv.Unquote(s)
		record(&unquote, outcome(str(u), err), str(s))
	}
	unquoteChar := section{name: "UnquoteChar"}
	for _, c := range unquoteCharInputs {
		value, multibyte, tail, err := strconv.UnquoteChar(c.s, c.quote)
		if err != nil {
			unquoteChar.cases = append(unquoteChar.cases, []any{str(c.s), string(c.quote), nil, nil, nil, errText(err)})
		} else {
			unquoteChar.cases = append(unquoteChar.cases, []any{str(c.s), string(c.quote), value, multibyte, str(tail), nil})
		}
	}
	// IsPrint over every rune: the ranges [lo, hi] it accepts.
	isPrint := section{name: "IsPrint"}
	start := rune(-1)
	for r := rune(0); r <= unicode.MaxRune+1; r++ {
		p := r <= unicode.MaxRune && strconv.IsPrint(r)
		if p && start < 0 {
			start = r
		} else if !p && start >= 0 {
			isPrint.cases = append(isPrint.cases, []any{start, r - 1})
			start = -1
		}
	}
	write(dir, "strconv.json",
		"Go 1.19 strconv. ParseInt/ParseUint: [s, base, bitSize, value, error]; Atoi, ParseBool: [s, value, error]; "+
			"ParseFloat: [s, float64 bits, error]; FormatFloat: [float64 bits, fmt, prec, text]; "+
			"Quote: [s, Quote, QuoteToASCII, CanBackquote]; QuoteRune: [rune, QuoteRune, QuoteRuneToASCII]; "+
			"Unquote: [s, value, error]; UnquoteChar: [s, quote, value, multibyte, tail, error]; IsPrint: [lo, hi] ranges",
		[]section{parseInt, parseUint, atoi, parseBool, parseFloat, format, quote, quoteRune, unquote, unquoteChar, isPrint})
}

// --- time -----------------------------------------------------------------------------

var durationInputs = []string{
	"", "0", "+0", "-0", "00", "0.0", "1", "100", "-100", "1.5", "1s", "+1s", "-1s", "1.5s",
	".5s", "5.s", ".s", "-.s", "1.s", "1h", "1m", "1ms", "1us", "1µs", "1μs", "1ns", "1h2m3s",
	"1h2m3.5s", "2h45m", "1.5h", "-1.5h", "1s1s", "1d", "1S", "1Ms", "1 s", " 1s", "1s ",
	"1e3s", "s", "ms", "0s", "-0s", "+0s", "0ns", "9223372036854775807ns",
	"9223372036854775808ns", "-9223372036854775808ns", "-9223372036854775809ns", "2562047h",
	"2562048h", "-2562047h", "2562047h47m16.854775807s", "2562047h47m16.854775808s",
	"-2562047h47m16.854775808s", "-2562047h47m16.854775809s", "0.000000001s",
	"0.0000000001s", "1.0000000001s", "0.9999999999s", "3.000000001s", "0.1h", "0.3h",
	"1.00000000000000000000001s", "99999999999999999999s", "1" + strings.Repeat("0", 30) + "ns",
	"1_0s", "１s", "٣s", "1\xffs", "1\x00s", "1é", "1\n", "\n", "100ms:2s", "+-1s", "--1s",
	"1.2.3s", "1..2s", "0x10s", ".", "-", "+", "1h-1m", "1s2", "1s.", "1.5µs", "0.5ns",
	"1.5ns", "0.9ns", "123456789.123456789s", "1h1h1h", "3s500ms", "500ms3s",
	"1.9999999999999999999999h", "0." + strings.Repeat("9", 40) + "s", "9223372036.854775807s",
	"9223372036.854775808s", "153722867m", "153722868m", "1µ", "1μ", "1\u00b5s\u00b5s",
	"1ss", "1sm", "1h 1m", "2m3", "0.s", "-.5h", "1.e3s", "0x", "abc", "1\ts", "\"1s\"",
	"1µs\xff",
}

var durationValues = []int64{
	0, 1, -1, 999, 1000, 1001, 1500, 999999, 1000000, 1500000, 1234567, 999999999,
	1000000000, 1000000001, 1500000000, 60000000000, 61000000000, 3599999999999,
	3600000000000, 3601000000000, 5400000000000, 86400000000000, 3723000000005,
	360000000000000, -5400000000000, -1500000000, 100, 12345678, 100000000, 3000000000,
	math.MaxInt64, math.MinInt64, math.MinInt64 + 1, -999, -1000, -999999999,
}

func recordTime(dir string) {
	parse := section{name: "ParseDuration"}
	for _, s := range durationInputs {
		d, err := time.ParseDuration(s)
		record(&parse, outcome(int64(d), err), str(s))
	}
	format := section{name: "DurationString"}
	for _, d := range durationValues {
		format.cases = append(format.cases, []any{d, time.Duration(d).String()})
	}
	write(dir, "time.json",
		"Go 1.19 time. ParseDuration: [s, nanoseconds, error]; DurationString: [nanoseconds, Duration.String()]",
		[]section{parse, format})
}

// --- path -----------------------------------------------------------------------------

var pathInputs = []string{
	"", ".", "..", "/", "//", "///", "/.", "/..", "/../..", "a", "a/", "a//b", "a/./b",
	"a/../b", "a/b/..", "a/b/../..", "a/b/../../..", "../a", "../../a/..", "./a", "./", "a/.",
	"//a//b//", "/a/b/", "/a/../b", "/a/b/../../..", "a/./b/.", "..a", "a..", ".a/.b",
	"a/.../b", "/a/./../b/.", "é/ü/..", "\xff/..", "a\x00/b", "a\\b/..", "~/x/../y", "/./a",
	"a/b/c/../../../..", "abc/def/../../../ghi", "/abc/def/../../../ghi", "../", "../..",
	"/../a/b", "..//..", "a/b/", "a//", "//a", "///a", "/a//", "./../a", "a/./", ".//",
	"/a/b/c", "a/b/c", "/app/db/user", "/a b/c d", "/a\tb", "\u2028/x",
}

var joinInputs = [][]string{
	{}, {""}, {"", ""}, {"a"}, {"a", "b"}, {"a", "", "b"}, {"/", "a"}, {"a", "/b"},
	{"/a/", "/b/"}, {"a", "..", ".."}, {"", "a"}, {"//", "a"}, {"a/", ""}, {"", "/"},
	{".", "."}, {"/", ""}, {"/", "/"}, {"a", "b/../../.."}, {"/a", "../../b"},
	{"/app", "db", "user"}, {"/", "0"}, {"/list", "1"}, {"/", "a.b"}, {"/x", "a/b"},
	{"/x", ""}, {"x", "."}, {"", "", "a"}, {"/", "..", "a"}, {"a", "\xff"},
}

var matchPatterns = []string{
	"/a/*", "*", "/*/b", "/a/?", "/a/[b-d]", "/a/[^b-d]", "/a/[!b]", "[", "a[", "\\", "a\\*",
	"[]a]", "[a-]", "[-a]", "[a\\-z]", "*[a/]/*b", "/x/*", "[é]", "?", "[^a]", "a/[/]", "*/",
	"[x", "*x[", "a*b*c", "*.txt", "", "[\\]]", "[]", "[^]", "\\[", "a?b", "**", "*a",
	"[\xff]", "\xff", "[a-\xff]", "[\\", "[a\\", "[a-\\", "*\\", "a*\\", "[^", "[!]", "[!a]",
	"[a-c-e]", "[a-b-]", "[c-a]", "[c-a]x", "a/*/c", "*/*", "*?", "?*", "[*]", "[?]",
	"\\a", "a\\", "[\\a-\\c]", "[^/]", "[/]", "*b", "a*", "a*/b", "[日-本]", "[^日]", "???",
	"*.yaml", "?.yaml", "[^a]*", "[a-c]x", "\\*", "a[\\]]", "*toml", "*[", "*[]", "*\\[",
	"[\\]", "[a]]", "[]]", "[a-z]*[0-9]", "*a*a*a*a*b",
}

var matchNames = []string{
	"", "a", "b", "/a", "/a/b", "/a/b/c", "/a/c", "/a/bc", "]", "-", "a*", "ab", "a//b",
	"é", "日", "a/", "a//", "*", "[", "\xff", "\xffb", "abc", "axxbyyc", "axxbyy", "a.txt",
	"a/b", "ba/a", "a.yaml", "ab.yaml", "bx", "x", "?", "\\", "c", "d", "a/b/c", "aaaaab",
	"aaaaaaaaaaaaaaaaaaaac", "z9", "footoml", "anything.txt", "bcd",
}

func recordPath(dir string) {
	clean := section{name: "Clean"}
	for _, p := range pathInputs {
		clean.cases = append(clean.cases, []any{str(p), str(path.Clean(p)), str(path.Base(p)), str(path.Dir(p))})
	}
	join := section{name: "Join"}
	for _, elems := range joinInputs {
		args := make([]any, len(elems))
		for i, e := range elems {
			args[i] = str(e)
		}
		join.cases = append(join.cases, []any{args, str(path.Join(elems...))})
	}
	match := section{name: "Match"}
	for _, pattern := range matchPatterns {
		for _, name := range matchNames {
			matched, err := path.Match(pattern, name)
			fileMatched, fileErr := filepath.Match(pattern, name)
			// filepath.Match (Unix) answers as path.Match, but reports a bad pattern
			// only when it gets to the bad part: path.Match checks the rest too.
			if err == nil && (fileErr != nil || fileMatched != matched) || fileErr != nil && err == nil {
				panic("path.Match and filepath.Match disagree on " + pattern)
			}
			match.cases = append(match.cases, []any{str(pattern), str(name), matched, errText(err)})
		}
	}
	write(dir, "path.json",
		"Go 1.19 path (filepath.Match agrees wherever path.Match finds no error). Clean: [p, Clean, Base, Dir]; "+
			"Join: [[elem...], Join]; Match: [pattern, name, matched, error]",
		[]section{clean, join, match})
}

// --- strings --------------------------------------------------------------------------

var caseInputs = []string{
	"ß", "ǰ", "ᾳ", "İ", "ΑΣ", "ﬁ", "ǅ", "ſ", "\u212a", "ΣΑΣ", "hello World", "ᾀ", "ᾈ", "ŉ",
	"ı", "\u1e9e", "\u2c65", "\u2c5f", "\U00010597", "a\xffb", "\xff", "é\xff", "\xed\xa0\x80",
	"ǅ\xc3", "ABC\xff", "abc\xe2\x82", "", "ABC", "abc", "Ǆǅǆ", "ΐ", "ﬀ", "ᾲ",
	"\U0001e922", "\U0001e900",
}

func recordStrings(dir string) {
	cases := section{name: "Case"}
	for _, s := range caseInputs {
		cases.cases = append(cases.cases, []any{str(s), str(strings.ToUpper(s)), str(strings.ToLower(s))})
	}
	// Every rune (surrogates excluded: they are not runes of a valid string) that
	// strings.ToUpper or strings.ToLower changes: [rune, upper, lower].
	runes := section{name: "Runes"}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if 0xd800 <= r && r <= 0xdfff {
			continue
		}
		s := string(r)
		upper, lower := strings.ToUpper(s), strings.ToLower(s)
		if upper != s || lower != s {
			u, _ := utf8.DecodeRuneInString(upper)
			l, _ := utf8.DecodeRuneInString(lower)
			if utf8.RuneCountInString(upper) != 1 || utf8.RuneCountInString(lower) != 1 {
				panic("a rune mapped to several")
			}
			runes.cases = append(runes.cases, []any{r, u, l})
		}
	}
	write(dir, "strings.json",
		"Go 1.19 strings. Case: [s, ToUpper, ToLower]; Runes: [rune, ToUpper, ToLower] for every rune either changes",
		[]section{cases, runes})
}

func main() {
	out := flag.String("out", "../recorded", "directory the JSON files are written to")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		panic(err)
	}
	recordStrconv(*out)
	recordTime(*out)
	recordPath(*out)
	recordStrings(*out)
}
