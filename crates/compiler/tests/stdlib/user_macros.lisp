;;; User macros at top level: a macro that expands to `defmap`, a macro that defines a macro,
;;; a `defconstant` used while expanding, and a `defvar` read by the program.

(defmacro defcounter (name)
  `(defmap ,name :type :array :key-size 4 :value-size 8 :max-entries 1))

(defmacro defscaler (name factor)
  `(defmacro ,name (x) `(* ,',factor ,x)))

(defcounter hits)
(defscaler triple 3)

(defconstant +base+ 20)
(defmacro base-plus (n) (+ +base+ n))

(defvar *offset* 1)

(defprog counted (:type :xdp :license "GPL")
  (incf (getmap hits 0))
  (+ (triple (base-plus 1)) *offset*))

;; An uninterned symbol from the macro never captures the user's variable of the same name.
(defmacro plus-one (x)
  (let ((y (make-symbol "y")))
    `(let ((,y 1)) (+ ,y ,x))))

(defprog hygienic (:type :xdp :license "GPL")
  (let ((y 40))
    (plus-one y)))

;; A `defconstant` whose value is a list is for macros; one computed by a Lisp function is an
;; integer constant of the program too.
(defconstant +small-primes+ '(2 3 5 7))
(defun sum-of (numbers) (reduce #'+ numbers))
(defconstant +prime-sum+ (sum-of +small-primes+))
(defmacro prime-p (n)
  `(or ,@(mapcar (lambda (p) `(= ,n ,p)) +small-primes+)))

(defprog primes (:type :xdp :license "GPL")
  (let ((count 0))
    (dotimes (i 10)
      (when (prime-p i)
        (incf count)))
    (+ (* count 100) +prime-sum+)))
