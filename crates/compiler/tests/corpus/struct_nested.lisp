;; test: prog=p expect=12
;; a struct field of struct type embeds it; -ptr gives its address
(defstruct inner (x u32) (y u32))
(defstruct outer (tag u8) (in inner))
(defprog p (:type :xdp)
  (let ((o (make-outer)))
    (setf (inner-y (outer-in-ptr o)) 7)
    (+ (sizeof outer) (load u32 o 8) (- 0 (sizeof inner)) (- (sizeof inner) 7))))
