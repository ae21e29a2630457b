;; The symbol table installs builtins, special operators and library definitions when a symbol
;; is first seen: whichever comes first, a use or a listing, the symbol is fully defined.
(print (member "STRING-CAPITALIZE" (mapcar #'symbol-name (apropos-list "string-capitalize")) :test #'string=))
(print (fboundp 'nstring-upcase))
(print (special-operator-p 'unwind-protect))
(print (macro-function 'handler-bind))
(print (list (fboundp 'with-open-file) (not (null (macro-function 'with-open-file)))))
(defun string-trim (bag s) (declare (ignore bag)) (list :mine s))
(print (string-trim " " " x "))
(defmacro when (test &body body) `(if ,test (progn ,@body) :not-taken))
(print (when nil 1))
;; :allow-other-keys as an argument is the keyword the lambda-list machinery recognizes.
(defun only-a (&key a) a)
(print (only-a :a 1 :allow-other-keys t :b 2))
(print (symbol-value :allow-other-keys))
