package hook

import "testing"

func TestPythonCompat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"if bc is not None:", "if bc != None:"},
		{"if bc is None:", "if bc == None:"},
		{"x = a is\tnot  b", "x = a !=  b"},
		{"x = a is notable", "x = a == notable"},
		{"this = island is None", "this = island == None"},
		{"s = 'it is not' # is not", "s = 'it is not' # is not"},
		{`s = "say \"is\" is" is None`, `s = "say \"is\" is" == None`},
		{"s = '''a\nis not\n''' is None", "s = '''a\nis not\n''' == None"},
		{`s = r'\' is x' is None`, `s = r'\' is x' == None`},
		{"é is None", "é == None"},
		{"s = 'unterminated is\nx is y", "s = 'unterminated is\nx == y"},
	}
	for _, tc := range tests {
		if got := pythonCompat(tc.in); got != tc.want {
			t.Errorf("pythonCompat(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPythonCompat(f *testing.F) {
	f.Add("if a is not None:\n  b = 'is'\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := pythonCompat(s)
		if n, m := count(s, '\n'), count(out, '\n'); n != m {
			t.Fatalf("pythonCompat(%q) changed the number of lines: %d → %d", s, n, m)
		}
	})
}

func count(s string, c byte) int {
	n := 0
	for i := range len(s) {
		if s[i] == c {
			n++
		}
	}
	return n
}
