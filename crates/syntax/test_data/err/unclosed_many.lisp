(a (b (c
(d)
