;;;; The standard macro library's core: small macros every Whistler program may use.
;;;; Loaded into the compiler's evaluator before user code; written in Whistler's Lisp.

(defmacro incf-by (place n)
  "Adds N to PLACE (an alias kept for Whistler sources that spell it so)."
  `(incf ,place ,n))

(defmacro incf-map (map key &optional (delta 1))
  "Adds DELTA (1) to the value of KEY in MAP, creating the entry when a hash map lacks it
(Whistler's name for (incf (getmap MAP KEY) DELTA))."
  `(incf (getmap ,map ,key) ,delta))

(defmacro set-getmap! (map key value)
  "Stores VALUE under KEY in MAP (Whistler's writer for (setf (getmap MAP KEY) VALUE))."
  `(setf (getmap ,map ,key) ,value))
