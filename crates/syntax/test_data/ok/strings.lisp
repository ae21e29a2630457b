"hello"
"with \"quotes\" and \\ backslash"
"multi
line"
""
"\n is just n"
"unicode: héllo ✓"
