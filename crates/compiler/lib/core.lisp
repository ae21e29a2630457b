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

(defmacro setmap (map key value)
  "Stores VALUE under KEY in MAP (Whistler's name for (setf (getmap MAP KEY) VALUE))."
  `(setf (getmap ,map ,key) ,value))

(defmacro delmap (map key)
  "Deletes KEY from MAP (Whistler's name for (remmap MAP KEY))."
  `(remmap ,map ,key))

(defmacro log2 (value)
  "The integer base-2 logarithm of the unsigned 64-bit VALUE, floor(log2(VALUE)), and 0 for 0:
an unrolled binary search over shifts of 32, 16, 8, 4 and 2 bits (histogram buckets), then the
last bit added without a branch (VALUE is below 4 there). That last step also keeps the result
from being a constant on each path, so the verifier does not tell the paths apart by it (an
array map key that is a known constant is tracked precisely, which would make it walk all 32
paths) and merges them."
  (let ((v (gensym "%log2-value-"))
        (result (gensym "%log2-")))
    `(let ((,v ,value)
           (,result 0))
       ,@(mapcar (lambda (shift)
                   `(when (>= ,v ,(ash 1 shift))
                      (setq ,v (>> ,v ,shift))
                      (setq ,result (+ ,result ,shift))))
                 '(32 16 8 4 2))
       (+ ,result (>> ,v 1)))))
