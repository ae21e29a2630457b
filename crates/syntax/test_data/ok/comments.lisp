; line comment
a ; trailing comment
#| block comment |# b
#| nested #| inner |# still comment |# c
(d #| inside a list |# e) ;; end
#|
multi-line
|#
