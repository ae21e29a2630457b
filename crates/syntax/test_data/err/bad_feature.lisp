(a #+ )
#+(bogus x) (b)
(c)
#-
