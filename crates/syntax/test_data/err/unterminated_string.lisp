(format t "hello~%)
(next form)
