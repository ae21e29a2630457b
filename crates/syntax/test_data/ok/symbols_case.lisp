xdp_pass
XDP_PASS
Xdp_Pass
|MixedCase|
foo\Bar
|with space|
