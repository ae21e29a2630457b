;; CLHS chapter 22, the printer: prin1/princ/print, write and its keywords, the *print-...*
;; variables, and the ...-to-string functions.

(check (prin1-to-string 'sym) "SYM")
(check (prin1-to-string :key) ":KEY")
(check (princ-to-string :key) "KEY")
(check (prin1-to-string "s") "\"s\"")
(check (princ-to-string "s") "s")
(check (prin1-to-string #\a) "#\\a")
(check (princ-to-string #\a) "a")
(check (prin1-to-string '(1 (2 . 3) "x")) "(1 (2 . 3) \"x\")")
(check (prin1-to-string '(quote x)) "'X")
(check (prin1-to-string '(function f)) "#'F")
(check (prin1-to-string #(1 a)) "#(1 A)")
(check (prin1-to-string nil) "NIL")
(check (prin1-to-string '()) "NIL")
(check (prin1-to-string 1/2) "1/2")
(check (prin1-to-string -7) "-7")
(check (prin1-to-string 1.5) "1.5")
(check (prin1-to-string 100000000000000000000) "100000000000000000000")
(check (prin1-to-string '|a b|) "|a b|")
(check (prin1-to-string (make-symbol "G")) "#:G")
(check (with-output-to-string (s) (prin1 "x" s)) "\"x\"")
(check (with-output-to-string (s) (princ "x" s)) "x")
(check (with-output-to-string (s) (print 'x s)) "
X ")
(check (with-output-to-string (s) (prin1 1 s) (terpri s) (princ 2 s)) "1
2")
(check (with-output-to-string (s) (write-string "abc" s :start 1)) "bc")
(check (with-output-to-string (s) (write-line "ab" s)) "ab
")
(check (with-output-to-string (s) (write-char #\z s)) "z")
(check (with-output-to-string (s) (fresh-line s) (princ "a" s) (fresh-line s) (fresh-line s)) "a
")
(check (prin1 'x (make-broadcast-stream)) x)
(check (princ "y" (make-broadcast-stream)) "y")

;; *print-base* and *print-radix*
(check (let ((*print-base* 16)) (princ-to-string 255)) "FF")
(check (let ((*print-base* 2)) (prin1-to-string 5)) "101")
(check (let ((*print-base* 8)) (prin1-to-string '(8 9))) "(10 11)")
(check (let ((*print-base* 16) (*print-radix* t)) (prin1-to-string 255)) "#xFF")
(check (let ((*print-base* 2) (*print-radix* t)) (prin1-to-string 5)) "#b101")
(check (let ((*print-base* 8) (*print-radix* t)) (prin1-to-string 8)) "#o10")
(check (let ((*print-base* 3) (*print-radix* t)) (prin1-to-string 4)) "#3r11")
(check (let ((*print-radix* t)) (prin1-to-string 10)) "10.")
(check (let ((*print-base* 16)) (format nil "~a ~s" 255 255)) "FF FF")
(check (let ((*print-base* 16)) (format nil "~d" 255)) "255")

;; *print-case*
(check (let ((*print-case* :downcase)) (prin1-to-string 'hello-world)) "hello-world")
(check (let ((*print-case* :capitalize)) (prin1-to-string 'hello-world)) "Hello-World")
(check (let ((*print-case* :upcase)) (prin1-to-string 'hello)) "HELLO")
(check (let ((*print-case* :downcase)) (prin1-to-string '(a :b))) "(a :b)")
(check (let ((*print-case* :downcase)) (format nil "~a ~s" 'x :y)) "x :y")
(check (let ((*print-case* :downcase)) (prin1-to-string "MIXED Case")) "\"MIXED Case\"")

;; *print-escape*
(check (let ((*print-escape* nil)) (write-to-string "s")) "s")
(check (let ((*print-escape* t)) (write-to-string "s")) "\"s\"")

;; write and write-to-string with keywords
(check (write-to-string 255 :base 16) "FF")
(check (write-to-string 255 :base 16 :radix t) "#xFF")
(check (write-to-string 'abc :case :downcase) "abc")
(check (write-to-string "s" :escape nil) "s")
(check (write-to-string "s" :escape t) "\"s\"")
(check (write-to-string '(1 2) :base 2) "(1 10)")
(check (with-output-to-string (s) (write 'abc :stream s :case :capitalize)) "Abc")
(check (with-output-to-string (s) (write 10 :stream s :base 16 :radix t)) "#xA")
(check (write 'x :stream (make-broadcast-stream)) x)

;; print and the standard output
(check (with-output-to-string (*standard-output*) (princ "out")) "out")
(check (with-output-to-string (*standard-output*) (print 1)) "
1 ")
(check (with-output-to-string (*standard-output*) (write "w")) "\"w\"")
(check (with-output-to-string (*standard-output*) (pprint 'x)) "
X")
(check (let ((s (make-string-output-stream)))
         (write-string "a" s) (write-string "b" s)
         (list (get-output-stream-string s) (get-output-stream-string s)))
       ("ab" ""))
