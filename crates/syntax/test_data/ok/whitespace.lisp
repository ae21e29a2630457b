	(a	b)   
(c
  d)
