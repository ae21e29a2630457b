'a
'(a b)
`(a ,b ,@c)
``(a ,,b)
#'car
#'(lambda (x) x)
(quote x)
',@x
