( . a)
(a . )
(a . b c)
(a . b . c)
.
(.. b)
