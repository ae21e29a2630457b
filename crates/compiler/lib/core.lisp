;;;; The standard macro library's core: small macros every Whistler program may use.
;;;; Loaded into the compiler's evaluator before user code; written in Whistler's Lisp.

(defmacro incf-by (place n)
  "Adds N to PLACE (an alias kept for Whistler sources that spell it so)."
  `(incf ,place ,n))
