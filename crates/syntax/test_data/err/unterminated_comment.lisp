(a)
#| this comment #| nests |# but never ends
(b)
