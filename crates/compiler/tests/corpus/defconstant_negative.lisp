;; test: prog=returns_constant expect=4294967292
;; test: prog=macro_sees_minus_four expect=1
;; test: prog=high_half expect=4294967295
;; Constants are computed with Common Lisp's semantics: (/ -8 2) is -4 for macros, and programs
;; hold -4 as C converts it: the u32 return value is 2^32 - 4, and all 64 bits are set but the
;; low two (an unsigned 64-bit division would have given 2^63 - 4, whose high half is 2^31 - 1).
(defconstant +x+ (/ -8 2))
(defmacro x-as-macros-see-it () (if (= +x+ -4) 1 0))
(defprog returns_constant (:type :xdp)
  +x+)
(defprog macro_sees_minus_four (:type :xdp)
  (x-as-macros-see-it))
(defprog high_half (:type :xdp)
  (>> +x+ 32))
